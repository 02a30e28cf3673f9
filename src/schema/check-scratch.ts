// `schema check` without a live database: Nova's models-versus-migrations test, as a command. Both
// lines are built on a fresh scratch database of each server and compared with the declared models.
import type { Config } from '../config/index.js';
import type { MigrationLine } from '../migrate/lines.js';
import { syncLine } from '../migrate/migrator.js';
import { readPlan } from '../migrate/plan.js';
import type { LineTarget } from '../migrate/target.js';
import type { LineId } from '../migrate/types.js';
import { type CheckResult, dialectLabel } from '../report/checks.js';
import type { DatabaseUrl } from '../url/index.js';
import { shapeFromDatabase, shapeFromModels } from './artefacts.js';
import { type DatabaseFindings, driftCheck, integrityCheck, Recorder } from './check-recorder.js';
import { diffSchemas } from './drift.js';
import { type DeclaredSchema, HEAD_MODELS, PLANNED_REMOVALS, type PlannedRemoval } from './models.js';
import { serverIdentity, withScratchDatabase } from '../db/scratch.js';

/** What the scratch check needs (a part of `SchemaCheckOptions`). */
export interface ScratchCheckInputs {
  readonly lines: Readonly<Record<LineId, MigrationLine>>;
  /** `connectTimeoutMs` is the scratch databases' (`--connect-timeout`). */
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs' | 'connectTimeoutMs'>;
  readonly scratchServers: readonly DatabaseUrl[];
  /** @default HEAD_MODELS */
  readonly models?: Readonly<Record<LineId, DeclaredSchema>> | undefined;
  /** @default PLANNED_REMOVALS */
  readonly removals?: readonly PlannedRemoval[] | undefined;
  readonly onProgress?: ((text: string) => void) | undefined;
}

/** Both lines built on a scratch database of each server, compared with the declared models. */
export async function checkScratch(options: ScratchCheckInputs): Promise<{ checks: CheckResult[]; databases: DatabaseFindings[] }> {
  const checks: CheckResult[] = [];
  const databases: DatabaseFindings[] = [];
  const models = options.models ?? HEAD_MODELS;
  await Promise.all(
    options.scratchServers.map(async (server) => {
      for (const line of [options.lines.api, options.lines.cell]) {
        const subject = `scratch ${dialectLabel(server.dialect)} ${line.title} database`;
        const rec = new Recorder(subject);
        options.onProgress?.(`building the ${line.title} line on a scratch ${dialectLabel(server.dialect)} database (${serverIdentity(server)})`);
        const began = Date.now();
        try {
          await withScratchDatabase(server, `check_${line.id}`, async (scratch) => {
            const target: LineTarget = { registry: scratch.registry, url: scratch.url, line, label: subject, config: options.config };
            let started = Date.now();
            try {
              const result = await syncLine(target);
              rec.add('migrations apply', 'passed', `${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} applied to an empty database`, [], started);
            } catch (error) {
              rec.add('migrations apply', 'failed', (error as Error).message, [], started);
              rec.add('ledger integrity', 'skipped', 'the migrations did not apply', [], Date.now());
              rec.add('schema matches the models', 'skipped', 'the migrations did not apply', [], Date.now());
              return;
            }
            started = Date.now();
            const plan = await readPlan(target);
            integrityCheck(rec, plan.problems, started);
            started = Date.now();
            const handle = scratch.registry.open(scratch.url);
            const actual = shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), server.dialect);
            const expectedLabel = `the declared models (src/schema/models.ts) of the ${line.title} line`;
            const report = diffSchemas(line.id, shapeFromModels(models[line.id]), actual, options.removals ?? PLANNED_REMOVALS);
            driftCheck(rec, 'schema matches the models', expectedLabel, `the ${line.title} line at ${plan.head ?? 'none'} on ${serverIdentity(server)}`, report, started);
            databases.push({
              subject,
              line: line.id,
              database: serverIdentity(server),
              current: plan.current,
              head: plan.head,
              pending: plan.pending.map((f) => f.name),
              problems: plan.problems,
              drift: { ...report, expected: expectedLabel },
            });
          }, { onLeftBehind: options.onProgress, connectTimeoutMs: options.config.connectTimeoutMs });
        } catch (error) {
          // The scratch database itself could not be made or dropped: this server could not be checked.
          if (rec.checks.length === 0) {
            rec.add('migrations apply', 'error', (error as Error).message, [], began);
            for (const name of ['ledger integrity', 'schema matches the models']) rec.add(name, 'skipped', 'no scratch database', [], Date.now());
          } else {
            rec.add('scratch database', 'error', (error as Error).message, [], began);
          }
        }
        checks.push(...rec.checks);
      }
    }),
  );
  return { checks, databases };
}
