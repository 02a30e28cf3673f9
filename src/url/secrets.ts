// Masking by value: the secrets a URL holds, in every spelling that may turn up in a message, and
// their removal from a text (a driver's message, an error line). No text is scanned for URL shapes.
import { isTransportGrammar, locate, MASK, PLACEHOLDER, SCHEME_PREFIX, SECRET_QUERY_KEY } from './locate.js';
import { parseDatabaseUrl } from './parse-database.js';
import { parseTransportUrl } from './parse-transport.js';
import { pyUnquote } from './python.js';

/** A secret as written, decoded, and percent-encoded (upper- and lower-case hex). */
function spellings(written: string): string[] {
  if (written === '' || PLACEHOLDER.test(written)) return [];
  const decoded = pyUnquote(written);
  const encoded = encodeURIComponent(decoded);
  return [written, decoded, encoded, encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())];
}

/**
 * Every secret a URL-bearing value holds, in each spelling (as written, decoded, encoded): the
 * password of each host, as the masker finds it and as the parsers read it, and the values of
 * secret-looking query parameters. For a value that cannot be read as a URL, what the
 * conservative mask hides (after the first ':' up to the last '@', or everything after the first ':').
 */
export function urlSecrets(raw: string): string[] {
  const url = raw.trim();
  const found = new Set<string>();
  const add = (written: string | undefined): void => {
    if (written !== undefined) for (const s of spellings(written)) found.add(s);
  };
  const scheme = SCHEME_PREFIX.exec(url);
  const start = scheme ? scheme[0].length : 0;
  const located = scheme ? locate(url, start, isTransportGrammar(scheme[1] as string) ? 'transport' : 'sqlalchemy') : undefined;
  if (located?.ok) {
    for (const entry of located.value.entries) if (entry.password) add(url.slice(entry.password.start, entry.password.end));
  } else {
    const rest = url.slice(start);
    const colon = rest.indexOf(':');
    const at = rest.lastIndexOf('@');
    if (at >= 0) add(rest.slice(colon >= 0 && colon < at ? colon + 1 : 0, at));
    else add(colon >= 0 ? rest.slice(colon + 1) : rest);
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    for (const pair of url.slice(q + 1).split(/[&#]/)) {
      const eq = pair.indexOf('=');
      if (eq > 0 && SECRET_QUERY_KEY.test(pair.slice(0, eq))) add(pair.slice(eq + 1));
    }
  }
  // The parsers' own reading, where it differs from the masker's (it should not; belt and braces).
  for (const parse of [parseDatabaseUrl, parseTransportUrl]) {
    try {
      const parsed = parse(url);
      const passwords = 'hosts' in parsed ? parsed.hosts.map((h) => h.password) : [parsed.password];
      for (const p of passwords) add(p);
    } catch {
      // Not this kind of URL.
    }
  }
  return [...found];
}

/**
 * `text` with every occurrence of each secret replaced by `****`, longest first (so that a secret
 * holding another is removed whole). Masking by value: whatever the text around it looks like.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  const sorted = [...new Set(secrets)].filter((s) => s !== '' && s !== MASK).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of sorted) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

/**
 * The secrets of a run, collected from the values it was given (flags, configuration, cell
 * mappings read): the top-level error printer removes them by value as a last line of defence.
 * One per process, owned by the CLI's runtime (no module-level state).
 */
export class SecretRegistry {
  private readonly secrets = new Set<string>();

  /** Registers the secrets of a URL-bearing value (see {@link urlSecrets}). */
  addUrl(raw: string | undefined): void {
    if (raw) for (const s of urlSecrets(raw)) this.secrets.add(s);
  }

  /** Registers secrets known by value. */
  add(secrets: Iterable<string>): void {
    for (const s of secrets) if (s) this.secrets.add(s);
  }

  /** `text` with every registered secret removed. */
  redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }
}
