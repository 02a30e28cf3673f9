// Tables for people, as nova-manage prints them: PrettyTable's default layout (`+----+` ASCII,
// centred cells, one space of padding, `True`/`False`), so that runbooks parsing nova-manage's
// output with `awk -F'|'` read ours the same. Box drawing only on request (`--table-style box`).
//
// Written here rather than configured from a library: the one we had (cli-table3) wraps in time
// quadratic in a cell's length (issue 13: 100 detail lines took 49 s), and none reproduces
// PrettyTable's centring to the character. Everything below is linear in the size of the table.

/** A value in a table cell: booleans print as Python's `True`/`False`, null and undefined as ''. */
export type TableCell = string | number | boolean | null | undefined;

/** `ascii`: PrettyTable's `+---+` (nova-manage's); `box`: box-drawing characters. */
export type TableStyle = 'ascii' | 'box';
export const TABLE_STYLES: readonly TableStyle[] = ['ascii', 'box'];

/** PrettyTable's horizontal alignments: left, centre (its default), right. */
export type Align = 'l' | 'c' | 'r';

export interface TableOptions {
  /** @default 'ascii' */
  readonly style?: TableStyle | undefined;
  /**
   * The width the table should fit in (the terminal's columns). Only text with spaces wraps, at
   * spaces: a single word (a uuid, a URL, a host name) is never broken, so a table of such values
   * is as wide as they are, as PrettyTable's is. @default 80
   */
  readonly width?: number | undefined;
  /** @default 'c' (PrettyTable's) */
  readonly align?: Align | undefined;
  /** `frame`: rules around the header and the table; `all`: also between rows. @default 'frame' */
  readonly hrules?: 'frame' | 'all' | undefined;
}

/** The width the table fits in when the terminal's is unknown (a pipe, a file). */
export const DEFAULT_TABLE_WIDTH = 80;

interface Glyphs {
  readonly h: string;
  readonly v: string;
  /** Junctions of the top, middle and bottom rules: left, inner, right. */
  readonly top: readonly [string, string, string];
  readonly mid: readonly [string, string, string];
  readonly bottom: readonly [string, string, string];
}

const GLYPHS: Record<TableStyle, Glyphs> = {
  ascii: { h: '-', v: '|', top: ['+', '+', '+'], mid: ['+', '+', '+'], bottom: ['+', '+', '+'] },
  box: { h: '─', v: '│', top: ['┌', '┬', '┐'], mid: ['├', '┼', '┤'], bottom: ['└', '┴', '┘'] },
};

/** How a value prints in a cell (Python's `str()` of nova-manage's values). */
export function cellText(value: TableCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

// Combining marks take no column; East Asian wide and fullwidth characters take two (wcwidth's
// rules, as PrettyTable measures).
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/u;
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
/** Whether every character of `text` is printable ASCII (one column each): the common, fast case. */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Columns a line takes on a terminal. */
export function textWidth(text: string): number {
  if (isPlain(text)) return text.length;
  let width = 0;
  for (const ch of text) width += ZERO_WIDTH.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return width;
}

/** PrettyTable's `_justify` (str.center's way with an odd excess). */
function justify(text: string, width: number, align: Align, textColumns = textWidth(text)): string {
  const excess = width - textColumns;
  if (excess <= 0) return text;
  if (align === 'l') return text + ' '.repeat(excess);
  if (align === 'r') return ' '.repeat(excess) + text;
  const half = Math.floor(excess / 2);
  if (excess % 2 === 0) return ' '.repeat(half) + text + ' '.repeat(half);
  // Odd excess: more space on the right for text of odd width, on the left for even.
  return textColumns % 2 ? ' '.repeat(half) + text + ' '.repeat(half + 1) : ' '.repeat(half + 1) + text + ' '.repeat(half);
}

/** The longest word of a line (its width when it has no white space): how narrow its column may get. */
function longestWord(line: string): number {
  if (!isPlain(line)) return Math.max(0, ...line.split(/\s+/).map(textWidth));
  let longest = 0;
  let current = 0;
  for (let i = 0; i < line.length; i++) {
    if (line.charCodeAt(i) === 0x20) current = 0;
    else if (++current > longest) longest = current;
  }
  return longest;
}

/** Greedy word wrap of one line at `width` (textwrap.fill's result for text without long words). */
function wrapLine(line: string, width: number, out: string[]): void {
  if (textWidth(line) <= width) {
    out.push(line);
    return;
  }
  let current = '';
  let currentWidth = 0;
  for (const word of line.split(/\s+/)) {
    if (word === '') continue;
    let rest = word;
    let restWidth = textWidth(rest);
    // A word wider than the column (only when even the narrowest layout overflows) is cut.
    while (restWidth > width) {
      if (current) out.push(current);
      const chars = Array.from(rest);
      let piece = '';
      let pieceWidth = 0;
      while (chars.length > 0 && pieceWidth + textWidth(chars[0] as string) <= width) {
        const ch = chars.shift() as string;
        piece += ch;
        pieceWidth += textWidth(ch);
      }
      if (piece === '') piece = chars.shift() as string;
      out.push(piece);
      rest = chars.join('');
      restWidth = textWidth(rest);
      current = '';
      currentWidth = 0;
    }
    if (rest === '') continue;
    if (current === '') {
      current = rest;
      currentWidth = restWidth;
    } else if (currentWidth + 1 + restWidth <= width) {
      current += ` ${rest}`;
      currentWidth += 1 + restWidth;
    } else {
      out.push(current);
      current = rest;
      currentWidth = restWidth;
    }
  }
  if (current !== '' || out.length === 0) out.push(current);
}

/**
 * Column widths that fit `available` columns of text: every column as wide as its widest line
 * when that fits; else the widest columns narrowed alike (water filling), none below its longest
 * word and its header. A table that cannot fit keeps those floors and is wider than asked.
 */
function fitWidths(natural: readonly number[], floors: readonly number[], available: number): number[] {
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  if (sum(natural) <= available) return [...natural];
  if (sum(floors) >= available) return [...floors];
  const at = (cap: number): number[] => natural.map((n, i) => Math.max(floors[i] as number, Math.min(n, cap)));
  let lo = 0;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(at(mid)) <= available) lo = mid;
    else hi = mid - 1;
  }
  const widths = at(lo);
  // Hand what the cap left over to the narrowed columns, one column each, left to right.
  let spare = available - sum(widths);
  for (let i = 0; i < widths.length && spare > 0; i++) {
    if ((widths[i] as number) < (natural[i] as number)) {
      widths[i] = (widths[i] as number) + 1;
      spare--;
    }
  }
  return widths;
}

