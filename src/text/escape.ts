/**
 * Values from the databases (host names, cell names, group names, reasons built from them) are
 * printed for people with their control characters escaped, so that a hostile value can neither
 * drive the terminal (ESC sequences, BEL, a CR that overwrites the line) nor forge a line of a
 * table or of the output (an embedded newline). JSON needs no such help for C0 characters (its
 * encoder escapes them); {@link escapeJsonText} adds the few it leaves raw.
 *
 * What is escaped: C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F; U+009B
 * is CSI on terminals that honour 8-bit controls), the line and paragraph separators (U+2028,
 * U+2029) and the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
 * which reorder what a reader sees. Everything else — quotes, backslashes, multibyte text — is
 * printed as it is, so that escaping is idempotent: `escapeControl(escapeControl(s)) ===
 * escapeControl(s)`, and a value escaped where it is formatted is not escaped twice by the output.
 */

// One class for every character escaped; `\n` is kept apart for whole-text escaping.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e', '\u0000': '\\0' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * A value for one line of human output: every control character escaped (`\n`, `\r`, `\t`, `\e`
 * for ESC, `\0`, `\xHH`, `\u{HHHH}`). For table cells and for values put into a message.
 */
export function escapeControl(value: string): string {
  return value.replace(CONTROL, escapeOne);
}

/**
 * A whole text for people that may span lines on purpose (a message, a rendered table): the same
 * escapes, except that newlines are kept. The output's last line of defence; values that must not
 * forge a line are escaped with {@link escapeControl} where they are formatted.
 */
export function escapeControlKeepNewlines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeOne);
}

/** A value quoted for a message: `'…'` around {@link escapeControl}'s form (trailing spaces show). */
export function quoted(value: string): string {
  return `'${escapeControl(value)}'`;
}

// JSON.stringify escapes C0 but leaves DEL, C1, the separators and the bidi controls raw.
const JSON_RAW = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * JSON text with the control characters its encoder leaves raw written as `\uXXXX` escapes: the
 * same JSON value (it parses to the same strings), safe to print on a terminal.
 */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** A table cell as the output takes it. */
type Cell = string | number | boolean | null | undefined;

/**
 * Table rows with every string cell passed through {@link escapeControl}: for tables whose cells
 * hold values from the databases (a newline in a host name must not draw a row of its own).
 */
export function printableRows<R extends ReadonlyArray<Cell>>(rows: ReadonlyArray<R>): string[][] | Cell[][] {
  return rows.map((row) => row.map((v) => (typeof v === 'string' ? escapeControl(v) : v)));
}
