import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { dialectFor } from '../../src/db/dialects.js';
import { type DatabaseUrl, type Dialect, parseDatabaseUrl, withDatabase } from '../../src/url/index.js';

/** The dialects every suite runs on; each needs its server URL in the environment. */
export const DIALECTS: readonly Dialect[] = ['postgres', 'mysql'];

const ENV: Readonly<Record<Dialect, string>> = { postgres: 'CELLSDB_TEST_PG_URL', mysql: 'CELLSDB_TEST_MYSQL_URL' };

/** The server a dialect's tests use (any database on it: tests make their own), or undefined. */
export function adminUrl(dialect: Dialect): DatabaseUrl | undefined {
  const raw = process.env[ENV[dialect]];
  return raw ? parseDatabaseUrl(raw) : undefined;
}

/** Human name for titles. */
export const dialectName = (d: Dialect): string => (d === 'postgres' ? 'postgres' : 'mariadb');

/** A uniquely named database name for one test. */
export function uniqueName(prefix = 't'): string {
  return `cellsdb_${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Creates an empty database on the dialect's test server; returns its URL and a drop function. */
export async function createDatabase(dialect: Dialect, prefix = 't'): Promise<{ url: DatabaseUrl; drop: () => Promise<void> }> {
  const admin = adminUrl(dialect);
  if (!admin) throw new Error(`${ENV[dialect]} is not set`);
  const adapter = dialectFor(dialect);
  const name = uniqueName(prefix);
  const session = await adapter.openSession(admin, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
  try {
    await adapter.createDatabase(session, name);
  } finally {
    await session.close();
  }
  return {
    url: withDatabase(admin, name),
    drop: async () => {
      const s = await adapter.openSession(admin, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
      try {
        await adapter.dropDatabase(s, name);
      } finally {
        await s.close();
      }
    },
  };
}

/** Creates a database that is dropped when the test ends. */
export async function useDatabase(t: ExecutionContext<unknown>, dialect: Dialect, prefix = 't'): Promise<DatabaseUrl> {
  const { url, drop } = await createDatabase(dialect, prefix);
  t.teardown(drop);
  return url;
}

/** Registers `fn` once per dialect; a dialect without a server is skipped (and says so in the title). */
export function eachDialect<Context>(
  test: import('ava').TestFn<Context>,
  title: string,
  fn: (t: ExecutionContext<Context>, dialect: Dialect) => Promise<void> | void,
): void {
  for (const dialect of DIALECTS) {
    if (adminUrl(dialect)) test(`${dialectName(dialect)}: ${title}`, (t) => fn(t, dialect));
    else test.skip(`${dialectName(dialect)}: ${title} (no ${ENV[dialect]})`, () => undefined);
  }
}
