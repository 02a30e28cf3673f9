import { DEFAULTS } from './defaults.js';

/** How a global option's value is typed on the command line. */
export type OptionType = 'string' | 'number' | 'boolean';

/**
 * What a global option is about: `--help` lists them under these headings, and a command's help
 * shows only the groups it uses.
 */
export type OptionGroup = 'database' | 'output' | 'migration' | 'movers' | 'servicegroup';

/** One global option: its flag, its environment variables and where a config file may set it. */
export interface GlobalOption {
  /** The flag without its dashes (`connect-timeout`). */
  readonly flag: string;
  readonly type: OptionType;
  readonly group: OptionGroup;
  /** One line of help. */
  readonly describe: string;
  /**
   * Environment variables that set it: `CELLSDB_` + the flag in upper snake case
   * (`CELLSDB_CONNECT_TIMEOUT`), and before it the documented name where one came first.
   */
  readonly env: readonly string[];
  /** `[section] key` in a nova.conf-style config file. */
  readonly file?: { readonly section: string; readonly key: string };
  /** Kept out of `--help` (test and development aids). */
  readonly hidden?: boolean;
}

/** `connect-timeout` → `CELLSDB_CONNECT_TIMEOUT`. */
export const envNameOf = (flag: string): string => `CELLSDB_${flag.toUpperCase().replace(/-/g, '_')}`;

const option = <F extends string>(
  flag: F,
  type: OptionType,
  group: OptionGroup,
  describe: string,
  extra: { env?: readonly string[]; file?: GlobalOption['file']; hidden?: boolean } = {},
): GlobalOption & { readonly flag: F } => ({
  flag,
  type,
  group,
  describe,
  env: [...(extra.env ?? []), envNameOf(flag)],
  ...(extra.file ? { file: extra.file } : {}),
  ...(extra.hidden ? { hidden: true } : {}),
});

/**
 * Every option every command accepts, in the order `--help` lists them. Precedence for each:
 * the flag, then the environment, then the config file, then its default (see `DEFAULTS`).
 */
export const GLOBAL_OPTIONS = [
  option('api-db', 'string', 'database', 'API database URL ([api_database] connection)', { env: ['CELLSDB_API_DATABASE_URL'], file: { section: 'api_database', key: 'connection' } }),
  option('db', 'string', 'database', 'Local cell database URL ([database] connection)', { env: ['CELLSDB_DATABASE_URL'], file: { section: 'database', key: 'connection' } }),
  option('config-file', 'string', 'database', 'nova.conf-style INI file (repeatable: later files win)'),
  option('config-dir', 'string', 'database', 'Directory whose *.conf files are read in sorted order, where it stands among the --config-file options (repeatable)'),
  option('embedded', 'boolean', 'database', 'Use a local embedded PostgreSQL'),
  option('json', 'boolean', 'output', 'Machine-readable output'),
  option('debug', 'boolean', 'output', 'Print stack traces on errors'),
  option('table-style', 'string', 'output', `Tables for people: ascii (nova-manage's PrettyTable) or box [default: ${DEFAULTS.tableStyle}]`),
  option('lock-timeout', 'number', 'migration', `Seconds to wait for another runner’s migration lock [default: ${DEFAULTS.migrationLockWaitSeconds}]`),
  option('ddl-lock-timeout', 'number', 'migration', `Seconds a DDL statement may wait for table locks [default: ${DEFAULTS.ddlLockTimeoutSeconds}]`),
  option('statement-timeout', 'number', 'migration', `Seconds one migration statement may run [default: ${DEFAULTS.statementTimeoutSeconds}]`),
  option('connect-timeout', 'number', 'database', `Seconds to wait for a connection [default: ${DEFAULTS.connectTimeoutSeconds}]`),
  option('concurrency', 'number', 'database', `How many cells to work on at once [default: ${DEFAULTS.concurrency}]`),
  option('max-impact', 'string', 'movers', `db online_data_migrations: how far the movers may push an impact probe's p99 on each server while other clients use it, as a ratio of its idle p99 (2x) or in ms (25ms) [default: ${DEFAULTS.maxImpact}]`),
  option('max-load', 'string', 'movers', 'db online_data_migrations: pause the movers while a server metric is above a limit: NAME=VALUE[,...] (threads_running, lock_waits, probe_ms)'),
  option('critical-load', 'string', 'movers', 'db online_data_migrations: stop the movers (exit 2) once a server metric is above a limit: NAME=VALUE[,...]'),
  option('servicegroup-driver', 'string', 'servicegroup', `Where service liveness comes from: database or redis [default: ${DEFAULTS.servicegroupDriver}]`),
  option('redis-url', 'string', 'servicegroup', 'Redis URL for --servicegroup-driver redis (or CELLSDB_REDIS_URL)'),
  option('service-down-time', 'number', 'servicegroup', `Seconds without a heartbeat before a service is down [default: ${DEFAULTS.serviceDownTimeSeconds}]`),
  option('report-interval', 'number', 'servicegroup', `Seconds between service heartbeats [default: ${DEFAULTS.reportIntervalSeconds}]`),
  option('api-migrations-dir', 'string', 'migration', 'Another folder of compiled API migrations', { hidden: true }),
  option('cell-migrations-dir', 'string', 'migration', 'Another folder of compiled cell migrations', { hidden: true }),
] as const satisfies readonly GlobalOption[];

/** The flag of a global option. */
export type GlobalFlag = (typeof GLOBAL_OPTIONS)[number]['flag'];

/** Global options as parsed from the command line, by flag (`--config-file` may repeat). */
export type GlobalFlags = { readonly [F in GlobalFlag]?: string | number | boolean | readonly string[] | undefined };

/**
 * Settings only the environment gives (no flag): the home folder, the embedded server's folder and
 * port, and test failpoints.
 */
export const ENVIRONMENT_ONLY = {
  home: 'CELLSDB_HOME',
  embeddedDir: 'CELLSDB_EMBEDDED_DIR',
  embeddedPort: 'CELLSDB_EMBEDDED_PORT',
  failpoint: 'CELLSDB_FAILPOINT',
  /** Kubernetes sets it in each pod of an Indexed Job: `online_data_migrations --shard N` takes its index from it. */
  jobCompletionIndex: 'JOB_COMPLETION_INDEX',
} as const;
