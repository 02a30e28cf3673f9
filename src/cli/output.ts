import Table from 'cli-table3';
import { maskUrlsInText } from '../index.js';
import { escapeControlKeepNewlines, escapeJsonText } from '../text/escape.js';

/** Where a command writes: human tables or JSON on stdout, progress and notices on stderr. */
export interface Output {
  readonly json: boolean;
  /** A JSON document (with `--json`). `reveal` prints URLs unmasked (only `list_cells --verbose`). */
  data(value: unknown, options?: RevealOption): void;
  /** A table for people. */
  table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null | undefined>>, options?: RevealOption): void;
  /** A line for people on stdout. */
  line(text: string): void;
  /** A notice on stderr (progress, waits); never part of the JSON document. */
  notice(text: string): void;
}

/** Set only where an operator asked to see secrets (`list_cells --verbose`). */
export interface RevealOption {
  readonly reveal?: boolean;
}

/** Writers behind an {@link Output}; the CLI passes process streams, tests may pass buffers. */
export interface Writers {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The process's streams; once a reader has closed its end (`| head -1`), what it would get is dropped. */
export const processWriters: Writers = {
  stdout: (text) => void (process.stdout.destroyed || process.stdout.write(text)),
  stderr: (text) => void (process.stderr.destroyed || process.stderr.write(text)),
};

/** Every byte that leaves goes through the URL masker, as a last safety net for passwords. */
export function createOutput(json: boolean, writers: Writers = processWriters): Output {
  const cell = (v: string | number | boolean | null | undefined): string => (v === null || v === undefined ? '' : String(v));
  return {
    json,
    data: (value, options) => {
      const text = escapeJsonText(JSON.stringify(value, null, 2));
      writers.stdout(`${options?.reveal ? text : maskUrlsInText(text)}\n`);
    },
    table: (head, rows, options) => {
      const table = new Table({ head: [...head], style: { head: [], border: [] } });
      // #14: no control character reaches the terminal (commands escape database values in full).
      for (const row of rows) table.push(row.map((v) => escapeControlKeepNewlines(cell(v))));
      const text = table.toString();
      writers.stdout(`${options?.reveal ? text : maskUrlsInText(text)}\n`);
    },
    line: (text) => writers.stdout(`${escapeControlKeepNewlines(maskUrlsInText(text))}\n`),
    notice: (text) => writers.stderr(`${escapeControlKeepNewlines(maskUrlsInText(text))}\n`),
  };
}
