import { createHash } from 'node:crypto';
import type { DialectLocking } from '../dialect.js';

/** A stable 64-bit advisory-lock key for a lock name (PostgreSQL keys are signed bigints). */
export function advisoryLockKey(name: string): { key: bigint; high: number; low: number } {
  const digest = createHash('sha256').update(name).digest();
  const key = digest.readBigInt64BE(0);
  // pg_locks shows a bigint key as classid (high 32 bits) and objid (low 32 bits), both unsigned.
  return { key, high: digest.readUInt32BE(0), low: digest.readUInt32BE(4) };
}

/** PostgreSQL session advisory locks: a lock belongs to the session that took it. */
export const postgresLocking: DialectLocking = {
  async tryLock(session, name) {
    const rows = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      advisoryLockKey(name).key.toString(),
    ]);
    return rows[0]?.locked === true;
  },

  async unlock(session, name) {
    await session.query('SELECT pg_advisory_unlock($1::bigint)', [advisoryLockKey(name).key.toString()]);
  },

  async holdsLock(session, name) {
    const { high, low } = advisoryLockKey(name);
    const rows = await session.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND pid = pg_backend_pid() AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1) AS held`,
      [high, low],
    );
    return rows[0]?.held === true;
  },

  async describeLockHolder(session, name) {
    const { high, low } = advisoryLockKey(name);
    const rows = await session.query<{
      pid: number;
      application_name: string | null;
      client_addr: string | null;
      backend_start: Date | null;
    }>(
      `SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1`,
      [high, low],
    );
    const holder = rows[0];
    if (!holder) return undefined;
    const who = holder.application_name ? `'${holder.application_name}'` : 'a session';
    const from = holder.client_addr ? ` from ${holder.client_addr}` : '';
    const since = holder.backend_start ? ` connected since ${holder.backend_start.toISOString()}` : '';
    return `${who} (server pid ${holder.pid}${from}${since})`;
  },
};
