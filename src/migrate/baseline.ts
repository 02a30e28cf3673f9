// `baseline VERSION`: adopt a database that cellsdb did not build (issue 15). The live schema is
// compared with the line replayed to VERSION on a scratch database (the drift engine of
// `schema check`): every expected table, column, primary key, index and foreign key must be there.
// Indexes and foreign keys are matched by shape as well as by name (other software names its
// constraints its own way); extra objects are listed and allowed (other software owns them). Only
// then are the line's migrations up to VERSION recorded as applied, with their checksums, in one
// transaction. Otherwise nothing is written and the difference is the error (exit 2).
import type { Config } from '../config/index.js';
import { CellsdbError, InvalidInputError } from '../errors.js';
import { shapeFromDatabase } from '../schema/artefacts.js';
import { replayedShape, type Replays } from '../schema/check-live.js';
import { allowExtras, type AllowedItem, diffSchemas, type DriftItem, matchByShape } from '../schema/drift.js';
import type { DatabaseUrl } from '../url/index.js';
import { Ledger } from './ledger.js';
import { planAim } from './plan.js';
import { withLineLock } from './lock.js';
import type { LineTarget } from './target.js';

/** Exit code of a baseline whose database does not match the line at VERSION. */
export const BASELINE_MISMATCH_EXIT = 2;

/** The live schema is not the line's at VERSION: nothing was recorded. Exit 2, with the diff. */
export class BaselineMismatchError extends CellsdbError {
  constructor(
    message: string,
    readonly drift: readonly DriftItem[],
  ) {
    super(message, { exitCode: BASELINE_MISMATCH_EXIT });
  }
}

export interface BaselineOptions {
  /** Compare and report; record nothing. */
  readonly dryRun?: boolean | undefined;
  /** Where the line is replayed: the first server of the database's dialect, else its own server. */
  readonly scratchServers?: readonly DatabaseUrl[] | undefined;
  /** Replays shared by the databases of one run (one per server, line and version). */
  readonly replays?: Replays | undefined;
  readonly onProgress?: ((text: string) => void) | undefined;
}

export interface BaselineResult {
  readonly version: string;
  /** The migrations recorded as applied (to be recorded, with `dryRun`); none when already baselined. */
  readonly recorded: readonly string[];
  /** Objects of the database that the line does not have, and objects it has under other names. */
  readonly allowed: readonly AllowedItem[];
  /** The ledger already recorded exactly these migrations: nothing to do. */
  readonly already: boolean;
  readonly dryRun: boolean;
}

/** Adopts one database of `target.line` at `version` (a name or a number). See the file comment. */
export async function baselineLine(
  target: LineTarget & { readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs' | 'connectTimeoutMs'> },
  version: string,
  options: BaselineOptions = {},
): Promise<BaselineResult> {
  const aim = planAim(target.line, version);
  const goal = aim.target;
  if (!goal) throw new InvalidInputError(`the ${target.line.title} line has no migrations to baseline`);
  const files = aim.files.filter((f) => f.number <= goal.number);
  const dryRun = options.dryRun === true;
  const handle = await target.registry.connect(target.url, { purpose: 'migrate', max: 2 });
  const ledger = new Ledger(handle.sequelize, target.line.ledgerTable);

  const rows = await handle.run(() => ledger.rows());
  if (rows.length > 0) {
    const same = rows.length === files.length && files.every((f) => rows.some((r) => r.name === f.name && r.state === 'applied' && r.checksum === f.checksum));
    if (same) return { version: goal.name, recorded: [], allowed: [], already: true, dryRun };
    throw new InvalidInputError(
      `${target.label} (${target.url.masked}) already has a cellsdb ${target.line.title} ledger (${rows.length} row${rows.length === 1 ? '' : 's'}, at ${rows.at(-1)?.name ?? '?'}): baseline adopts only a database without one; see '${target.line.command.replace(/ sync$/, ' status')}'`,
    );
  }

  options.onProgress?.(`${target.label}: replaying the ${target.line.title} line to ${goal.name} on a scratch database`);
  const expected = await replayedShape(
    { config: target.config, registry: target.registry, scratchServers: options.scratchServers ?? [], onProgress: options.onProgress },
    options.replays ?? new Map(),
    target.url,
    target.line,
    goal.name,
  );
  const actual = shapeFromDatabase(await handle.run((s) => handle.dialect.describeSchema(s)), target.url.dialect);
  const report = allowExtras(matchByShape(diffSchemas(target.line.id, expected, actual)), 'not part of the line: another program’s, left alone');
  if (report.drift.length > 0) {
    const n = report.drift.length;
    throw new BaselineMismatchError(
      `${target.label} (${target.url.masked}) does not match the ${target.line.title} line at ${goal.name}: ${n} difference${n === 1 ? '' : 's'} ` +
        `(${report.drift.map((d) => d.text).join('; ')}). Nothing was recorded: fix the schema, or baseline at the version it matches`,
      report.drift,
    );
  }
  if (dryRun) return { version: goal.name, recorded: files.map((f) => f.name), allowed: report.allowed, already: false, dryRun };

  await withLineLock(target, handle, async () => {
    // Read again under the lock: another baseline or sync may have written a ledger meanwhile.
    if ((await handle.run(() => ledger.rows())).length > 0) throw new InvalidInputError(`${target.label}: another cellsdb run wrote a ${target.line.title} ledger meanwhile; nothing was recorded`);
    await handle.run(() => ledger.ensure());
    await handle.run((s) => s.transaction((t) => ledger.recordBaselined(files, t)));
  });
  return { version: goal.name, recorded: files.map((f) => f.name), allowed: report.allowed, already: false, dryRun };
}
