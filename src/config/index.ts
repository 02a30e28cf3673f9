// The configuration, resolved once (node-pg-migrate's `src/cli/config.ts` shape): every global
// option from its flag, the environment and the config files, validated, with every default
// applied here, into one frozen object that is passed down. Nothing else reads argv or the
// environment: the CLI reads `process.env` once, at its edge, and hands it in.
import { resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { type DatabaseUrl, parseDatabaseUrl } from '../url/index.js';
import { type ImpactBudget, type LoadThreshold, parseImpactBudget, parseLoadThresholds } from '../movers/thresholds.js';
import { DEFAULTS, embeddedDataDir } from './defaults.js';
import { ConfigFileError, type ConfigFileValues, type ConfigSource, type OsloConfigFiles, readConfigSources } from './oslo-ini.js';
import { ENVIRONMENT_ONLY, GLOBAL_OPTIONS, type GlobalFlag, type GlobalFlags, type GlobalOption } from './options.js';

export { DEFAULTS, embeddedDataDir } from './defaults.js';
export { ConfigFileError, type ConfigFileValues, readConfigFiles } from './oslo-ini.js';
export { ENVIRONMENT_ONLY, envNameOf, GLOBAL_OPTIONS, type GlobalFlag, type GlobalFlags, type GlobalOption, type OptionType } from './options.js';

/** Where a setting came from, for messages and `--debug`. */
export type Source = 'flag' | 'environment' | 'config file' | 'embedded';

/** Environment variables, as `process.env` has them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The resolved configuration: built once, validated, frozen, and passed down. */
export interface Config {
  /** The API database (`--api-db`, `[api_database] connection`). */
  readonly apiDb: DatabaseUrl | undefined;
  /** The local cell database (`--db`, `[database] connection`). */
  readonly db: DatabaseUrl | undefined;
  readonly sources: Readonly<{ apiDb?: Source; db?: Source; maxImpact?: Source }>;
  /** The config files read, in order (later ones win): the `--config-file`s and each `--config-dir`'s `*.conf`, in command-line order. */
  readonly configFiles: readonly string[];
  /**
   * `[DEFAULT] transport_url` of the config files, as written (nova-manage's `CONF.transport_url`):
   * what `create_cell` takes when `--transport-url` is not given. Read when called, as oslo
   * substitutes a value only when it is read: a bad `$` in it fails only the commands that use it.
   */
  readonly transportUrl: () => string | undefined;
  /** `--table-style`: `ascii` (nova-manage's PrettyTable) or `box`. @default 'ascii' */
  readonly tableStyle: 'ascii' | 'box';
  /** Work on the embedded server's databases (`--embedded`). @default false */
  readonly embedded: boolean;
  /** `--json`. @default false */
  readonly json: boolean;
  /** `--debug`: stack traces on errors. @default false */
  readonly debug: boolean;
  /** How long to wait for another runner's migration lock (`--lock-timeout`). @default 60000 */
  readonly migrationLockWaitMs: number;
  /** How long one migration DDL statement may queue for table locks (`--ddl-lock-timeout`). @default 10000 */
  readonly ddlLockTimeoutMs: number;
  /** How long one migration statement may run, 0 for no limit (`--statement-timeout`). @default 600000 */
  readonly statementTimeoutMs: number;
  /** Connect timeout of every connection, pooled or dedicated (`--connect-timeout`). @default 10000 */
  readonly connectTimeoutMs: number;
  /** Cells worked on at once (`--concurrency`). @default 4 */
  readonly concurrency: number;
  /** How the movers spare the live cloud (`--max-impact`, `--max-load`, `--critical-load`). */
  readonly movers: Readonly<{
    /** @default parsed DEFAULTS.maxImpact ('3x') */
    maxImpact: ImpactBudget;
    /** Pause while any is over. @default none */
    maxLoad: readonly LoadThreshold[];
    /** Stop (exit 2) once any is over. @default none */
    criticalLoad: readonly LoadThreshold[];
  }>;
  /** The service-group API's driver and liveness settings (seconds). */
  readonly serviceGroup: Readonly<{
    /** @default 'database' */
    driver: 'database' | 'redis';
    redisUrl: string | undefined;
    /** @default 60 */
    serviceDownTime: number;
    /** @default 10 */
    reportInterval: number;
  }>;
  /** Other folders of compiled migrations (hidden `--api-migrations-dir`, `--cell-migrations-dir`). */
  readonly migrationDirs: Readonly<{ api: string | undefined; cell: string | undefined }>;
  /** `CELLSDB_HOME`, resolved. @default './.cellsdb' */
  readonly home: string;
  /** Where the embedded server keeps its data and listens (`CELLSDB_EMBEDDED_DIR`, `CELLSDB_EMBEDDED_PORT`). */
  readonly embeddedServer: Readonly<{ dataDir: string; port: number }>;
  /** `CELLSDB_FAILPOINT`, as given (tests only; see `movers/failpoints.ts`). */
  readonly failpoint: string | undefined;
  /** `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job's pod), as given: the index of `--shard N`. */
  readonly jobCompletionIndex: string | undefined;
}

/** What the CLI (or a library caller) hands to {@link resolveConfig}. */
export interface ConfigInput {
  /** Global options by flag name, as parsed from the command line. */
  readonly flags?: GlobalFlags;
  /** The environment: the CLI passes `process.env`, read once at its edge. @default {} */
  readonly env?: Environment;
  /**
   * The raw command line, for one thing parsed options lose: the order in which `--config-file` and
   * `--config-dir` were given, which oslo.config reads them in. @default files first, then directories
   */
  readonly argv?: readonly string[];
}

/** Documented environment variables (every global option also has `CELLSDB_` + its flag in upper snake case). */
export const ENV = {
  apiDb: 'CELLSDB_API_DATABASE_URL',
  db: 'CELLSDB_DATABASE_URL',
  redisUrl: 'CELLSDB_REDIS_URL',
  ...ENVIRONMENT_ONLY,
} as const;

/** A value found for an option: what it is, the name that set it (for messages), and where. */
interface Found {
  readonly value: string | number | boolean;
  readonly name: string;
  readonly source: Exclude<Source, 'embedded'>;
}

const OPTIONS = new Map<string, GlobalOption>(GLOBAL_OPTIONS.map((o) => [o.flag, o]));
const isBlank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** The environment's value of `names` (one setting, several spellings that must agree). */
function fromEnvironment(env: Environment, names: readonly string[]): Found | undefined {
  const set = names.filter((n) => !isBlank(env[n]));
  const first = set[0];
  if (first === undefined) return undefined;
  const other = set.find((n) => env[n]?.trim() !== env[first]?.trim());
  if (other !== undefined) throw new InvalidInputError(`${first} and ${other} are both set, to different values: set one`);
  return { value: (env[first] as string).trim(), name: first, source: 'environment' };
}

class Resolver {
  constructor(
    private readonly flags: GlobalFlags,
    private readonly env: Environment,
    private readonly files: ConfigFileValues,
  ) {}

  /** The flag, else the environment, else the config file; undefined when none sets it. */
  find(flag: GlobalFlag): Found | undefined {
    const spec = OPTIONS.get(flag) as GlobalOption;
    const given = this.flags[flag];
    if (!isBlank(given) && !Array.isArray(given)) return { value: given as string | number | boolean, name: `--${flag}`, source: 'flag' };
    const fromEnv = fromEnvironment(this.env, spec.env);
    if (fromEnv) return fromEnv;
    const fromFile = spec.file ? this.files.get(spec.file.section, spec.file.key) : undefined;
    // `connection =` leaves the setting unset, as it always has here (oslo would give '').
    if (fromFile !== undefined && !isBlank(fromFile)) return { value: fromFile, name: `[${spec.file?.section}] ${spec.file?.key}`, source: 'config file' };
    return undefined;
  }

  url(flag: 'api-db' | 'db'): { url: DatabaseUrl; source: Found['source'] } | undefined {
    const found = this.find(flag);
    if (!found) return undefined;
    try {
      return { url: parseDatabaseUrl(String(found.value)), source: found.source };
    } catch (error) {
      // parseDatabaseUrl's message already masks the URL; say which setting held it.
      throw new InvalidInputError(`${(error as Error).message} (${found.name})`, { cause: error });
    }
  }

  string(flag: GlobalFlag): string | undefined {
    const found = this.find(flag);
    return found === undefined ? undefined : String(found.value).trim();
  }

  boolean(flag: GlobalFlag): boolean {
    const found = this.find(flag);
    if (found === undefined) return false;
    if (typeof found.value === 'boolean') return found.value;
    const text = String(found.value).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off'].includes(text)) return false;
    throw new InvalidInputError(`${found.name} must be true or false, got '${found.value}'`);
  }

  /** Seconds, kept in milliseconds. */
  seconds(flag: GlobalFlag, fallback: number, { allowZero = false } = {}): number {
    const found = this.find(flag);
    if (found === undefined) return fallback * 1000;
    const n = Number(found.value);
    if (typeof found.value === 'boolean' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
      throw new InvalidInputError(`${found.name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got '${found.value}'`);
    }
    return Math.round(n * 1000);
  }

  /** Seconds, kept in seconds (the service-group settings are Nova's, in seconds). */
  positiveSeconds(flag: GlobalFlag, fallback: number): number {
    return this.seconds(flag, fallback) / 1000;
  }

  impactBudget(flag: GlobalFlag, fallback: string): ImpactBudget {
    const found = this.find(flag);
    return parseImpactBudget(found === undefined ? fallback : String(found.value), found?.name ?? `--${flag}`);
  }

  loadThresholds(flag: GlobalFlag): readonly LoadThreshold[] {
    const found = this.find(flag);
    return found === undefined ? [] : parseLoadThresholds(String(found.value), found.name);
  }

  positiveInteger(flag: GlobalFlag, fallback: number): number {
    const found = this.find(flag);
    if (found === undefined) return fallback;
    const n = Number(found.value);
    if (typeof found.value === 'boolean' || !Number.isInteger(n) || n < 1) {
      throw new InvalidInputError(`${found.name} must be a positive whole number, got '${String(found.value)}'`);
    }
    return n;
  }
}

/** The values of a repeatable path option (`--config-file`, `--config-dir`): its flags, else its variable. */
function pathsOf(flag: 'config-file' | 'config-dir', flags: GlobalFlags, env: Environment): string[] {
  const given = flags[flag];
  const fromFlags = (Array.isArray(given) ? given : [given]).filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  if (fromFlags.length > 0) return fromFlags;
  const fromEnv = fromEnvironment(env, (OPTIONS.get(flag) as GlobalOption).env);
  return fromEnv ? [String(fromEnv.value)] : [];
}

const CONFIG_PATH_FLAG = /^--config[-_](file|dir)(?:=(.*))?$/s;

/**
 * `--config-file` and `--config-dir` in command-line order, as oslo.config reads them (a directory
 * given between two files is read between them). The values are the parsed ones; `argv` gives only
 * their order, and is ignored unless it names exactly those values (e.g. they came from the
 * environment): files first, then directories.
 */
export function configSources(files: readonly string[], dirs: readonly string[], argv?: readonly string[]): ConfigSource[] {
  const fallback: ConfigSource[] = [...files.map((file) => ({ file })), ...dirs.map((dir) => ({ dir }))];
  if (argv === undefined) return fallback;
  const ordered: ConfigSource[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') break;
    const m = CONFIG_PATH_FLAG.exec(token);
    if (!m) continue;
    const value = m[2] ?? argv[++i];
    if (value === undefined || value.trim() === '') continue;
    ordered.push(m[1] === 'file' ? { file: value } : { dir: value });
  }
  const sorted = (values: readonly string[]) => JSON.stringify([...values].sort());
  const orderedFiles = ordered.flatMap((s) => ('file' in s ? [s.file] : []));
  const orderedDirs = ordered.flatMap((s) => ('dir' in s ? [s.dir] : []));
  return sorted(orderedFiles) === sorted(files) && sorted(orderedDirs) === sorted(dirs) ? ordered : fallback;
}

/**
 * The config files, read as oslo.config reads them (later files win). A file that cannot be read
 * keeps the one-line message operators know (`cannot read config file 'PATH': ENOENT`); a malformed
 * one says `PATH:LINE: what is wrong`, never the line itself.
 */
function readFiles(sources: readonly ConfigSource[]): OsloConfigFiles {
  try {
    return readConfigSources(sources);
  } catch (error) {
    const code = error instanceof ConfigFileError && error.line === undefined ? (error.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
    if (error instanceof ConfigFileError && code) throw new InvalidInputError(`cannot read config file '${error.file}': ${code}`, { cause: error });
    throw error;
  }
}

function environmentPort(env: Environment): number {
  const name = ENV.embeddedPort;
  const raw = env[name];
  if (isBlank(raw)) return DEFAULTS.embeddedPort;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidInputError(`${name} must be a port number (1 to 65535), got '${raw}'`);
  return port;
}

/**
 * Resolves the configuration once. For each option: its flag, then the environment (`CELLSDB_` +
 * the flag in upper snake case, or its documented name), then the config files (nova.conf-style,
 * `[api_database] connection` and `[database] connection`), then its default. Every value is
 * validated here (a bad one is invalid input naming the flag, variable or file key), so that bad
 * input fails before anything connects.
 */
export function resolveConfig(input: ConfigInput = {}): Config {
  const flags = input.flags ?? {};
  const env = input.env ?? {};
  const files = readFiles(configSources(pathsOf('config-file', flags, env), pathsOf('config-dir', flags, env), input.argv));
  const r = new Resolver(flags, env, files);

  const embedded = r.boolean('embedded');
  if (embedded) {
    // yargs refuses these flags together; the same holds when the environment asks for --embedded.
    const clash = (['api-db', 'db', 'config-file', 'config-dir'] as const).find((f) => !isBlank(flags[f]));
    if (clash) throw new InvalidInputError(`${r.find('embedded')?.name ?? '--embedded'} and --${clash} are mutually exclusive`);
  }
  const apiDb = r.url('api-db');
  const db = r.url('db');
  const driver = r.string('servicegroup-driver') ?? DEFAULTS.servicegroupDriver;
  if (driver !== 'database' && driver !== 'redis') {
    throw new InvalidInputError(`unknown ${r.find('servicegroup-driver')?.name ?? '--servicegroup-driver'} '${driver}': use database or redis`);
  }
  const tableStyle = r.string('table-style') ?? DEFAULTS.tableStyle;
  if (tableStyle !== 'ascii' && tableStyle !== 'box') {
    throw new InvalidInputError(`unknown ${r.find('table-style')?.name ?? '--table-style'} '${tableStyle}': use ascii or box`);
  }
  const home = resolve(env[ENV.home]?.trim() || DEFAULTS.home);
  const maxImpactSource = r.find('max-impact')?.source;
  const embeddedDir = env[ENV.embeddedDir]?.trim();

  return Object.freeze({
    apiDb: apiDb?.url,
    db: db?.url,
    sources: Object.freeze({ ...(apiDb ? { apiDb: apiDb.source } : {}), ...(db ? { db: db.source } : {}), ...(maxImpactSource ? { maxImpact: maxImpactSource } : {}) }),
    configFiles: files.files,
    transportUrl: () => transportUrlOf(files),
    tableStyle,
    embedded,
    json: r.boolean('json'),
    debug: r.boolean('debug'),
    migrationLockWaitMs: r.seconds('lock-timeout', DEFAULTS.migrationLockWaitSeconds, { allowZero: true }),
    ddlLockTimeoutMs: r.seconds('ddl-lock-timeout', DEFAULTS.ddlLockTimeoutSeconds),
    statementTimeoutMs: r.seconds('statement-timeout', DEFAULTS.statementTimeoutSeconds, { allowZero: true }),
    connectTimeoutMs: r.seconds('connect-timeout', DEFAULTS.connectTimeoutSeconds),
    concurrency: r.positiveInteger('concurrency', DEFAULTS.concurrency),
    movers: Object.freeze({
      maxImpact: r.impactBudget('max-impact', DEFAULTS.maxImpact),
      maxLoad: r.loadThresholds('max-load'),
      criticalLoad: r.loadThresholds('critical-load'),
    }),
    serviceGroup: Object.freeze({
      driver,
      redisUrl: r.string('redis-url'),
      serviceDownTime: r.positiveSeconds('service-down-time', DEFAULTS.serviceDownTimeSeconds),
      reportInterval: r.positiveSeconds('report-interval', DEFAULTS.reportIntervalSeconds),
    }),
    migrationDirs: Object.freeze({ api: r.string('api-migrations-dir'), cell: r.string('cell-migrations-dir') }),
    home,
    embeddedServer: Object.freeze({ dataDir: embeddedDir ? embeddedDir : embeddedDataDir(home), port: environmentPort(env) }),
    failpoint: env[ENV.failpoint]?.trim() || undefined,
    jobCompletionIndex: env[ENV.jobCompletionIndex]?.trim() || undefined,
  });
}

/** `[DEFAULT] transport_url`, as oslo gives it (substituted); '' counts as unset, as in nova-manage. */
function transportUrlOf(files: ConfigFileValues): string | undefined {
  const value = files.get('DEFAULT', 'transport_url');
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const HOW_TO_CONFIGURE = {
  apiDb: `pass --api-db URL, set ${ENV.apiDb}, give --config-file with [api_database] connection, or use --embedded`,
  db: `pass --db URL, set ${ENV.db}, give --config-file with [database] connection, or use --embedded`,
} as const;

/** The API database URL, or a one-line error naming every way to configure it. */
export function requireApiDb(config: Pick<Config, 'apiDb'>): DatabaseUrl {
  if (!config.apiDb) throw new InvalidInputError(`no API database configured: ${HOW_TO_CONFIGURE.apiDb}`);
  return config.apiDb;
}

/** The local cell database URL, or a one-line error naming every way to configure it. */
export function requireCellDb(config: Pick<Config, 'db'>): DatabaseUrl {
  if (!config.db) throw new InvalidInputError(`no cell database configured: ${HOW_TO_CONFIGURE.db}`);
  return config.db;
}
