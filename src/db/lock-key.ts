import { createHash } from 'node:crypto';

/** A stable 64-bit advisory-lock key for a lock name (PostgreSQL keys are signed bigints). */
export function advisoryLockKey(name: string): { key: bigint; high: number; low: number } {
  const digest = createHash('sha256').update(name).digest();
  const key = digest.readBigInt64BE(0);
  // pg_locks shows a bigint key as classid (high 32 bits) and objid (low 32 bits), both unsigned.
  return { key, high: digest.readUInt32BE(0), low: digest.readUInt32BE(4) };
}

/** MariaDB lock names are at most 64 characters: longer ones are shortened with a hash. */
export function namedLockKey(name: string): string {
  if (name.length <= 64) return name;
  return `${name.slice(0, 40)}:${createHash('sha256').update(name).digest('hex').slice(0, 23)}`;
}
