import { createWriteStream, type WriteStream } from 'node:fs';
import { pino, type Logger } from 'pino';
import { escapeControl, InvalidInputError } from '../index.js';
import { snakeCaseKeys } from './json.js';

/** A batch as logged: which cell and mover, which keys, how many rows, how long. */
export interface BatchLine {
  readonly cell: string;
  readonly mover: string;
  readonly afterKey: number;
  readonly lastKey: number;
  readonly found: number;
  readonly done: number;
  readonly ms: number;
  /** Run while yielding to other clients (JSON lines only). */
  readonly yielding?: boolean;
}

/** Where per-batch lines go: a file (`--log-file`) or stderr, as text or JSON lines (`--log-format`). */
export interface BatchLog {
  batch(line: BatchLine): void;
  note(message: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Opens the batch log. JSON lines come from pino, their keys in snake_case (docs/json.md); text lines are for people reading stderr. */
export function openBatchLog(options: { file?: string | undefined; format: 'text' | 'json'; stderr: (text: string) => void }): BatchLog {
  let stream: WriteStream | undefined;
  if (options.file) {
    stream = createWriteStream(options.file, { flags: 'a' });
    stream.on('error', () => undefined);
  }
  const sink = (text: string) => (stream ? stream.write(text) : options.stderr(text));
  let logger: Logger | undefined;
  if (options.format === 'json') {
    logger = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, { write: (text: string) => sink(text) });
  }
  return {
    batch(line) {
      if (logger) logger.info({ event: 'batch', ...(snakeCaseKeys(line) as object), key_range: [line.afterKey, line.lastKey] }, 'batch');
      // #14: a cell name cannot forge a log line or drive the terminal (JSON lines are escaped by pino).
      else sink(`${new Date().toISOString()} batch cell=${escapeControl(line.cell)} mover=${line.mover} keys=(${line.afterKey},${line.lastKey}] rows=${line.found} done=${line.done} ms=${line.ms}\n`);
    },
    note(message, fields = {}) {
      if (logger) logger.warn(snakeCaseKeys(fields) as object, message);
      else sink(`${new Date().toISOString()} ${escapeControl(message)}\n`);
    },
    close: () =>
      new Promise((resolve) => {
        if (!stream) return resolve();
        stream.end(() => resolve());
      }),
  };
}

/** Checks that a log file can be opened before any work starts (bad input writes nothing). */
export async function checkLogFile(file: string | undefined): Promise<void> {
  if (!file) return;
  const { open } = await import('node:fs/promises');
  try {
    const handle = await open(file, 'a');
    await handle.close();
  } catch (cause) {
    throw new InvalidInputError(`cannot write the log file '${file}': ${(cause as NodeJS.ErrnoException).code ?? cause}`, { cause });
  }
}
