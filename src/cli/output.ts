import { escapeControlKeepNewlines, escapeJsonText } from '../index.js';
import { snakeCaseKeys } from './json.js';
import { DEFAULT_TABLE_WIDTH, renderTable, type TableCell, type TableOptions, type TableStyle } from './table.js';

/** Where a command writes: human tables or JSON on stdout, progress and notices on stderr. */
export interface Output {
  readonly json: boolean;
  /** A JSON document (with `--json`), its keys in snake_case (docs/json.md). URL-bearing values are put in through `displayUrl` (issue 14). */
  data(value: unknown, options?: RevealOption): void;
  /** A table for people. */
  table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<TableCell>>, options?: RevealOption & TableLayout): void;
  /** A line for people on stdout. */
  line(text: string): void;
  /** A notice on stderr (progress, waits); never part of the JSON document. */
  notice(text: string): void;
}

/** Set only where an operator asked to see secrets (`list_cells --verbose`). */
export interface RevealOption {
  readonly reveal?: boolean;
}

/** How one table is laid out (see `renderTable`): PrettyTable's defaults unless a command says otherwise. */
export type TableLayout = Pick<TableOptions, 'align' | 'hrules'>;

/** Writers behind an {@link Output}; the CLI passes process streams, tests may pass buffers. */
export interface Writers {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The terminal's width, when stdout is one (tables fit it; 80 when unknown). */
  columns?(): number | undefined;
}

/** The process's streams; once a reader has closed its end (`| head -1`), what it would get is dropped. */
export const processWriters: Writers = {
  stdout: (text) => void (process.stdout.destroyed || process.stdout.write(text)),
  stderr: (text) => void (process.stderr.destroyed || process.stderr.write(text)),
  columns: () => (process.stdout.isTTY ? process.stdout.columns : undefined),
};

/**
 * Writes what commands give it: every URL-bearing value was put in through `displayUrl` where the
 * command built it (masking by value, not by scanning the text for URL shapes: issue 14).
 */
export function createOutput(json: boolean, writers: Writers = processWriters, tableStyle: TableStyle = 'ascii'): Output {
  return {
    json,
    data: (value, options) => {
      const text = escapeJsonText(JSON.stringify(snakeCaseKeys(value), null, 2));
      writers.stdout(`${text}\n`);
    },
    table: (head, rows, options) => {
      const width = writers.columns?.() || DEFAULT_TABLE_WIDTH;
      // #14: no control character reaches the terminal (commands escape database values in full).
      const safe = rows.map((row) => row.map((v) => (typeof v === 'string' ? escapeControlKeepNewlines(v) : v)));
      const text = renderTable(head, safe, { style: tableStyle, width, align: options?.align, hrules: options?.hrules });
      writers.stdout(`${text}\n`);
    },
    line: (text) => writers.stdout(`${escapeControlKeepNewlines(text)}\n`),
    notice: (text) => writers.stderr(`${escapeControlKeepNewlines(text)}\n`),
  };
}
