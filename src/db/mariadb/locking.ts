import { createHash } from 'node:crypto';
import type { DialectLocking } from '../dialect.js';

/** MariaDB lock names are at most 64 characters: longer ones are shortened with a hash. */
export function namedLockKey(name: string): string {
  if (name.length <= 64) return name;
  return `${name.slice(0, 40)}:${createHash('sha256').update(name).digest('hex').slice(0, 23)}`;
}

/** MariaDB `GET_LOCK` named locks: a lock belongs to the connection that took it. */
export const mariadbLocking: DialectLocking = {
  async tryLock(session, name) {
    const rows = await session.query<{ locked: number | null }>('SELECT GET_LOCK(?, 0) AS locked', [namedLockKey(name)]);
    const locked = rows[0]?.locked;
    // GET_LOCK returns NULL on an error (out of memory, killed thread): never read that as "held".
    if (locked === null || locked === undefined) throw new Error(`GET_LOCK('${namedLockKey(name)}') returned NULL`);
    return Number(locked) === 1;
  },

  async unlock(session, name) {
    await session.query('SELECT RELEASE_LOCK(?)', [namedLockKey(name)]);
  },

  async holdsLock(session, name) {
    const rows = await session.query<{ held: number | null }>('SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS held', [
      namedLockKey(name),
    ]);
    return Number(rows[0]?.held) === 1;
  },

  async describeLockHolder(session, name) {
    const rows = await session.query<{ id: number; user: string; host: string; time: number }>(
      `SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.TIME AS time
         FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)`,
      [namedLockKey(name)],
    );
    const holder = rows[0];
    if (!holder) return undefined;
    return `connection ${holder.id} of user '${holder.user}' from ${holder.host} (in its current state for ${holder.time} s)`;
  },
};
