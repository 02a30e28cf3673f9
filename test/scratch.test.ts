// Scratch databases (schema check, schema lint, sync --dry-run): made on the server, dropped after
// the work; one that cannot be dropped is named, with its server (masked) and the statement that
// drops it by hand, through the caller's callback.
import test from 'ava';
import type { SessionConnection } from '../src/db/dialect.js';
import { dialectFor } from '../src/db/dialects.js';
import { withScratchDatabase } from '../src/db/scratch.js';
import { type DatabaseUrl, type Dialect, parseDatabaseUrl } from '../src/url/index.js';
import { runCli } from './helpers/cli.js';
import { adminUrl, eachDialect, uniqueName } from './helpers/databases.js';

const PASSWORD = 'scr4tch-Secret';

async function adminSession(dialect: Dialect): Promise<SessionConnection> {
  return dialectFor(dialect).openSession(adminUrl(dialect) as DatabaseUrl, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
}

/**
 * A user that may create scratch databases but not drop them: on MariaDB it lacks the DROP right;
 * on PostgreSQL it may drop what it owns, so `takeOver` makes the test's superuser the owner.
 */
async function createLimitedUser(dialect: Dialect, user: string): Promise<{ url: DatabaseUrl; takeOver: (database: string) => Promise<void>; remove: () => Promise<void> }> {
  const admin = adminUrl(dialect) as DatabaseUrl;
  const session = await adminSession(dialect);
  try {
    if (dialect === 'postgres') await session.query(`CREATE ROLE "${user}" LOGIN CREATEDB PASSWORD '${PASSWORD}'`);
    else {
      await session.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${PASSWORD}'`);
      await session.query(`GRANT CREATE ON \`cellsdb\\_scratch\\_%\`.* TO '${user}'@'%'`);
    }
  } finally {
    await session.close();
  }
  const scheme = dialect === 'postgres' ? 'postgresql' : 'mysql';
  const database = dialect === 'postgres' ? 'postgres' : 'information_schema';
  return {
    url: parseDatabaseUrl(`${scheme}://${user}:${PASSWORD}@${admin.host}:${admin.port}/${database}`),
    takeOver: async (name) => {
      if (dialect !== 'postgres') return;
      const s = await adminSession(dialect);
      await s.query(`ALTER DATABASE "${name}" OWNER TO CURRENT_USER`).finally(() => s.close());
    },
    remove: async () => {
      const s = await adminSession(dialect);
      await s.query(dialect === 'postgres' ? `DROP ROLE IF EXISTS "${user}"` : `DROP USER IF EXISTS '${user}'@'%'`).finally(() => s.close());
    },
  };
}

async function databaseExists(dialect: Dialect, name: string): Promise<boolean> {
  const session = await adminSession(dialect);
  try {
    return await dialectFor(dialect).databaseExists(session, name);
  } finally {
    await session.close();
  }
}

eachDialect(test, 'a scratch database is dropped after its work, without a word', async (t, dialect) => {
  const said: string[] = [];
  const name = await withScratchDatabase(adminUrl(dialect) as DatabaseUrl, 'dropped', async (scratch) => {
    t.true(await databaseExists(dialect, scratch.name), 'it exists while the work runs');
    return scratch.name;
  }, { onLeftBehind: (message) => said.push(message) });
  t.false(await databaseExists(dialect, name), 'it is gone afterwards');
  t.deepEqual(said, []);
});

eachDialect(test, 'a scratch database that cannot be dropped: one line names it, its server (masked) and how to drop it; the work stands', async (t, dialect) => {
  const user = uniqueName('scr');
  const limited = await createLimitedUser(dialect, user);
  let name: string | undefined;
  t.teardown(async () => {
    if (name !== undefined) {
      const s = await adminSession(dialect);
      await dialectFor(dialect).dropDatabase(s, name).finally(() => s.close());
    }
    await limited.remove();
  });

  const said: string[] = [];
  const result = await withScratchDatabase(limited.url, 'left behind', async (scratch) => {
    name = scratch.name;
    await limited.takeOver(scratch.name);
    return 'the work';
  }, { onLeftBehind: (message) => said.push(message) });

  t.is(result, 'the work', 'the work returns its result although the drop failed');
  t.is(said.length, 1, said.join('\n'));
  const message = said[0] ?? '';
  t.false(message.includes('\n'), 'one line');
  t.false(message.includes(PASSWORD), 'no password');
  t.true(message.includes(`the scratch database ${name} on ${limited.url.masked} was left behind`), message);
  t.regex(message, dialect === 'postgres' ? /must be owner/ : /denied/i, 'the server says why');
  const statement = dialectFor(dialect).dropDatabaseStatement(name as string);
  t.true(message.endsWith(`drop it by hand: ${statement}`), message);
  t.true(await databaseExists(dialect, name as string), 'it is still there');

  // The statement works for a user allowed to drop it.
  const s = await adminSession(dialect);
  await s.query(statement).finally(() => s.close());
  t.false(await databaseExists(dialect, name as string));
});

// MariaDB only: a user without the DROP right is the way to make a drop fail under the CLI (on
// PostgreSQL the creator owns the database and may always drop it).
(adminUrl('mysql') ? test : test.skip)('mariadb: schema check names on stderr each scratch database it could not drop', async (t) => {
  const user = uniqueName('scr');
  const admin = await adminSession('mysql');
  try {
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await admin.query(`GRANT ALL PRIVILEGES ON \`cellsdb\\_scratch\\_%\`.* TO '${user}'@'%'`);
    await admin.query(`REVOKE DROP ON \`cellsdb\\_scratch\\_%\`.* FROM '${user}'@'%'`);
  } finally {
    await admin.close();
  }
  const left = new Set<string>();
  t.teardown(async () => {
    const s = await adminSession('mysql');
    try {
      for (const name of left) await dialectFor('mysql').dropDatabase(s, name);
      await s.query(`DROP USER IF EXISTS '${user}'@'%'`);
    } finally {
      await s.close();
    }
  });

  const server = adminUrl('mysql') as DatabaseUrl;
  const result = await runCli(['schema', 'check', '--scratch', `mysql://${user}:${PASSWORD}@${server.host}:${server.port}/information_schema`]);
  const lines = result.stderr.split('\n').filter((l) => l.includes('was left behind'));
  for (const line of lines) left.add(/the scratch database (\S+) on/.exec(line)?.[1] ?? '');
  t.is(lines.length, 2, `one line per line of migrations (API, cell); stderr: ${result.stderr}`);
  for (const line of lines) {
    t.regex(line, /^the scratch database cellsdb_scratch_check_(api|cell)_\S+ on mysql:\/\/cellsdb_scr_\w+:\*\*\*\*@\S+ was left behind \(.+\); drop it by hand: DROP DATABASE IF EXISTS `cellsdb_scratch_check_(api|cell)_\w+`$/);
  }
  t.false(result.stderr.includes(PASSWORD) || result.stdout.includes(PASSWORD), 'no password');
});
