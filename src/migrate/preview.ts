// `sync --dry-run`: the SQL each pending migration of the sync plan would send, rehearsed through
// the migrator itself on a scratch database. It reads the same plan as `sync` (plan.ts), so it
// refuses what `sync` would refuse and previews exactly what `sync` would apply.
import { dialectFor } from '../db/dialects.js';
import { InvalidInputError } from '../errors.js';
import { serverIdentity, withScratchDatabase } from '../db/scratch.js';
import { splitStatements } from '../sql/tokenizer.js';
import type { DatabaseUrl, Dialect } from '../url/index.js';
import { loadMigration, runsInTransaction } from './apply.js';
import type { CapturedStatement } from './capture.js';
import type { MigrationFile, MigrationLine } from './lines.js';
import { syncLine } from './migrator.js';
import { planAim, planRefusal, readPlan } from './plan.js';
import type { LineTarget } from './target.js';

/** One pending migration and the SQL it would send. */
export interface PreviewedMigration {
  readonly name: string;
  /** Whether it runs in one transaction with its ledger row (PostgreSQL, unless it opts out). */
  readonly transactional: boolean;
  readonly statements: readonly string[];
}

/** What `sync --dry-run` shows for one database. */
export interface LinePreview {
  readonly line: MigrationLine['id'];
  readonly label: string;
  /** Masked. */
  readonly database: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly migrations: readonly PreviewedMigration[];
}

/**
 * Rehearsals shared by the databases of one preview run: databases on one server at the same
 * version would send the same SQL, so one scratch database serves them all.
 */
export type PreviewCache = Map<string, Promise<{ scratchName: string; migrations: PreviewedMigration[] }>>;

export interface PreviewOptions {
  /** Where the scratch database is made. @default the server of the database previewed */
  readonly scratchServer?: DatabaseUrl | undefined;
  readonly cache?: PreviewCache | undefined;
  /** Told, in one line, when a scratch database could not be dropped (see `withScratchDatabase`). */
  readonly onLeftBehind?: ((message: string) => void) | undefined;
}

const asText = (s: CapturedStatement, dialect: Dialect): string[] =>
  splitStatements(s.sql, dialect).map((sql) => (s.bind === undefined ? sql : `${sql} -- bind: ${JSON.stringify(s.bind)}`));

async function rehearse(
  target: LineTarget,
  server: DatabaseUrl,
  from: string | null,
  goal: MigrationFile,
  pending: readonly MigrationFile[],
  onLeftBehind: PreviewOptions['onLeftBehind'],
): Promise<{ scratchName: string; migrations: PreviewedMigration[] }> {
  return withScratchDatabase(server, `preview_${target.line.id}`, async (scratch) => {
    const scratchTarget: LineTarget = { registry: scratch.registry, url: scratch.url, line: target.line, label: `scratch copy of ${target.label}`, config: target.config };
    if (from !== null) await syncLine(scratchTarget, from);
    const captured = new Map<string, string[]>(pending.map((f) => [f.name, []]));
    await syncLine(scratchTarget, goal.name, { onStatement: (migration, statement) => captured.get(migration)?.push(...asText(statement, server.dialect)) });
    const transactionalDdl = dialectFor(server.dialect).transactionalDdl;
    const migrations: PreviewedMigration[] = [];
    for (const f of pending) migrations.push({ name: f.name, transactional: runsInTransaction(await loadMigration(f), transactionalDdl), statements: captured.get(f.name) ?? [] });
    return { scratchName: scratch.name, migrations };
  }, { onLeftBehind, connectTimeoutMs: target.registry.connectTimeoutMs });
}

/**
 * The SQL that `sync` would send to one database, per pending migration, without changing it: the
 * database is only read (its ledger), and the pending migrations are rehearsed on a scratch
 * database on the same server, brought first to the database's current version, then dropped.
 * Refuses what `sync` would refuse (a dirty or inconsistent ledger, an unknown VERSION, a
 * downgrade). A blocker migration passes on the empty scratch database: `upgrade check` says
 * whether it would pass on the real one.
 */
export async function previewLine(target: LineTarget, version?: string, options: PreviewOptions = {}): Promise<LinePreview> {
  const plan = await readPlan(target, planAim(target.line, version));
  const refused = planRefusal(plan, 'a sync would refuse, so there is nothing to preview');
  if (refused) throw refused;
  const { line, current: from, target: goal, pending } = plan;
  const base = { line: line.id, label: target.label, database: target.url.masked, from };
  if (!goal || pending.length === 0) return { ...base, to: from, migrations: [] };

  const server = options.scratchServer ?? target.url;
  if (server.dialect !== target.url.dialect) {
    throw new InvalidInputError(`the scratch server for a preview of ${target.url.masked} must be ${target.url.dialect}, not ${server.dialect}`);
  }
  const key = `${serverIdentity(server)}|${line.directory}|${from ?? ''}|${goal.name}`;
  const cache = options.cache;
  let rehearsal = cache?.get(key);
  if (!rehearsal) {
    rehearsal = rehearse(target, server, from, goal, pending, options.onLeftBehind);
    cache?.set(key, rehearsal);
  }
  const { scratchName, migrations } = await rehearsal;
  // Catalog queries name the database they run in: show the real one, not the scratch copy.
  const real = (sql: string) => sql.split(scratchName).join(target.url.database);
  return { ...base, to: goal.name, migrations: migrations.map((m) => ({ ...m, statements: m.statements.map(real) })) };
}
