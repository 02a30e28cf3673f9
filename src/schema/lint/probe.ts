import type { SessionConnection } from '../../db/dialect.js';
import type { Dialect } from '../../url/index.js';
import type { ParsedStatement } from './parse.js';
import type { ProbeFacts } from './types.js';

/** A statement to replay, as a migration sent it. */
export interface ProbeInput {
  readonly sql: string;
  readonly bind: unknown;
  readonly parsed: ParsedStatement;
}

/** The facts of each statement, in order; `stoppedAt` when the replay could not go on. */
export interface ProbeOutcome {
  readonly facts: ReadonlyArray<ProbeFacts | undefined>;
  readonly stoppedAt?: { readonly index: number; readonly message: string };
}

/**
 * Replays the statements of a line, in order, on an empty scratch database of one dialect, and
 * records what the server shows about each one. One module per dialect.
 */
export interface DialectProbe {
  readonly dialect: Dialect;
  replay(session: SessionConnection, statements: readonly ProbeInput[]): Promise<ProbeOutcome>;
}

/** Bind parameters the driver can take again: an array, or none. */
export function replayParams(bind: unknown): unknown[] | undefined | false {
  if (bind === undefined || bind === null) return undefined;
  return Array.isArray(bind) ? bind : false;
}
