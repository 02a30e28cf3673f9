import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Config } from '../config/index.js';
import type { SessionConnection } from '../db/dialect.js';
import type { ConnectionRegistry, DatabaseHandle } from '../db/registry.js';
import { translateDriverError } from '../db/translate-error.js';
import {
  CellsdbError,
  DirtyLedgerError,
  InvalidInputError,
  LedgerIntegrityError,
  LockTimeoutError,
  MigrationBlockedError,
  MigrationFailedError,
} from '../errors.js';
import type { DatabaseUrl } from '../url.js';
import { Ledger, type LedgerRow } from './ledger.js';
import { listMigrationFiles, type MigrationFile, type MigrationLine, resolveVersion } from './lines.js';
import type { MigrationContext, MigrationModule } from './types.js';

/** Progress a caller may show: waiting for the lock, a migration starting or done. */
export type MigratorEvent =
  | { readonly type: 'lock-wait'; readonly holder: string | undefined; readonly timeoutMs: number }
  | { readonly type: 'migrating'; readonly name: string }
  | { readonly type: 'migrated'; readonly name: string; readonly ms: number };

/** Where and how to run one line against one database. */
export interface LineTarget {
  readonly registry: ConnectionRegistry;
  readonly url: DatabaseUrl;
  readonly line: MigrationLine;
  /** For messages: 'API database', or the cell's name. */
  readonly label: string;
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs'>;
  readonly onEvent?: (event: MigratorEvent) => void;
}

/** One SQL statement a migration sent, as the driver received it (bind parameters apart). */
export interface CapturedStatement {
  readonly sql: string;
  /** Bind parameters, when the statement had any. */
  readonly bind?: unknown;
}

/** Optional behaviour of {@link syncLine}; without it, a sync behaves as it always did. */
export interface SyncOptions {
  /**
   * Called with every statement a migration's `up` sends, in order, while it runs: neither the
   * ledger's nor the lock's statements, nor the transaction's own. Used by the SQL preview
   * (`sync --dry-run`, on a scratch database) and by `schema lint`.
   */
  readonly onStatement?: (migration: string, statement: CapturedStatement) => void;
}

/** What a sync did. Versions are migration names; `null` is an empty database. */
export interface SyncResult {
  readonly from: string | null;
  readonly to: string | null;
  readonly applied: readonly string[];
}

/** One problem found when comparing the ledger with the files. */
export interface LedgerProblem {
  readonly kind: 'dirty' | 'missing' | 'changed' | 'out-of-order';
  readonly name: string;
  readonly message: string;
}

/** The state of each migration of a line in one database. */
export interface MigrationState {
  readonly name: string;
  readonly state: 'applied' | 'pending' | 'started' | 'missing';
  readonly appliedAt: Date | null;
}

/** `status` of a line in one database. */
export interface LineStatus {
  readonly line: MigrationLine['id'];
  readonly label: string;
  readonly database: string;
  readonly current: string | null;
  readonly head: string | null;
  readonly migrations: readonly MigrationState[];
  readonly problems: readonly LedgerProblem[];
}

/** Compares the ledger with the files: dirty, missing, changed and out-of-order migrations. */
export function ledgerProblems(line: MigrationLine, files: readonly MigrationFile[], rows: readonly LedgerRow[], label: string): LedgerProblem[] {
  const problems: LedgerProblem[] = [];
  const byName = new Map(files.map((f) => [f.name, f]));
  const applied = new Set(rows.map((r) => r.name));
  const flag = line.id === 'api' ? 'api_db sync' : 'db sync';
  for (const row of rows) {
    const file = byName.get(row.name);
    if (row.state === 'started') {
      problems.push({
        kind: 'dirty',
        name: row.name,
        message:
          `${line.title} migration ${row.name} started on ${label}${row.startedAt ? ` at ${row.startedAt.toISOString()}` : ''}` +
          `${row.appliedBy ? ` (by ${row.appliedBy})` : ''} and never finished; its DDL may be half done. Compare the schema with the migration, ` +
          `then run 'cellsdb ${flag} --mark-applied ${row.name}' if it completed, or undo its partial changes and run 'cellsdb ${flag} --mark-pending ${row.name}'`,
      });
    }
    if (!file) {
      problems.push({
        kind: 'missing',
        name: row.name,
        message: `${line.title} migration ${row.name} is applied on ${label} but missing from ${line.directory}: the database is ahead of this code, or the file was removed`,
      });
    } else if (row.state === 'applied' && file.checksum !== row.checksum) {
      problems.push({
        kind: 'changed',
        name: row.name,
        message: `${line.title} migration ${row.name} was changed after it was applied on ${label} (checksum differs): restore the file as it was applied, and put new changes in a new migration`,
      });
    }
  }
  const lastApplied = files.reduce((last, f, i) => (applied.has(f.name) ? i : last), -1);
  for (const f of files.slice(0, lastApplied + 1)) {
    if (!applied.has(f.name)) {
      problems.push({
        kind: 'out-of-order',
        name: f.name,
        message: `${line.title} migration ${f.name} is pending on ${label} but sorts before migrations already applied: renumber it after the last applied one`,
      });
    }
  }
  return problems;
}

