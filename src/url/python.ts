// Python's parsing primitives as SQLAlchemy and oslo.messaging use them: read the same way here.

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

/** `urllib.parse.parse_qsl(query)` as SQLAlchemy calls it: '&' separates, blank values are dropped. */
export function parseQsl(query: string): Array<[string, string]> {
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

/** Python's `int()` on a port: white space around, a sign, '_' between digits. */
export function pyInt(s: string): number | undefined {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d+(?:_\d+)*)[ \t\n\r\f\v]*$/.exec(s);
  if (!m) return undefined;
  const n = Number((m[2] as string).replaceAll('_', ''));
  return m[1] === '-' ? -n : n;
}

