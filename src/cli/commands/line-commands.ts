import type { Argv } from 'yargs';
import {
  type Config,
  createFailpoints,
  InvalidInputError,
  LINES,
  type LineId,
  type LineStatus,
  type LineTarget,
  lineFromDirectory,
  lineStatus,
  markMigration,
  type MigrationLine,
  type MigratorEvent,
  requireApiDb,
  requireCellDb,
  type SyncResult,
  syncLine,
} from '../../index.js';
import type { LeafCommand } from '../command.js';
import type { Output } from '../output.js';
import { previewOne } from '../sql-preview.js';
import type { GlobalArgs, Runtime } from '../runtime.js';

/** The line a command works on, with `--api-migrations-dir` / `--cell-migrations-dir` applied. */
export function lineFor(id: LineId, config: Pick<Config, 'migrationDirs'>): MigrationLine {
  const dir = config.migrationDirs[id];
  return dir ? lineFromDirectory(LINES[id], dir) : LINES[id];
}

/** Turns migrator events into notices on stderr. */
export function reportEvents(output: Output, label: string): (event: MigratorEvent) => void {
  return (event) => {
    if (event.type === 'lock-wait') {
      output.notice(`${label}: migration lock held by ${event.holder ?? 'another session'}; waiting up to ${event.timeoutMs / 1000} s (--lock-timeout)`);
    } else if (event.type === 'migrating') {
      output.notice(`${label}: applying ${event.name}`);
    } else {
      output.notice(`${label}: applied ${event.name} in ${event.ms} ms`);
    }
  };
}

/** The target of a line command on one database: the API database, or the local cell database (`--db`). */
export async function localTarget(rt: Runtime, id: LineId): Promise<LineTarget> {
  const config = await rt.config();
  const url = id === 'api' ? requireApiDb(config) : requireCellDb(config);
  const label = id === 'api' ? 'API database' : 'cell database';
  return { registry: rt.registry, url, line: lineFor(id, config), label, config, onEvent: reportEvents(rt.output, label), failpoint: createFailpoints(config.failpoint) };
}

export interface SyncArgs extends GlobalArgs {
  /** The positional VERSION (not `version`: that key is yargs' global --version flag). */
  readonly VERSION?: string | undefined;
  readonly 'mark-applied'?: string | undefined;
  readonly 'mark-pending'?: string | undefined;
  readonly 'dry-run'?: boolean | undefined;
}

/** The options of `sync`, shared by `api_db sync` and `db sync`. */
export function syncOptions<T>(y: Argv<T>): Argv<T & SyncArgs> {
  return y
    .positional('VERSION', { type: 'string', describe: 'Stop at this migration (name or number)' })
    .option('mark-applied', { type: 'string', describe: 'Record NAME as applied without running it (after checking a dirty migration by hand)' })
    .option('mark-pending', { type: 'string', describe: 'Remove NAME from the ledger so that the next sync runs it' })
    .option('dry-run', { type: 'boolean', describe: 'Print the SQL each pending migration would send (rehearsed on a scratch database); change nothing' })
    .conflicts('mark-applied', ['mark-pending', 'VERSION'])
    .conflicts('dry-run', ['mark-applied', 'mark-pending']) as unknown as Argv<T & SyncArgs>;
}

/** The VERSION a sync asks for, as text (yargs may hand a number over). */
export const syncVersion = (args: SyncArgs): string | undefined => (args.VERSION === undefined ? undefined : String(args.VERSION));

/** Which mark, if any, a sync asks for. */
export function requestedMark(args: SyncArgs): { name: string; state: 'applied' | 'pending' } | undefined {
  if (args['mark-pending'] !== undefined && syncVersion(args) !== undefined) throw new InvalidInputError('--mark-pending cannot be combined with VERSION');
  if (args['mark-applied'] !== undefined) return { name: args['mark-applied'], state: 'applied' };
  if (args['mark-pending'] !== undefined) return { name: args['mark-pending'], state: 'pending' };
  return undefined;
}