function throwProblems(problems: readonly LedgerProblem[]): void {
  const first = problems[0];
  if (!first) return;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}; see 'status')` : '';
  const ErrorClass = first.kind === 'dirty' ? DirtyLedgerError : LedgerIntegrityError;
  throw new ErrorClass(`${first.message}${more}; nothing was run`);
}

function currentVersion(files: readonly MigrationFile[], rows: readonly LedgerRow[]): string | null {
  const applied = new Set(rows.filter((r) => r.state === 'applied').map((r) => r.name));
  let current: string | null = null;
  for (const f of files) if (applied.has(f.name)) current = f.name;
  // A ledger ahead of the code still has a current version: the highest name it holds.
  const maxRow = rows.filter((r) => r.state === 'applied').map((r) => r.name).sort().at(-1) ?? null;
  if (maxRow !== null && (current === null || maxRow > current)) return maxRow;
  return current;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The name of a line's migration lock in one database (PostgreSQL hashes it to an advisory key). */
export function lineLockName(database: string, line: MigrationLine['id']): string {
  return `cellsdb:${database}:${line}`;
}

function lockName(target: LineTarget): string {
  return lineLockName(target.url.database, target.line.id);
}

/**
 * Runs `work` holding the line's lock on a dedicated session. PostgreSQL `pg_try_advisory_lock` or
 * MariaDB `GET_LOCK`, polled with backoff until `migrationLockWaitMs`; released and closed in `finally`.
 */
async function withLineLock<T>(target: LineTarget, handle: DatabaseHandle, work: (session: SessionConnection, name: string) => Promise<T>): Promise<T> {
  const name = lockName(target);
  const appName = `cellsdb ${target.line.id} pid ${process.pid} on ${hostname()}`.slice(0, 63);
  const session = await target.registry.openSession(target.url, appName);
  try {
    const deadline = Date.now() + target.config.migrationLockWaitMs;
    let delay = 50;
    let announced = false;
    while (!(await handle.dialect.tryLock(session, name))) {
      const holder = await handle.dialect.describeLockHolder(session, name).catch(() => undefined);
      if (Date.now() >= deadline) {
        throw new LockTimeoutError(
          `the ${target.line.title} migration lock on ${target.label} (${target.url.masked}) is held by ${holder ?? 'another session'}; ` +
            `gave up after ${target.config.migrationLockWaitMs / 1000} s (--lock-timeout)`,
        );
      }
      if (!announced) {
        announced = true;
        target.onEvent?.({ type: 'lock-wait', holder, timeoutMs: target.config.migrationLockWaitMs });
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(1000, Math.round(delay * 1.6));
    }
    try {
      return await work(session, name);
    } finally {
      await handle.dialect.unlock(session, name).catch(() => undefined);
    }
  } finally {
    await session.close();
  }
}

async function connectForMigrations(target: LineTarget): Promise<DatabaseHandle> {
  return target.registry.connect(target.url, {
    purpose: 'migrate',
    max: 2,
    timeouts: { lockWaitMs: target.config.ddlLockTimeoutMs, statementTimeoutMs: target.config.statementTimeoutMs },
  });
}

async function loadMigration(file: MigrationFile): Promise<MigrationModule> {
  const mod = (await import(pathToFileURL(file.path).href)) as Partial<MigrationModule>;
  if (typeof mod.up !== 'function') throw new CellsdbError(`migration ${file.name} (${file.path}) exports no 'up' function`);
  return mod as MigrationModule;
}

/**
 * Brings one line of one database up to `version` (default: the newest), under the line's lock.
 * Refuses, before running anything, a dirty ledger, a missing, changed or out-of-order migration,
 * an unknown version, and a version behind the current one (no downgrades, as Nova).
 */
export async function syncLine(target: LineTarget, version?: string, options: SyncOptions = {}): Promise<SyncResult> {
  const { line } = target;
  const files = listMigrationFiles(line);
  const goal = version !== undefined ? resolveVersion(line, files, version) : files.at(-1);
  const handle = await connectForMigrations(target);
  // The migration whose `up` is running, while statements are captured.
  let capturing: string | undefined;
  const capture = options.onStatement;
  const hookName = `cellsdb-capture-${process.pid}-${Date.now()}-${Math.random()}`;
  if (capture) {
    handle.sequelize.addHook('afterQuery', hookName, (queryOptions, query) => {
      const sql = (query as unknown as { sql?: unknown }).sql;
      if (capturing === undefined || typeof sql !== 'string') return;
      const bind = (queryOptions as { bind?: unknown }).bind;
      capture(capturing, bind === undefined ? { sql } : { sql, bind });
    });
  }
  try {
    return await syncUnderLock(target, handle, files, goal, (file, up) => {
      if (!capture) return up();
      capturing = file.name;
      return up().finally(() => {
        capturing = undefined;
      });
    });
  } finally {
    if (capture) handle.sequelize.removeHook('afterQuery', hookName);
  }
}

async function syncUnderLock(
  target: LineTarget,
  handle: DatabaseHandle,
  files: readonly MigrationFile[],
  goal: MigrationFile | undefined,
  around: (file: MigrationFile, up: () => Promise<void>) => Promise<void>,
): Promise<SyncResult> {
  const { line, label, url } = target;
  return withLineLock(target, handle, async (session, name) => {
    const ledger = new Ledger(handle.sequelize, line.ledgerTable);
    const rows = await handle.run(() => ledger.rows());
    throwProblems(ledgerProblems(line, files, rows, label));
    const from = currentVersion(files, rows);
    const applied = new Set(rows.map((r) => r.name));
    if (goal && from !== null && goal.name < from) {
      throw new InvalidInputError(
        `cannot go back to ${line.title} version ${goal.name}: ${label} is at ${from} and cellsdb does not downgrade (as Nova); restore a backup to go back`,
      );
    }
    const toApply = files.filter((f) => !applied.has(f.name) && goal !== undefined && f.number <= goal.number);
    if (toApply.length === 0) return { from, to: from, applied: [] };
    await handle.run(() => ledger.ensure());

    const context: Omit<MigrationContext, 'transaction'> = {
      sequelize: handle.sequelize,
      queryInterface: handle.sequelize.getQueryInterface(),
      dialect: handle.dialect,
      databaseLabel: label,
    };
    const apply = async (file: MigrationFile): Promise<void> => {
      const mod = await loadMigration(file);
      if (handle.dialect.transactionalDdl && mod.transactional !== false) {
        // The migration and its ledger row commit together: a crash leaves neither.
        await handle.sequelize.transaction(async (transaction) => {
          await handle.dialect.applyTransactionTimeouts(handle.sequelize, transaction, {
            lockWaitMs: target.config.ddlLockTimeoutMs,
            statementTimeoutMs: target.config.statementTimeoutMs,
          });
          await around(file, () => mod.up({ ...context, transaction }));
          await ledger.recordApplied(file.name, file.checksum, transaction);
        });
      } else {
        // DDL commits as it goes: the started-marker makes a crash visible to the next run.
        await ledger.recordStarted(file.name, file.checksum);
        try {
          await around(file, () => mod.up({ ...context, transaction: undefined }));
        } catch (error) {
          // A blocker refuses before it changes anything: nothing is half done, so no dirty marker.
          if (error instanceof MigrationBlockedError) await ledger.remove(file.name);
          throw error;
        }
        await ledger.recordApplied(file.name, file.checksum);
      }
    };

    // Loaded only when there is something to apply (status and version never need it).
    const { MigrationError, Umzug } = await import('umzug');
    type UmzugMigrationError = InstanceType<typeof MigrationError>;
    const umzug = new Umzug<object>({
      migrations: toApply.map((file) => ({ name: file.name, path: file.path, up: () => apply(file) })),
      storage: ledger,
      context: {},
      logger: undefined,
    });
    const started = new Map<string, number>();
    umzug.on('migrating', async ({ name: migration }) => {
      if (!(await handle.dialect.holdsLock(session, name))) {
        throw new LockTimeoutError(`lost the ${line.title} migration lock on ${label} (${url.masked}) before ${migration}: the lock connection dropped; nothing more was run`);
      }
      started.set(migration, Date.now());
      target.onEvent?.({ type: 'migrating', name: migration });
    });
    umzug.on('migrated', ({ name: migration }) => {
      target.onEvent?.({ type: 'migrated', name: migration, ms: Date.now() - (started.get(migration) ?? Date.now()) });
    });
    const done: string[] = [];
    umzug.on('migrated', ({ name: migration }) => void done.push(migration));
    try {
      await umzug.up();
    } catch (error) {
      const migration = error instanceof MigrationError ? (error as UmzugMigrationError & { migration: { name: string } }).migration.name : undefined;
      const cause = error instanceof MigrationError ? error.cause : error;
      if (cause instanceof MigrationBlockedError) throw new MigrationBlockedError(`${cause.message} (blocker ${migration})`, { cause });
      const translated = translateDriverError(cause, url.masked);
      if (migration === undefined) throw translated;
      throw new MigrationFailedError(
        `${line.title} migration ${migration} failed on ${label}: ${translated.message}` +
          (handle.dialect.transactionalDdl ? '; it was rolled back' : `; run '${line.command}' again after checking the schema`),
        migration,
        translated,
      );
    }
    return { from, to: done.at(-1) ?? from, applied: done };
  });
}

/** Applied, pending and dirty migrations of one line in one database, with any ledger problems. No lock is taken. */
export async function lineStatus(target: LineTarget): Promise<LineStatus> {
  const files = listMigrationFiles(target.line);
  const handle = await target.registry.connect(target.url);
  const rows = await handle.run(() => new Ledger(handle.sequelize, target.line.ledgerTable).rows());
  const byName = new Map(rows.map((r) => [r.name, r]));
  const migrations: MigrationState[] = files.map((f) => {
    const row = byName.get(f.name);
    return { name: f.name, state: row ? row.state : 'pending', appliedAt: row?.appliedAt ?? null };
  });
  const known = new Set(files.map((f) => f.name));
  for (const row of rows) if (!known.has(row.name)) migrations.push({ name: row.name, state: 'missing', appliedAt: row.appliedAt });
  return {
    line: target.line.id,
    label: target.label,
    database: target.url.masked,
    current: currentVersion(files, rows),
    head: files.at(-1)?.name ?? null,
    migrations,
    problems: ledgerProblems(target.line, files, rows, target.label),
  };
}

/**
 * Resolves a dirty or doubtful ledger entry by hand: `applied` records the migration as done (with
 * the checksum of the file now on disk), `pending` removes its row so that the next sync runs it.
 */
export async function markMigration(target: LineTarget, migration: string, state: 'applied' | 'pending'): Promise<void> {
  const files = listMigrationFiles(target.line);
  const handle = await connectForMigrations(target);
  await withLineLock(target, handle, async () => {
    const ledger = new Ledger(handle.sequelize, target.line.ledgerTable);
    if (state === 'applied') {
      const file = resolveVersion(target.line, files, migration);
      await handle.run(async () => {
        await ledger.ensure();
        await ledger.recordApplied(file.name, file.checksum);
      });
      return;
    }
    const rows = await handle.run(() => ledger.rows());
    const name = rows.find((r) => r.name === migration)?.name ?? resolveVersion(target.line, files, migration).name;
    const removed = await handle.run(() => ledger.remove(name));
    if (!removed) throw new InvalidInputError(`${target.line.title} migration ${name} has no ledger entry on ${target.label}: nothing to mark pending`);
  });
}
