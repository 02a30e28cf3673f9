import { isTransportGrammar, type Located, locate, MASK, PLACEHOLDER, SCHEME_PREFIX, SECRET_QUERY_KEY } from './locate.js';

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
export function maskUnparsable(rest: string): string {
  const colon = rest.indexOf(':');
  const at = rest.lastIndexOf('@');
  if (at >= 0) return `${colon >= 0 && colon < at ? rest.slice(0, colon + 1) : ''}${MASK}${maskQuery(rest.slice(at))}`;
  return colon >= 0 ? `${rest.slice(0, colon + 1)}${MASK}` : MASK;
}

/**
 * The one form in which a URL-bearing value may be printed (tables, JSON, text, logs, errors,
 * JUnit): the userinfo password of each host replaced by `****`, found as the parsers find it (the
 * last '@' before the host, whatever the password holds: commas, spaces, quotes, '@', '/', '?',
 * '#', '%'), and secret-looking query parameters masked. A Nova placeholder (`{password}`) is kept.
 * A value that cannot be read as a URL is masked conservatively (see `maskUnparsable`), never
 * returned as it is.
 */
export function displayUrl(raw: string): string {
  const url = raw.trim();
  const scheme = SCHEME_PREFIX.exec(url);
  if (!scheme) return maskUnparsable(url);
  const start = scheme[0].length;
  const located = locate(url, start, isTransportGrammar(scheme[1] as string) ? 'transport' : 'sqlalchemy');
  if (!located.ok) return `${url.slice(0, start)}${maskUnparsable(url.slice(start))}`;
  return url.slice(0, start) + spliceMasked(url, located.value);
}

/**
 * How a refused (unparsable) URL is named in an error: its scheme and `****`, nothing else of it
 * (`mysql+pymysql://****`), or `****` without a scheme.
 */
export function refusedUrl(raw: string): string {
  const scheme = SCHEME_PREFIX.exec(raw.trim());
  return scheme ? `${scheme[0]}${MASK}` : MASK;
}

/** @deprecated The former name of {@link displayUrl}: the same function. */
export const maskUrl = displayUrl;