/** `sync` on one database, printed. */
export async function syncOne(rt: Runtime, target: LineTarget, args: SyncArgs): Promise<void> {
  if (args['dry-run']) return previewOne(rt, target, syncVersion(args));
  const mark = requestedMark(args);
  if (mark) {
    await markMigration(target, mark.name, mark.state);
    if (rt.output.json) rt.output.data({ line: target.line.id, database: target.url.masked, migration: mark.name, marked: mark.state });
    else rt.output.line(`${target.label}: ${mark.name} marked ${mark.state}`);
    return;
  }
  // SIGINT/SIGTERM: no further migration starts; the running one finishes (InterruptedError before the next).
  const result: SyncResult = await syncLine({ ...target, signal: rt.interruptible() }, syncVersion(args));
  if (rt.output.json) {
    rt.output.data({ line: target.line.id, database: target.url.masked, from: result.from, to: result.to, applied: result.applied });
  } else if (result.applied.length === 0) {
    rt.output.line(`${target.label} (${target.url.masked}): already at ${result.to ?? 'no version'}; nothing to apply`);
  } else {
    rt.output.line(
      `${target.label} (${target.url.masked}): ${result.from ?? 'empty'} → ${result.to} (${result.applied.length} migration${result.applied.length === 1 ? '' : 's'} applied)`,
    );
  }
  if (rt.interrupted) rt.output.notice(`stopped by ${rt.interrupted} once the migration in flight had finished: ${target.label} is at ${result.to ?? 'no version'}; it is safe to run sync again`);
}

/** The number of a migration name (`0003_x` → 3), 0 for none. */
export const versionNumber = (name: string | null): number => (name ? Number(name.slice(0, 4)) : 0);

/** `version` of one database, printed. */
export async function versionOne(rt: Runtime, target: LineTarget): Promise<void> {
  const status = await lineStatus(target);
  if (rt.output.json) {
    rt.output.data({ line: target.line.id, database: target.url.masked, version: status.current, number: versionNumber(status.current), head: status.head });
  } else {
    rt.output.line(status.current ?? 'none');
  }
}

/** `status` of one database, printed; exit 1 when the ledger has a problem. */
export async function statusOne(rt: Runtime, target: LineTarget): Promise<number> {
  const status: LineStatus = await lineStatus(target);
  if (rt.output.json) {
    rt.output.data(status);
  } else {
    rt.output.line(`${status.label} (${status.database}): at ${status.current ?? 'no version'}, head ${status.head ?? 'none'}`);
    rt.output.table(['Migration', 'State', 'Applied at'], status.migrations.map((m) => [m.name, m.state, m.appliedAt?.toISOString() ?? '']));
    for (const p of status.problems) rt.output.line(`problem: ${p.message}`);
  }
  return status.problems.length > 0 ? 1 : 0;
}

/** `api_db sync [VERSION]`. */
export function apiSyncCommand(rt: Runtime) {
  return {
    command: 'sync [VERSION]',
    describe: 'Apply pending API migrations (up to VERSION: a name or its number)',
    builder: (y: Argv<GlobalArgs>) => syncOptions(y),
    run: async (args: SyncArgs) => syncOne(rt, await localTarget(rt, 'api'), args),
  } satisfies LeafCommand<SyncArgs>;
}

/** `api_db version`. */
export function apiVersionCommand(rt: Runtime) {
  return {
    command: 'version',
    describe: 'Print the current API schema version',
    run: async () => versionOne(rt, await localTarget(rt, 'api')),
  } satisfies LeafCommand<GlobalArgs>;
}

/** `api_db status`. */
export function apiStatusCommand(rt: Runtime) {
  return {
    command: 'status',
    describe: 'List applied and pending API migrations',
    run: async () => statusOne(rt, await localTarget(rt, 'api')),
  } satisfies LeafCommand<GlobalArgs>;
}
