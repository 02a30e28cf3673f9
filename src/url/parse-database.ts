import { InvalidInputError } from '../errors.js';
import { indexOrEnd, type LocatedEntry, locate, type Outcome, SCHEME_PREFIX } from './locate.js';
import { displayUrl, refusedUrl } from './mask.js';
import { parseQsl, pyUnquote } from './python.js';

/** The SQL dialects cellsdb speaks. MariaDB and MySQL servers are both reached through mysql2. */
export type Dialect = 'postgres' | 'mysql';

/** A parsed, validated database URL. `masked` is the only form that may ever be printed. */
export interface DatabaseUrl {
  readonly dialect: Dialect;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Unix socket path (`?unix_socket=` for MySQL, `?host=/path` for PostgreSQL), when given. */
  readonly socketPath: string | undefined;
  /** The URL as given (trimmed), secrets included, in the spelling given: never print it. */
  readonly raw: string;
  /** The URL with any password replaced by `****`. */
  readonly masked: string;
}



// The spellings operators copy from nova.conf (SQLAlchemy URLs with a driver suffix) and the plain ones.
const SCHEMES: Readonly<Record<string, Dialect>> = {
  postgresql: 'postgres',
  postgres: 'postgres',
  'postgresql+psycopg2': 'postgres',
  'postgresql+psycopg': 'postgres',
  'postgresql+pg8000': 'postgres',
  mysql: 'mysql',
  'mysql+pymysql': 'mysql',
  'mysql+mysqldb': 'mysql',
  'mysql+mysqlconnector': 'mysql',
  mariadb: 'mysql',
  'mariadb+pymysql': 'mysql',
  'mariadb+mysqldb': 'mysql',
};

const DEFAULT_PORT: Readonly<Record<Dialect, number>> = { postgres: 5432, mysql: 3306 };

// Database URLs

interface DatabaseParts {
  readonly entry: LocatedEntry;
  /** The database's span in the string (after the '/'), when there is a '/'. */
  readonly database: { readonly start: number; readonly end: number } | undefined;
  readonly query: string | undefined;
}

function locateDatabaseUrl(input: string): Outcome<DatabaseParts> {
  const scheme = SCHEME_PREFIX.exec(input);
  if (!scheme) return { ok: false, problem: 'no scheme' };
  const located = locate(input, scheme[0].length, 'sqlalchemy');
  if (!located.ok) return located;
  const entry = located.value.entries[0] as LocatedEntry;
  // SQLAlchemy: `(?:/(?P<database>[^\?]*))?(?:\?(?P<query>.*))?`
  const tail = located.value.tail;
  const q = indexOrEnd(input, '?', tail);
  const database = input[tail] === '/' ? { start: tail + 1, end: q } : undefined;
  const query = q < input.length ? input.slice(q + 1) : undefined;
  return { ok: true, value: { entry, database, query } };
}

/**
 * Parses a database URL as SQLAlchemy's `make_url` reads it, in any spelling nova.conf uses
 * (`mysql+pymysql://…`, `postgresql+psycopg2://…`, `postgresql://…`, `mysql://…`, `mariadb://…`).
 * A password may hold `?`, `/`, `:`, `#`, `%` unencoded, or any character percent-encoded; an
 * unencoded `@` is read as part of the password when the host would otherwise hold it (SQLAlchemy
 * would put it in the host, which no server answers to). `raw` keeps the spelling given.
 *
 * @throws {InvalidInputError} (exit 127) for anything else, with the URL masked.
 */
export function parseDatabaseUrl(raw: string): DatabaseUrl {
  const input = raw.trim();
  // A URL that fails to parse is never echoed: only its scheme is named.
  const given = SCHEME_PREFIX.exec(input);
  const masked = refusedUrl(input);
  if (!given) {
    throw new InvalidInputError(`malformed database URL '${masked}': expected <scheme>://<user>:<password>@<host>:<port>/<database>`);
  }
  const scheme = (given[1] as string).toLowerCase();
  const dialect = SCHEMES[scheme];
  if (!dialect) {
    throw new InvalidInputError(`unsupported database URL scheme '${scheme}' in ${masked}: use postgresql://, mysql+pymysql:// or mariadb://`);
  }
  const parts = locateDatabaseUrl(input);
  if (!parts.ok) throw new InvalidInputError(`malformed database URL '${masked}': it has ${parts.problem}`);
  const { entry, database: dbSpan, query } = parts.value;
  if (entry.port !== undefined && !/^\d*$/.test(entry.port)) {
    throw new InvalidInputError(`malformed database URL '${masked}': it has a port that is not a number`);
  }
  const database = dbSpan ? pyUnquote(input.slice(dbSpan.start, dbSpan.end)) : '';
  if (!database) {
    throw new InvalidInputError(`database URL ${masked} names no database (expected …/DATABASE)`);
  }
  // Never echoed: with an unencoded '@' and '/' in a password, this may be a piece of it.
  if (database.includes('/')) {
    throw new InvalidInputError(`database URL ${masked} has an invalid database name (it holds a '/'; percent-encode a '/' in a password as %2F)`);
  }
  let port = DEFAULT_PORT[dialect];
  if (entry.port) {
    port = Number(entry.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InvalidInputError(`database URL ${masked} has an invalid port (expected 1 to 65535)`);
    }
  }
  const params = new Map<string, string>();
  for (const [k, v] of parseQsl(query ?? '')) if (!params.has(k)) params.set(k, v);
  const socketParam = params.get(dialect === 'mysql' ? 'unix_socket' : 'host');
  const socketPath = socketParam && socketParam.startsWith('/') ? socketParam : undefined;
  const username = entry.hasUserInfo ? pyUnquote(input.slice(entry.userStart, entry.userEnd)) : undefined;
  const password = entry.password ? pyUnquote(input.slice(entry.password.start, entry.password.end)) : undefined;
  return Object.freeze({
    dialect,
    host: entry.host || (socketPath ?? '127.0.0.1'),
    port,
    database,
    username: username || undefined,
    password: password || undefined,
    socketPath,
    raw: input,
    masked: displayUrl(input),
  });
}

/**
 * The same server and credentials with another database name (e.g. cell0's `nova_cell0`): only
 * the database part of the URL changes; the rest keeps the spelling given, as Nova's `map_cell0`
 * keeps it.
 */
export function withDatabase(url: DatabaseUrl, database: string): DatabaseUrl {
  const parts = locateDatabaseUrl(url.raw);
  if (!parts.ok) return parseDatabaseUrl(url.raw);
  const name = encodeURIComponent(database);
  const span = parts.value.database;
  const raw = span ? url.raw.slice(0, span.start) + name + url.raw.slice(span.end) : `${url.raw.slice(0, parts.value.entry.hostEnd)}/${name}${url.raw.slice(parts.value.entry.hostEnd)}`;
  return parseDatabaseUrl(raw);
}

/**
 * What a database URL points at, whatever its spelling: dialect, host, port and database
 * (`postgresql+psycopg2://a@db/nova` and `postgresql://b:pw@db:5432/nova` are the same database).
 */
export function databaseIdentity(url: DatabaseUrl): string {
  return `${url.dialect}://${url.socketPath ?? url.host.toLowerCase()}:${url.port}/${url.database}`;
}

