import { InvalidInputError } from './errors.js';

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
  /** The URL as given, secrets included: never print it. */
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
const SECRET_QUERY_KEY = /pass|secret|token|key|credential/i;
const SCHEME_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/s;

/** Masks one user-info part: `user:secret` → `user:****`; a user without a password stays as it is. */
function maskUserInfo(entry: string): string {
  const at = entry.lastIndexOf('@');
  if (at < 0) return entry;
  const userInfo = entry.slice(0, at);
  const colon = userInfo.indexOf(':');
  if (colon < 0) return entry;
  return `${userInfo.slice(0, colon)}:****${entry.slice(at)}`;
}

/**
 * Masks every password in a URL: user-info passwords (also in multi-host URLs such as
 * `rabbit://u:p@h1,u2:p2@h2/`, host by host, without collapsing hosts) and secret-looking query
 * parameters. Anything that is not a URL is returned unchanged. The one masking function: every
 * printer, log line, error message and JSON output goes through it.
 */
export function maskUrl(url: string): string {
  const match = SCHEME_RE.exec(url);
  if (!match) return url;
  const scheme = match[1] as string;
  let rest = match[2] as string;
  let fragment = '';
  // A fragment starts after the user-info: an unencoded '#' in a password must not hide the '@'.
  const hash = rest.indexOf('#', Math.max(0, rest.lastIndexOf('@')));
  if (hash >= 0) {
    fragment = rest.slice(hash);
    rest = rest.slice(0, hash);
  }
  // The authority ends at the first '/' or '?' after the last '@' (an unencoded '/' or '?' in a
  // password must not leak what follows it).
  const lastAt = rest.lastIndexOf('@');
  const searchFrom = lastAt < 0 ? 0 : lastAt;
  const tail = rest.slice(searchFrom).search(/[/?]/);
  const end = tail < 0 ? rest.length : searchFrom + tail;
  const authority = rest.slice(0, end);
  let pathAndQuery = rest.slice(end);
  const maskedAuthority = authority.includes('@')
    ? authority.split(/,(?=[^,]*@)/).map(maskUserInfo).join(',')
    : authority;
  const q = pathAndQuery.indexOf('?');
  if (q >= 0) {
    const query = pathAndQuery
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return pair;
        return SECRET_QUERY_KEY.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=****` : pair;
      })
      .join('&');
    pathAndQuery = `${pathAndQuery.slice(0, q)}?${query}`;
  }
  return `${scheme}://${maskedAuthority}${pathAndQuery}${fragment}`;
}

/** Masks every URL found inside free text (driver messages, log lines). */
export function maskUrlsInText(text: string): string {
  return text.replace(/[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s'"<>]+/g, (url) => maskUrl(url));
}

// WHATWG URL refuses user-info without a host, which SQLAlchemy allows for sockets
// ('mysql+pymysql://nova:pw@/nova?unix_socket=/run/mysqld/mysqld.sock'): such a URL is parsed with a
// placeholder host that stands for "none".
const NO_HOST = 'cellsdb-no-host.invalid';

function parseAfterScheme(rest: string): URL {
  return new URL(`cellsdb://${rest.replace(/^([^/?#]*@)(?=[/?#]|$)/, `$1${NO_HOST}`)}`);
}

function decode(part: string, what: string, masked: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new InvalidInputError(`malformed ${what} encoding in database URL ${masked}`, { cause });
  }
}

/**
 * Parses a database URL in any spelling nova.conf uses (`mysql+pymysql://…`, `postgresql+psycopg2://…`,
 * `postgresql://…`, `mysql://…`, `mariadb://…`). Throws {@link InvalidInputError} with the URL masked.
 */
export function parseDatabaseUrl(raw: string): DatabaseUrl {
  const input = raw.trim();
  const match = SCHEME_RE.exec(input);
  // Without a scheme maskUrl sees no URL: mask it as if it had one, so that 'nova:pw@db/nova' or
  // 'mysql+pymysql//nova:pw@db/nova' is not echoed with its password.
  const masked = match ? maskUrl(input) : maskUrl(`x://${input}`).slice('x://'.length);
  if (!match) {
    throw new InvalidInputError(
      `malformed database URL '${masked}': expected <scheme>://<user>:<password>@<host>:<port>/<database>`,
    );
  }
  const scheme = (match[1] as string).toLowerCase();
  const dialect = SCHEMES[scheme];
  if (!dialect) {
    throw new InvalidInputError(
      `unsupported database URL scheme '${scheme}' in ${masked}: use postgresql://, mysql+pymysql:// or mariadb://`,
    );
  }
  let parsed: URL;
  try {
    // WHATWG URL parses any scheme's authority the same way once the scheme is a generic one.
    parsed = parseAfterScheme(match[2] as string);
  } catch (cause) {
    throw new InvalidInputError(`malformed database URL ${masked}`, { cause });
  }
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database name', masked);
  if (!database) {
    throw new InvalidInputError(`database URL ${masked} names no database (expected …/DATABASE)`);
  }
  if (database.includes('/')) {
    throw new InvalidInputError(`database URL ${masked} has an invalid database name '${database}'`);
  }
  let port = DEFAULT_PORT[dialect];
  if (parsed.port) {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InvalidInputError(`database URL ${masked} has an invalid port '${parsed.port}'`);
    }
  }
  const socketParam = dialect === 'mysql' ? parsed.searchParams.get('unix_socket') : parsed.searchParams.get('host');
  const socketPath = socketParam && socketParam.startsWith('/') ? socketParam : undefined;
  const hostname = parsed.hostname === NO_HOST ? '' : parsed.hostname;
  const host = hostname.replace(/^\[|\]$/g, '') || (socketPath ?? '127.0.0.1');
  return Object.freeze({
    dialect,
    host,
    port,
    database,
    username: parsed.username ? decode(parsed.username, 'user name', masked) : undefined,
    password: parsed.password ? decode(parsed.password, 'password', masked) : undefined,
    socketPath,
    raw: input,
    masked,
  });
}

/** The same server and credentials with another database name (e.g. cell0's `nova_cell0`). */
export function withDatabase(url: DatabaseUrl, database: string): DatabaseUrl {
  const match = SCHEME_RE.exec(url.raw) as RegExpExecArray;
  const parsed = parseAfterScheme(match[2] as string);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  const raw = `${match[1] as string}://${parsed.href.slice('cellsdb://'.length).replace(`@${NO_HOST}`, '@')}`;
  return parseDatabaseUrl(raw);
}

/**
 * What a database URL points at, whatever its spelling: dialect, host, port and database
 * (`postgresql+psycopg2://a@db/nova` and `postgresql://b:pw@db:5432/nova` are the same database).
 */
export function databaseIdentity(url: DatabaseUrl): string {
  return `${url.dialect}://${url.socketPath ?? url.host.toLowerCase()}:${url.port}/${url.database}`;
}
