import { readFileSync } from 'node:fs';
import ini from 'ini';
import { InvalidInputError } from './errors.js';
import { type DatabaseUrl, parseDatabaseUrl } from './url.js';

/** Where a setting came from, for messages and `--debug`. */
export type Source = 'flag' | 'environment' | 'config file' | 'embedded';

/** The resolved configuration: built once, validated, frozen, and passed down. */
export interface Config {
  /** The API database (`[api_database] connection`). */
  readonly apiDb: DatabaseUrl | undefined;
  /** The local cell database (`[database] connection`). */
  readonly db: DatabaseUrl | undefined;
  readonly sources: Readonly<{ apiDb?: Source; db?: Source }>;
  /** How long to wait for another runner's migration lock. @default 60000 */
  readonly lockTimeoutMs: number;
  /** PostgreSQL `lock_timeout` / MariaDB `lock_wait_timeout` for migration DDL. @default 10000 */
  readonly ddlLockTimeoutMs: number;
  /** Per-statement time limit for migrations. @default 600000 */
  readonly statementTimeoutMs: number;
  /** Connect timeout for every connection. @default 10000 */
  readonly connectTimeoutMs: number;
}

/** What the CLI (or a library caller) hands to {@link resolveConfig}. */
export interface ConfigInput {
  readonly apiDb?: string | undefined;
  readonly db?: string | undefined;
  readonly configFile?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly lockTimeoutSeconds?: number | undefined;
  readonly ddlLockTimeoutSeconds?: number | undefined;
  readonly statementTimeoutSeconds?: number | undefined;
  readonly connectTimeoutSeconds?: number | undefined;
}

/** Environment variables read by {@link resolveConfig}. */
export const ENV = {
  apiDb: 'CELLSDB_API_DATABASE_URL',
  db: 'CELLSDB_DATABASE_URL',
} as const;

interface NovaConf {
  api_database?: { connection?: unknown };
  database?: { connection?: unknown };
}

function readConfigFile(path: string): { apiDb?: string; db?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new InvalidInputError(`cannot read config file '${path}': ${code}`, { cause });
  }
  let parsed: NovaConf;
  try {
    parsed = ini.parse(text) as NovaConf;
  } catch (cause) {
    throw new InvalidInputError(`cannot parse config file '${path}' as INI`, { cause });
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const out: { apiDb?: string; db?: string } = {};
  const apiDb = str(parsed.api_database?.connection);
  const db = str(parsed.database?.connection);
  if (apiDb !== undefined) out.apiDb = apiDb;
  if (db !== undefined) out.db = db;
  return out;
}

function seconds(name: string, value: number | undefined, fallback: number, { allowZero = false } = {}): number {
  if (value === undefined) return fallback * 1000;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidInputError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, got '${value}'`);
  }
  return Math.round(value * 1000);
}

/**
 * Resolves the configuration once. Precedence: flags, then environment, then the config file
 * (a nova.conf-style INI file with `[api_database] connection` and `[database] connection`).
 * Every URL is parsed and validated here, so that bad input fails before anything connects.
 */
export function resolveConfig(input: ConfigInput): Config {
  const env = input.env ?? {};
  const file = input.configFile !== undefined ? readConfigFile(input.configFile) : {};
  const sources: { apiDb?: Source; db?: Source } = {};
  const pick = (key: 'apiDb' | 'db'): DatabaseUrl | undefined => {
    const candidates: Array<[Source, string | undefined]> = [
      ['flag', input[key]],
      ['environment', env[ENV[key]]],
      ['config file', file[key]],
    ];
    for (const [source, value] of candidates) {
      if (value !== undefined && value.trim() !== '') {
        sources[key] = source;
        return parseDatabaseUrl(value);
      }
    }
    return undefined;
  };
  const apiDb = pick('apiDb');
  const db = pick('db');
  return Object.freeze({
    apiDb,
    db,
    sources: Object.freeze(sources),
    lockTimeoutMs: seconds('lock-timeout', input.lockTimeoutSeconds, 60, { allowZero: true }),
    ddlLockTimeoutMs: seconds('ddl-lock-timeout', input.ddlLockTimeoutSeconds, 10),
    statementTimeoutMs: seconds('statement-timeout', input.statementTimeoutSeconds, 600, { allowZero: true }),
    connectTimeoutMs: seconds('connect-timeout', input.connectTimeoutSeconds, 10),
  });
}

const HOW_TO_CONFIGURE = {
  apiDb: `pass --api-db URL, set ${ENV.apiDb}, give --config-file with [api_database] connection, or use --embedded`,
  db: `pass --db URL, set ${ENV.db}, give --config-file with [database] connection, or use --embedded`,
} as const;

/** The API database URL, or a one-line error naming every way to configure it. */
export function requireApiDb(config: Config): DatabaseUrl {
  if (!config.apiDb) throw new InvalidInputError(`no API database configured: ${HOW_TO_CONFIGURE.apiDb}`);
  return config.apiDb;
}

/** The local cell database URL, or a one-line error naming every way to configure it. */
export function requireCellDb(config: Config): DatabaseUrl {
  if (!config.db) throw new InvalidInputError(`no cell database configured: ${HOW_TO_CONFIGURE.db}`);
  return config.db;
}
