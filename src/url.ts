import { isIPv6 } from 'node:net';
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
  /** The URL as given (trimmed), secrets included, in the spelling given: never print it. */
  readonly raw: string;
  /** The URL with any password replaced by `****`. */
  readonly masked: string;
}

/** One host of a transport URL, as oslo.messaging's `TransportHost` holds it. */
export interface TransportHost {
  readonly hostname: string | undefined;
  /** The port; the placeholder as written (`{port}`) in a templated URL. */
  readonly port: number | string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** A transport URL (`cell_mappings.transport_url`) as oslo.messaging's `TransportURL.parse` reads it. */
export interface TransportUrl {
  /** The transport (`rabbit`, `none`, …), lower case; `{scheme}` in a templated URL. */
  readonly scheme: string;
  readonly hosts: readonly TransportHost[];
  /** The path without its leading `/`, decoded; `undefined` without a path. */
  readonly virtualHost: string | undefined;
  /** Query parameters; repeated ones joined with `,` as oslo.messaging joins them. */
  readonly query: Readonly<Record<string, string>>;
  /** Holds Nova's `{…}` placeholders, which Nova fills from `[DEFAULT] transport_url` when used. */
  readonly templated: boolean;
  /** The URL as given (trimmed), secrets included: never print it. */
  readonly raw: string;
  /** The URL with every password replaced by `****`. */
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

// Schemes read with SQLAlchemy's URL grammar when masking (a comma is no host separator there).
const SQLALCHEMY_BASES = new Set(['postgresql', 'postgres', 'mysql', 'mariadb', 'sqlite', 'oracle', 'mssql', 'cockroachdb']);

const DEFAULT_PORT: Readonly<Record<Dialect, number>> = { postgres: 5432, mysql: 3306 };
const SECRET_QUERY_KEY = /pass|secret|token|key|credential/i;
const MASK = '****';

// SQLAlchemy's `(?P<name>[\w\+]+)://` and urlsplit's `[a-zA-Z][a-zA-Z0-9+.-]*`, together; or Nova's
// `{scheme}` placeholder.
const SCHEME_PREFIX = /^([A-Za-z0-9_+.-]+|\{scheme\}):\/\//;
// Nova's `CellMapping._format_url` placeholders (indexed ones for multi-host defaults).
const PLACEHOLDER = /^\{(?:scheme|username\d*|password\d*|hostname\d*|port\d*|path|query|fragment)\}$/;
const HAS_PLACEHOLDER = /\{(?:scheme|username\d*|password\d*|hostname\d*|port\d*|path|query|fragment)\}/;
const HOST_NAME = /^(?:[\p{L}\p{N}\p{M}_.~%-]*|\{hostname\d*\})$/u;
const PORT = /^(?:\d*|\{port\d*\})$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[\p{L}\p{N}_.~-]+)?$/u;

// ---------------------------------------------------------------------------------------------
// Python's urllib.parse.unquote, which SQLAlchemy and oslo.messaging decode with: a '%' not followed
// by two hex digits stays as it is (never an error), and bad UTF-8 becomes U+FFFD.

const UTF8 = new TextDecoder('utf-8');

/** `urllib.parse.unquote(s)`: percent-decoding as SQLAlchemy and oslo.messaging do it. */
export function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  // Python decodes each run of ASCII characters on its own; other characters stay as they are.
  return s.replace(/[\x00-\x7f]+/g, (run) => {
    if (!run.includes('%')) return run;
    const bytes: number[] = [];
    for (let i = 0; i < run.length; i++) {
      const hex = run.slice(i + 1, i + 3);
      if (run[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(run.charCodeAt(i));
      }
    }
    return UTF8.decode(new Uint8Array(bytes));
  });
}

// ---------------------------------------------------------------------------------------------
// Finding the credentials: the one reading that parsing and masking share.

type Grammar = 'sqlalchemy' | 'transport';

interface LocatedEntry {
  readonly userStart: number;
  /** End of the user name; the userinfo's '@' when there is no password. */
  readonly userEnd: number;
  /** The password's span, between ':' and '@'; absent without a password. */
  readonly password: { readonly start: number; readonly end: number } | undefined;
  /** Whether the entry has userinfo (an '@' before the host). */
  readonly hasUserInfo: boolean;
  readonly hostStart: number;
  readonly hostEnd: number;
  /** The host without brackets, and the port as written. */
  readonly host: string;
  readonly port: string | undefined;
}

interface Located {
  /** Where the part after `scheme://` starts. */
  readonly start: number;
  readonly entries: readonly LocatedEntry[];
  /** Where the path, query or fragment after the last host starts. */
  readonly tail: number;
  /** Where the URL ends (the end of the string, except in free text). */
  readonly end: number;
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

// In free text a URL's host or path ends at white space, a quote or closing punctuation.
const TEXT_STOP = /[\s'"<>()[\]{}|\\^`]/;

/**
 * Locates every userinfo, host and port of the URL whose `scheme://` ends at `start`, reading the
 * userinfo as SQLAlchemy's `_parse_url` does: the user name runs to the first ':' (it holds no
 * ':' or '/'), and the password runs from there to an '@'. SQLAlchemy takes the first '@' (its
 * password is `[^@]*`); this takes the first '@' after which no other '@' comes before the host
 * ends, so that an unencoded '@' in a password ends up in the password, not in the host (which
 * SQLAlchemy would then fail to connect to). With the `transport` grammar a ',' also ends a host
 * and starts the next one (oslo.messaging's `user:pass@h1,user:pass@h2`). In free text (`text`)
 * a host also ends at white space or a quote, and a password never spans a line.
 */
function locate(s: string, start: number, grammar: Grammar, text: boolean): Outcome<Located> {
  const located = locateEntries(s, start, grammar, text);
  if (!located.ok) return located;
  // An '@' in the path means the userinfo was not where the grammar put it (an unencoded '/' or
  // '?' before an '@' in a password, or a mistyped ':'): not a URL this can mask precisely.
  // Likewise credentials after the host (`user:pass@` in the query): an unencoded '?' or '#' in a
  // password of a multi-host URL puts the next host's userinfo there.
  const { tail, end } = located.value;
  const rest = s.slice(tail, end);
  const path = rest.slice(0, indexOrEnd(rest, '?', 0));
  const colon = rest.indexOf(':');
  if (path.includes('@') || (colon >= 0 && colon < rest.lastIndexOf('@'))) return { ok: false, problem: "an '@' after the host" };
  return located;
}

function locateEntries(s: string, start: number, grammar: Grammar, text: boolean): Outcome<Located> {
  const entries: LocatedEntry[] = [];
  const lineEnd = text ? indexOrEnd(s, '\n', start) : s.length;
  let pos = start;
  for (;;) {
    // The user name: SQLAlchemy's `[^:/]*`; a transport host list also ends it at ',', '?' or '#'.
    let runEnd = pos;
    while (runEnd < lineEnd) {
      const c = s[runEnd] as string;
      if (c === ':' || c === '/' || (grammar === 'transport' && (c === ',' || c === '?' || c === '#')) || (text && TEXT_STOP.test(c))) break;
      runEnd++;
    }
    let userEnd = pos;
    let password: LocatedEntry['password'];
    let hasUserInfo = false;
    let hostStart = pos;
    if (s[runEnd] === ':') {
      const at = findUserInfoEnd(s, runEnd + 1, lineEnd, grammar, text);
      if (at >= 0) {
        userEnd = runEnd;
        password = { start: runEnd + 1, end: at };
        hasUserInfo = true;
        hostStart = at + 1;
      }
    }
    if (!hasUserInfo) {
      // No password: a user name ends at the last '@' of its run (SQLAlchemy's greedy `[^:/]*@`).
      const at = s.lastIndexOf('@', runEnd - 1);
      if (at >= pos) {
        userEnd = at;
        hasUserInfo = true;
        hostStart = at + 1;
      }
    }
    const hostPort = readHostPort(s, hostStart, lineEnd, grammar, text);
    if (!hostPort.ok) return hostPort;
    const { host, port, end } = hostPort.value;
    entries.push({ userStart: pos, userEnd, password, hasUserInfo, hostStart, hostEnd: end, host, port });
    if (grammar === 'transport' && s[end] === ',') {
      pos = end + 1;
      continue;
    }
    const tailEnd = text ? tailEndInText(s, end, lineEnd) : s.length;
    return { ok: true, value: { start, entries, tail: end, end: tailEnd } };
  }
}

function indexOrEnd(s: string, what: string, from: number): number {
  const i = s.indexOf(what, from);
  return i < 0 ? s.length : i;
}

/** The '@' that ends a password starting at `from`, or -1 when there is none. */
function findUserInfoEnd(s: string, from: number, lineEnd: number, grammar: Grammar, text: boolean): number {
  for (let at = s.indexOf('@', from); at >= 0 && at < lineEnd; at = s.indexOf('@', at + 1)) {
    // A host (or SQLAlchemy's '/' of a socket URL) must follow: an '@' followed by nothing, '?',
    // ',', '#' or white space is taken as part of the password.
    const next = s[at + 1];
    if (at + 1 >= lineEnd || next === '?' || next === ',' || next === '#' || next === '@' || (text && TEXT_STOP.test(next as string))) continue;
    // What follows this '@' up to where a host must have ended: it must hold no other '@'.
    let i = at + 1;
    let clean = true;
    while (i < lineEnd) {
      const c = s[i] as string;
      if (c === '?' || (grammar === 'transport' && c === ',') || (text && TEXT_STOP.test(c))) break;
      if (c === '@') {
        clean = false;
        break;
      }
      i++;
    }
    if (clean) return at;
  }
  return -1;
}

/** `host[:port]` at `from`, as SQLAlchemy's `\[ipv6\]|[^/:?]+` and `(?::port)?` read it, validated. */
function readHostPort(s: string, from: number, lineEnd: number, grammar: Grammar, text: boolean): Outcome<{ host: string; port: string | undefined; end: number }> {
  let i = from;
  let host: string;
  if (s[i] === '[') {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= lineEnd) return { ok: false, problem: "an IPv6 host has no closing ']'" };
    host = s.slice(i + 1, close);
    if (!IPV6.test(host)) return { ok: false, problem: 'an invalid IPv6 host between [ and ]' };
    i = close + 1;
  } else {
    while (i < lineEnd && !/[:/?#,]/.test(s[i] as string) && !(text && TEXT_STOP.test(s[i] as string))) i++;
    host = s.slice(from, i);
    if (!HOST_NAME.test(host)) return { ok: false, problem: 'an invalid host name' };
  }
  let port: string | undefined;
  if (s[i] === ':') {
    const portStart = i + 1;
    i = portStart;
    while (i < lineEnd && !/[/?#,]/.test(s[i] as string) && !(text && TEXT_STOP.test(s[i] as string))) i++;
    port = s.slice(portStart, i);
    if (!PORT.test(port)) return { ok: false, problem: 'a port that is not a number' };
  }
  // What may follow a host: SQLAlchemy's host and port stop only at '/' and '?'.
  const next = s[i];
  const follows =
    i >= lineEnd || next === '/' || next === '?' || (grammar === 'transport' && (next === ',' || next === '#')) || (text && next !== undefined && !/[A-Za-z0-9]/.test(next));
  if (!follows) return { ok: false, problem: 'an invalid host name' };
  return { ok: true, value: { host, port, end: i } };
}

function tailEndInText(s: string, from: number, lineEnd: number): number {
  let i = from;
  while (i < lineEnd && !TEXT_STOP.test(s[i] as string)) i++;
  // Punctuation that ends a sentence is not part of the URL.
  while (i > from && /[.,;:!]/.test(s[i - 1] as string)) i--;
  return i;
}

function isTransportGrammar(scheme: string): boolean {
  const base = scheme.toLowerCase().split('+')[0] as string;
  return !(scheme.includes('+') || SQLALCHEMY_BASES.has(base));
}

/** Masks secret-looking query parameters (`?password=…`, `&api_key=…`) in a URL's tail. */
function maskQuery(tail: string): string {
  const q = tail.indexOf('?');
  if (q < 0) return tail;
  const query = tail
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      return SECRET_QUERY_KEY.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join('&');
  return `${tail.slice(0, q)}?${query}`;
}

/** The located URL with each password replaced (a Nova placeholder such as `{password}` is kept). */
function spliceMasked(s: string, located: Located): string {
  let out = '';
  let pos = located.start;
  for (const entry of located.entries) {
    if (entry.password) {
      const written = s.slice(entry.password.start, entry.password.end);
      out += s.slice(pos, entry.password.start) + (PLACEHOLDER.test(written) && written.startsWith('{password') ? written : MASK);
      pos = entry.password.end;
    }
  }
  out += s.slice(pos, located.tail);
  return out + maskQuery(s.slice(located.tail, located.end));
}

/**
 * The conservative mask for what cannot be read as a URL: everything after the first ':' up to the
 * last '@' is hidden (a user name never holds a ':', a host never an '@'); without an '@',
 * everything after the first ':'; without either, everything.
 */
function maskUnparsable(rest: string): string {
  const colon = rest.indexOf(':');
  const at = rest.lastIndexOf('@');
  if (at >= 0) return `${colon >= 0 && colon < at ? rest.slice(0, colon + 1) : ''}${MASK}${maskQuery(rest.slice(at))}`;
  return colon >= 0 ? `${rest.slice(0, colon + 1)}${MASK}` : MASK;
}

/**
 * Masks every password in a URL: the userinfo password of each host (found as the parsers find it,
 * whatever characters the password holds: commas, spaces, quotes, '@', '/', '?', '#') and
 * secret-looking query parameters. A value that cannot be read as a URL is masked conservatively
 * (see `maskUnparsable`), never returned as it is. The one masking function: every printer, log
 * line, error message and JSON output goes through it or through {@link maskUrlsInText}.
 */
export function maskUrl(url: string): string {
  const scheme = SCHEME_PREFIX.exec(url);
  if (!scheme) return maskUnparsable(url);
  const start = scheme[0].length;
  const located = locate(url, start, isTransportGrammar(scheme[1] as string) ? 'transport' : 'sqlalchemy', false);
  if (!located.ok) return `${url.slice(0, start)}${maskUnparsable(url.slice(start))}`;
  return url.slice(0, start) + spliceMasked(url, located.value);
}

/**
 * Whether the rest of the line after a URL's hosts (up to the next URL) holds what looks like more
 * userinfo (`name:…@`): then a password held white space and an '@', and the URL went on there.
 */
function credentialsFollow(text: string, from: number, lineEnd: number): boolean {
  const next = /[A-Za-z0-9_+.-]:\/\//.exec(text.slice(from, lineEnd));
  const rest = text.slice(from, next ? from + next.index : lineEnd);
  return /[A-Za-z0-9_.~%-]:.*@/s.test(rest);
}

// A scheme in free text: not preceded by a character that could belong to it.
const TEXT_SCHEME = /(?<![A-Za-z0-9_+.-])([A-Za-z][A-Za-z0-9_+.-]*|\{scheme\}):\/\//g;

/**
 * Masks every URL inside free text (driver messages, log lines, stack traces), reading each
 * `scheme://` as {@link maskUrl} does; a password may hold spaces and quotes, and where the text
 * after `scheme://` cannot be read, everything up to the last '@' of the line (or to the next white
 * space) is hidden.
 */
export function maskUrlsInText(text: string): string {
  let out = '';
  let pos = 0;
  TEXT_SCHEME.lastIndex = 0;
  for (let m = TEXT_SCHEME.exec(text); m; m = TEXT_SCHEME.exec(text)) {
    if (m.index < pos) continue;
    const start = m.index + m[0].length;
    const located = locate(text, start, isTransportGrammar(m[1] as string) ? 'transport' : 'sqlalchemy', true);
    let end: number;
    let masked: string;
    const lineEnd = indexOrEnd(text, '\n', start);
    if (located.ok && !credentialsFollow(text, located.value.tail, lineEnd)) {
      end = located.value.end;
      masked = spliceMasked(text, located.value);
    } else {
      const at = text.lastIndexOf('@', lineEnd - 1);
      end = at >= start ? tailEndInText(text, at, lineEnd) : tailEndInText(text, start, lineEnd);
      masked = maskUnparsable(text.slice(start, end));
    }
    out += text.slice(pos, start) + masked;
    pos = end;
    TEXT_SCHEME.lastIndex = Math.max(end, start);
  }
  return out + text.slice(pos);
}

// ---------------------------------------------------------------------------------------------
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
  const located = locate(input, scheme[0].length, 'sqlalchemy', false);
  if (!located.ok) return located;
  const entry = located.value.entries[0] as LocatedEntry;
  // SQLAlchemy: `(?:/(?P<database>[^\?]*))?(?:\?(?P<query>.*))?`
  const tail = located.value.tail;
  const q = indexOrEnd(input, '?', tail);
  const database = input[tail] === '/' ? { start: tail + 1, end: q } : undefined;
  const query = q < input.length ? input.slice(q + 1) : undefined;
  return { ok: true, value: { entry, database, query } };
}

/** `urllib.parse.parse_qsl(query)` as SQLAlchemy calls it: '&' separates, blank values are dropped. */
function parseQsl(query: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const field of query.split('&')) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const value = field.slice(eq + 1);
    if (!value) continue;
    const unplus = (x: string): string => pyUnquote(x.replaceAll('+', ' '));
    pairs.push([unplus(field.slice(0, eq)), unplus(value)]);
  }
  return pairs;
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
  // A URL that fails to parse is named masked conservatively, whatever the masker could make of it.
  const given = SCHEME_PREFIX.exec(input);
  const masked = given ? `${given[0]}${maskUnparsable(input.slice(given[0].length))}` : maskUnparsable(input);
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
    masked: maskUrl(input),
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

// ---------------------------------------------------------------------------------------------
// Transport URLs

/** Python's `int()` on a port: white space around, a sign, '_' between digits. */
function pyInt(s: string): number | undefined {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d+(?:_\d+)*)[ \t\n\r\f\v]*$/.exec(s);
  if (!m) return undefined;
  const n = Number((m[2] as string).replaceAll('_', ''));
  return m[1] === '-' ? -n : n;
}

/**
 * Parses a transport URL as oslo.messaging's `TransportURL.parse` does (after `urllib.parse.urlparse`):
 * `transport://user:pass@host:port[,userN:passN@hostN:portN]/virtual_host?query`. The host list
 * ends at the first `/`, `?` or `#`, and hosts are separated by every `,`: in a password, these
 * four must be percent-encoded, while `@` and `:` may stay (each host's userinfo ends at its last
 * `@`). Templated URLs (`{scheme}://{username}:{password}@{hostname}:{port}/{path}`, which Nova
 * fills from `[DEFAULT] transport_url`) are accepted with their placeholders.
 *
 * @throws {InvalidInputError} (exit 127) for what oslo.messaging refuses (no scheme, a port that is
 *   not a number, unbalanced brackets), with the URL masked.
 */
export function parseTransportUrl(raw: string): TransportUrl {
  const input = raw.trim();
  const masked = maskUrl(input);
  const fail = (problem: string): never => {
    throw new InvalidInputError(`invalid transport URL '${masked}': ${problem}`);
  };
  const templated = HAS_PLACEHOLDER.test(input);
  // urlsplit drops tabs and line breaks anywhere in the URL.
  let rest = input.replace(/[\t\r\n]/g, '');
  let scheme = '';
  const colon = rest.indexOf(':');
  if (templated && rest.startsWith('{scheme}:')) {
    scheme = '{scheme}';
    rest = rest.slice(scheme.length + 1);
  } else if (colon > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  // oslo.messaging would take 'nova:pw@mq/' as a transport 'nova' with no host: a typo, refused.
  if (!scheme || !rest.startsWith('//')) fail('no scheme (expected <transport>://<user>:<password>@<host>:<port>/<virtual host>)');
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  // urlsplit's checks: brackets in pairs, the first bracketed host an IPv6 address (or IPvFuture),
  // and no character that NFKC normalization turns into a delimiter.
  if (netloc.includes('[') !== netloc.includes(']')) fail("unbalanced '[' and ']' in the host list");
  if (netloc.includes('[')) {
    const open = netloc.indexOf('[');
    const close = netloc.indexOf(']', open);
    const bracketed = close < 0 ? netloc.slice(open + 1) : netloc.slice(open + 1, close);
    if (!(bracketed.startsWith('v') ? /^v[a-fA-F0-9]+\..+$/s.test(bracketed) : isIPv6(bracketed))) fail('a host in [ ] is not an IPv6 address');
  }
  if (/[^\x00-\x7f]/.test(netloc)) {
    const bare = netloc.replace(/[@:#?]/g, '');
    if (bare !== bare.normalize('NFKC') && /[/?#@:]/.test(bare.normalize('NFKC'))) fail('the host list holds characters that Unicode normalization turns into delimiters');
  }
  const hash = indexOrEnd(rest, '#', 0);
  const q = Math.min(indexOrEnd(rest, '?', 0), hash);
  const path = rest.slice(0, q);
  const queryText = q < hash ? rest.slice(q + 1, hash) : '';

  const hosts: TransportHost[] = [];
  for (const [index, chunk] of netloc.split(',').entries()) {
    if (!chunk) continue;
    let hostPort = chunk;
    let username: string | undefined;
    let password: string | undefined;
    const at = chunk.lastIndexOf('@');
    if (at >= 0) {
      let user = chunk.slice(0, at);
      hostPort = chunk.slice(at + 1);
      const c = user.indexOf(':');
      if (c >= 0) {
        password = pyUnquote(user.slice(c + 1));
        user = user.slice(0, c);
      }
      username = pyUnquote(user);
    }
    // oslo_utils.netutils.parse_host_port
    let hostname: string | undefined;
    let port: number | string | undefined;
    const badPort = (): never =>
      fail(`host ${index + 1} has a port that is not a number (percent-encode a ',', '/', '?' or '#' in a password: %2C, %2F, %3F, %23)`);
    const portOf = (text: string): number | string => (/^\{port\d*\}$/.test(text) ? text : (pyInt(text) ?? badPort()));
    if (!hostPort) {
      hostname = undefined;
    } else if (hostPort.startsWith('[')) {
      const pieces = hostPort.slice(1).split(']');
      if (pieces.length !== 2) fail(`host ${index + 1} has unbalanced '[' and ']'`);
      hostname = pieces[0] as string;
      const after = pieces[1] as string;
      port = after.includes(':') ? portOf(after.split(':')[1] as string) : undefined;
    } else if (hostPort.split(':').length === 2) {
      const [h, p] = hostPort.split(':') as [string, string];
      hostname = h;
      port = portOf(p);
    } else {
      hostname = hostPort;
    }
    hosts.push(Object.freeze({ hostname, port, username, password }));
  }
  const query: Record<string, string[]> = {};
  for (const [k, v] of parseQsl(queryText)) (query[k] ??= []).push(v);
  return Object.freeze({
    scheme,
    hosts: Object.freeze(hosts),
    virtualHost: path.startsWith('/') ? pyUnquote(path.slice(1)) : undefined,
    query: Object.freeze(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.join(',')]))),
    templated,
    raw: input,
    masked,
  });
}
