// One migration lock per database and line, held on a dedicated session outside every pool (a
// PostgreSQL advisory lock belongs to its session, so a pooled connection cannot hold it).
import { hostname } from 'node:os';
import type { SessionConnection } from '../db/dialect.js';
import type { DatabaseHandle } from '../db/registry.js';
import { LockTimeoutError } from '../errors.js';
import type { MigrationLine } from './lines.js';
import type { LineTarget } from './target.js';

/** The name of a line's migration lock in one database (PostgreSQL hashes it to an advisory key). */
export function lineLockName(database: string, line: MigrationLine['id']): string {
  return `cellsdb:${database}:${line}`;
}

/** The lock as held by the work: whether it still is (a dropped session loses it). */
export interface HeldLock {
  stillHeld(): Promise<boolean>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` holding the line's lock on a dedicated session. PostgreSQL `pg_try_advisory_lock` or
 * MariaDB `GET_LOCK`, polled with backoff until `migrationLockWaitMs`; released and closed in `finally`.
 * While waiting it reports the holder once (`lock-wait`); giving up names it.
 */
export async function withLineLock<T>(target: LineTarget, handle: DatabaseHandle, work: (lock: HeldLock) => Promise<T>): Promise<T> {
  const name = lineLockName(target.url.database, target.line.id);
  const appName = `cellsdb ${target.line.id} pid ${process.pid} on ${hostname()}`.slice(0, 63);
  const session: SessionConnection = await target.registry.openSession(target.url, appName);
  const { dialect } = handle;
  try {
    const waitMs = target.config.migrationLockWaitMs;
    const deadline = Date.now() + waitMs;
    let delay = 50;
    let announced = false;
    while (!(await dialect.tryLock(session, name))) {
      const holder = await dialect.describeLockHolder(session, name).catch(() => undefined);
      if (Date.now() >= deadline) {
        throw new LockTimeoutError(
          `the ${target.line.title} migration lock on ${target.label} (${target.url.masked}) is held by ${holder ?? 'another session'}; ` +
            `gave up after ${waitMs / 1000} s (--lock-timeout)`,
        );
      }
      if (!announced) {
        announced = true;
        target.onEvent?.({ type: 'lock-wait', holder, timeoutMs: waitMs });
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(1000, Math.round(delay * 1.6));
    }
    try {
      // A session that cannot answer has dropped, and its lock with it.
      return await work({ stillHeld: () => dialect.holdsLock(session, name).catch(() => false) });
    } finally {
      await dialect.unlock(session, name).catch(() => undefined);
    }
  } finally {
    await session.close();
  }
}
