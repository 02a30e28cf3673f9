// Finding the credentials: the one reading that parsing and masking share.

// Schemes read with SQLAlchemy's URL grammar (a comma is no host separator there).
const SQLALCHEMY_BASES = new Set(['postgresql', 'postgres', 'mysql', 'mariadb', 'sqlite', 'oracle', 'mssql', 'cockroachdb']);
export const SECRET_QUERY_KEY = /pass|secret|token|key|credential/i;
export const MASK = '****';

// SQLAlchemy's `(?P<name>[\w\+]+)://` and urlsplit's `[a-zA-Z][a-zA-Z0-9+.-]*`, together; or Nova's
// `{scheme}` placeholder.
export const SCHEME_PREFIX = /^([A-Za-z0-9_+.-]+|\{scheme\}):\/\//;
// Nova's `CellMapping._format_url` placeholders (indexed ones for multi-host defaults).
export const PLACEHOLDER = /^\{(?:scheme|username\d*|password\d*|hostname\d*|port\d*|path|query|fragment)\}$/;
export const HAS_PLACEHOLDER = /\{(?:scheme|username\d*|password\d*|hostname\d*|port\d*|path|query|fragment)\}/;
const HOST_NAME = /^(?:[\p{L}\p{N}\p{M}_.~%-]*|\{hostname\d*\})$/u;
const PORT = /^(?:\d*|\{port\d*\})$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[\p{L}\p{N}_.~-]+)?$/u;

export type Grammar = 'sqlalchemy' | 'transport';

export interface LocatedEntry {
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

export interface Located {
  /** Where the part after `scheme://` starts. */
  readonly start: number;
  readonly entries: readonly LocatedEntry[];
  /** Where the path, query or fragment after the last host starts. */
  readonly tail: number;
  /** Where the URL ends. */
  readonly end: number;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/**
 * Locates every userinfo, host and port of the URL whose `scheme://` ends at `start`, reading the
 * userinfo as SQLAlchemy's `_parse_url` does: the user name runs to the first ':' (it holds no
 * ':' or '/'), and the password runs from there to an '@'. SQLAlchemy takes the first '@' (its
 * password is `[^@]*`); this takes the first '@' after which no other '@' comes before the host
 * ends, so that an unencoded '@' in a password ends up in the password, not in the host (which
 * SQLAlchemy would then fail to connect to). With the `transport` grammar a ',' also ends a host
 * and starts the next one (oslo.messaging's `user:pass@h1,user:pass@h2`).
 */
export function locate(s: string, start: number, grammar: Grammar): Outcome<Located> {
  const located = locateEntries(s, start, grammar);
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

function locateEntries(s: string, start: number, grammar: Grammar): Outcome<Located> {
  const entries: LocatedEntry[] = [];
  const lineEnd = s.length;
  let pos = start;
  for (;;) {
    // The user name: SQLAlchemy's `[^:/]*`; a transport host list also ends it at ',', '?' or '#'.
    let runEnd = pos;
    while (runEnd < lineEnd) {
      const c = s[runEnd] as string;
      if (c === ':' || c === '/' || (grammar === 'transport' && (c === ',' || c === '?' || c === '#'))) break;
      runEnd++;
    }
    let userEnd = pos;
    let password: LocatedEntry['password'];
    let hasUserInfo = false;
    let hostStart = pos;
    if (s[runEnd] === ':') {
      const at = findUserInfoEnd(s, runEnd + 1, lineEnd, grammar);
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
    const hostPort = readHostPort(s, hostStart, lineEnd, grammar);
    if (!hostPort.ok) return hostPort;
    const { host, port, end } = hostPort.value;
    entries.push({ userStart: pos, userEnd, password, hasUserInfo, hostStart, hostEnd: end, host, port });
    if (grammar === 'transport' && s[end] === ',') {
      pos = end + 1;
      continue;
    }
    return { ok: true, value: { start, entries, tail: end, end: s.length } };
  }
}

export function indexOrEnd(s: string, what: string, from: number): number {
  const i = s.indexOf(what, from);
  return i < 0 ? s.length : i;
}

/** The '@' that ends a password starting at `from`, or -1 when there is none. */
function findUserInfoEnd(s: string, from: number, lineEnd: number, grammar: Grammar): number {
  for (let at = s.indexOf('@', from); at >= 0 && at < lineEnd; at = s.indexOf('@', at + 1)) {
    // A host (or SQLAlchemy's '/' of a socket URL) must follow: an '@' followed by nothing, '?',
    // ',', '#' or white space is taken as part of the password.
    const next = s[at + 1];
    if (at + 1 >= lineEnd || next === '?' || next === ',' || next === '#' || next === '@') continue;
    // What follows this '@' up to where a host must have ended: it must hold no other '@'.
    let i = at + 1;
    let clean = true;
    while (i < lineEnd) {
      const c = s[i] as string;
      if (c === '?' || (grammar === 'transport' && c === ',')) break;
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
function readHostPort(s: string, from: number, lineEnd: number, grammar: Grammar): Outcome<{ host: string; port: string | undefined; end: number }> {
  let i = from;
  let host: string;
  if (s[i] === '[') {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= lineEnd) return { ok: false, problem: "an IPv6 host has no closing ']'" };
    host = s.slice(i + 1, close);
    if (!IPV6.test(host)) return { ok: false, problem: 'an invalid IPv6 host between [ and ]' };
    i = close + 1;
  } else {
    while (i < lineEnd && !/[:/?#,]/.test(s[i] as string)) i++;
    host = s.slice(from, i);
    if (!HOST_NAME.test(host)) return { ok: false, problem: 'an invalid host name' };
  }
  let port: string | undefined;
  if (s[i] === ':') {
    const portStart = i + 1;
    i = portStart;
    while (i < lineEnd && !/[/?#,]/.test(s[i] as string)) i++;
    port = s.slice(portStart, i);
    if (!PORT.test(port)) return { ok: false, problem: 'a port that is not a number' };
  }
  // What may follow a host: SQLAlchemy's host and port stop only at '/' and '?'.
  const next = s[i];
  const follows =
    i >= lineEnd || next === '/' || next === '?' || (grammar === 'transport' && (next === ',' || next === '#'));
  if (!follows) return { ok: false, problem: 'an invalid host name' };
  return { ok: true, value: { host, port, end: i } };
}

export function isTransportGrammar(scheme: string): boolean {
  const base = scheme.toLowerCase().split('+')[0] as string;
  return !(scheme.includes('+') || SQLALCHEMY_BASES.has(base));
}

