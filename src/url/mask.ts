import { indexOrEnd, isTransportGrammar, type Located, locate, MASK, PLACEHOLDER, SCHEME_PREFIX, SECRET_QUERY_KEY, tailEndInText, TEXT_STOP } from './locate.js';

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