/** A cell's lines and their widths (its width: the widest). */
interface Measured {
  readonly lines: readonly string[];
  readonly widths: readonly number[];
  readonly width: number;
}

/**
 * Renders a table as nova-manage's PrettyTable prints it (`print(t)`), without the final newline.
 * With no rows it prints the header between rules, as PrettyTable does.
 */
export function renderTable(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<TableCell>>, options: TableOptions = {}): string {
  const g = GLYPHS[options.style ?? 'ascii'];
  const align = options.align ?? 'c';
  const columns = head.length;
  // One pass over the cells: their lines, their widths, their longest words.
  const measure = (text: string): Measured => {
    const lines = text.split('\n');
    const widths = lines.map(textWidth);
    return { lines, widths, width: Math.max(...widths) };
  };
  const headCells = head.map(measure);
  const natural = headCells.map((c) => c.width);
  // A header never wraps (PrettyTable never wraps one): its column is at least as wide as it.
  const floors = [...natural];
  const body: Measured[][] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as ReadonlyArray<TableCell>;
    const cells: Measured[] = new Array(columns);
    for (let i = 0; i < columns; i++) {
      const cell = measure(cellText(row[i]));
      cells[i] = cell;
      if (cell.width > (natural[i] as number)) natural[i] = cell.width;
      for (const line of cell.lines) {
        const word = longestWord(line);
        if (word > (floors[i] as number)) floors[i] = word;
      }
    }
    body[r] = cells;
  }
  // Each column takes its text plus two spaces of padding and one rule; the table one more rule.
  const overhead = 3 * columns + 1;
  const width = Math.max(options.width ?? DEFAULT_TABLE_WIDTH, overhead + columns);
  const widths = fitWidths(natural, floors.map((f, i) => Math.min(f, natural[i] as number)), width - overhead);

  const rule = (j: readonly [string, string, string]): string => j[0] + widths.map((w) => g.h.repeat(w + 2)).join(j[1]) + j[2];
  const top = rule(g.top);
  const mid = rule(g.mid);
  const bottom = rule(g.bottom);
  const out: string[] = [top];
  const emit = (cells: readonly Measured[]): void => {
    const fitted = cells.map((cell, i) => {
      const w = widths[i] as number;
      if (cell.width <= w) return cell;
      const lines: string[] = [];
      for (const line of cell.lines) wrapLine(line, w, lines);
      return { lines, widths: lines.map(textWidth), width: w };
    });
    let height = 0;
    for (const cell of fitted) if (cell.lines.length > height) height = cell.lines.length;
    for (let y = 0; y < height; y++) {
      let line = g.v;
      for (let i = 0; i < columns; i++) {
        const cell = fitted[i] as Measured;
        line += ` ${justify(cell.lines[y] ?? '', widths[i] as number, align, cell.widths[y] ?? 0)} ${g.v}`;
      }
      out.push(line);
    }
  };
  emit(headCells);
  out.push(mid);
  for (let r = 0; r < body.length; r++) {
    emit(body[r] as Measured[]);
    if (options.hrules === 'all' && r < body.length - 1) out.push(mid);
  }
  if (options.hrules !== 'all' || body.length > 0) out.push(bottom);
  return out.join('\n');
}

/** How many items of a long list a table shows before it summarises. */
export const SUMMARY_LIMIT = 10;

/**
 * A long list for a table cell, summarised: the first `limit` items and a line saying how many
 * more there are and how to see them all. Everything when `all` is set (`--verbose`).
 */
export function summarise(items: readonly string[], options: { limit?: number; all?: boolean } = {}): string[] {
  const limit = options.limit ?? SUMMARY_LIMIT;
  if (options.all || items.length <= limit) return [...items];
  return [...items.slice(0, limit), `… and ${items.length - limit} more (all of them: --json or --verbose)`];
}

/**
 * Python's `textwrap.wrap(text, width, subsequent_indent=…)` for one paragraph: words joined by
 * single spaces, greedy, a word longer than the line kept whole on its own line (oslo wraps
 * nova-status's details this way, at 60).
 */
export function wrapWords(text: string, width: number, subsequentIndent = ''): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    const indent = lines.length === 0 ? '' : subsequentIndent;
    if (current === '') current = indent + word;
    else if (textWidth(current) + 1 + textWidth(word) <= width) current += ` ${word}`;
    else {
      lines.push(current);
      current = subsequentIndent + word;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}
