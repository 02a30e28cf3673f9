import { randomUUID } from 'node:crypto';
import type { DatabaseHandle } from '../db/registry.js';

/** One SQL statement a migration sent, as the driver received it (bind parameters apart). */
export interface CapturedStatement {
  readonly sql: string;
  /** Bind parameters, when the statement had any. */
  readonly bind?: unknown;
}

/** Receives each statement a migration's `up` sends, in order. */
export type StatementListener = (migration: string, statement: CapturedStatement) => void;

/** Statements being captured on one handle: run each `up` through `around`, then `stop`. */
export interface StatementCapture {
  around(migration: string, up: () => Promise<void>): Promise<void>;
  stop(): void;
}

/**
 * Captures the statements sent on `handle` while a migration's `up` runs (not the ledger's, the
 * lock's or the transaction's own: those run outside `around`). Without a listener it captures
 * nothing and `around` just runs `up`.
 */
export function captureStatements(handle: DatabaseHandle, listener: StatementListener | undefined): StatementCapture {
  if (!listener) return { around: (_migration, up) => up(), stop: () => undefined };
  let capturing: string | undefined;
  const hookName = `cellsdb-capture-${randomUUID()}`;
  handle.sequelize.addHook('afterQuery', hookName, (queryOptions, query) => {
    const sql = (query as unknown as { sql?: unknown }).sql;
    if (capturing === undefined || typeof sql !== 'string') return;
    const bind = (queryOptions as { bind?: unknown }).bind;
    listener(capturing, bind === undefined ? { sql } : { sql, bind });
  });
  return {
    around: (migration, up) => {
      capturing = migration;
      return up().finally(() => {
        capturing = undefined;
      });
    },
    stop: () => handle.sequelize.removeHook('afterQuery', hookName),
  };
}
