// The movers under live traffic: what the impact monitor reads on a real server (other clients'
// running statements, sessions waiting for our locks), a run beside a polling client that stays at
// full batch sizes, `--max-load` pausing and resuming, `--critical-load` stopping with 2, and bad
// values refused. Nothing here depends on timing: the tests wait for events (log lines, the server's
// own views) with generous bounds, and budgets are set so wide that only a broken rule would trip.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { QueryTypes } from 'sequelize';
import type { SessionConnection } from '../src/db/dialect.js';
import { dialectFor } from '../src/db/dialects.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import type { DatabaseUrl } from '../src/url/index.js';
import type { Cell } from './helpers/cells.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { assertFinished, expectation, odm, seed, show, spawnOdm, useLegacyDeployment } from './helpers/movers.js';

/** Polls `check` every `everyMs` until it returns a value (not undefined), for at most `seconds`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, seconds = 60, everyMs = 50): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A dedicated session on `url` and its server id, closed with the test. */
async function sessionOn(t: ExecutionContext<unknown>, registry: ConnectionRegistry, url: DatabaseUrl): Promise<{ session: SessionConnection; id: number }> {
  const session = await registry.openSession(url, 'nova-conductor');
  const [row] = await session.query<{ id: number | string }>(url.dialect === 'postgres' ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id');
  return { session, id: Number(row?.id) };
}

/** A long statement another client keeps running (until `cancel`). */
async function longStatement(t: ExecutionContext<unknown>, url: DatabaseUrl) {
  const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const { session, id } = await sessionOn(t, registry, url);
  const killer = await registry.openSession(url, 'operator');
  const running = session.query(url.dialect === 'postgres' ? 'SELECT pg_sleep(600)' : 'SELECT SLEEP(600)').catch(() => undefined);
  // The statement shows as running on the server before the test goes on.
  const probe = registry.open(url);
  await eventually('the long statement to run', async () => {
    const rows = await probe.sequelize.query<{ n: number | string }>(
      url.dialect === 'postgres'
        ? `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = ${id} AND state = 'active'`
        : `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ${id} AND COMMAND = 'Query'`,
      { type: QueryTypes.SELECT },
    );
    return Number(rows[0]?.n) === 1 ? true : undefined;
  });
  return {
    async cancel() {
      await killer.query(url.dialect === 'postgres' ? `SELECT pg_cancel_backend(${id})` : `KILL QUERY ${id}`);
      await running;
    },
  };
}

interface LogLine {
  event?: string;
  state?: string;
  reason?: string;
  count?: number;
  found?: number;
  throttled?: boolean;
  yielding?: boolean;
  pace?: { state: string; concurrency: number; rows_per_second: number };
}
const readLog = (file: string): LogLine[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as LogLine)
    : [];

eachDialect(test, 'other active sessions: a client that just ran a statement counts, our own pooled connection and idle clients do not', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'traffic');
  const ours = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  const theirs = new ConnectionRegistry({ max: 1, applicationName: 'nova-api' });
  t.teardown(() => Promise.all([ours.close(), theirs.close()]));
  const db = ours.open(url);
  const other = theirs.open(url);
  const count = () => db.dialect.otherActiveSessions(db.sequelize, ours.ownSessionIds(), 1000, url.database);
  // Sequelize's first use opens a short-lived extra connection (the server version) and closes it
  // without waiting: one pooled connection, settled, is what a running mover looks like.
  await db.sequelize.query('SELECT 1');
  await sleep(200);
  await db.sequelize.query('SELECT 1');
  t.is(ours.ownSessionIds().length, 1);
  t.is(await count(), 0, `our own connections, busy a moment ago, are not traffic (ours: ${ours.ownSessionIds().join(', ')})`);
  await other.sequelize.query('SELECT 1');
  t.is(await count(), 1, 'another client that just ran a statement is');
  await sleep(1300);
  t.is(await count(), 0, 'an idle connection (nothing for over a second) is not');
  t.is(dialectFor(dialect).sessionId({}), undefined, 'a connection without a server id has none');
});

eachDialect(test, 'load metrics: another client’s running statement counts in our databases only; a session waiting for our row lock is a lock wait', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'metrics');
  const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const setup = registry.open(url);
  await setup.sequelize.query('CREATE TABLE rows_ (id INTEGER PRIMARY KEY, v INTEGER)');
  await setup.sequelize.query('INSERT INTO rows_ VALUES (1, 0)');
  const monitor = await sessionOn(t, registry, url);
  const mover = await sessionOn(t, registry, url);
  const metrics = (databases = [url.database as string]) => setup.dialect.loadMetrics(monitor.session, [mover.id], databases);
  const idle = await metrics();
  t.deepEqual({ threadsRunning: idle.threadsRunning, lockWaits: idle.lockWaits }, { threadsRunning: 0, lockWaits: 0 }, 'an idle database');
  // Active clients are counted over the whole server (other tests' too): the set-up connection ran
  // a statement a moment ago, and it is not one of ours.
  t.true(idle.activeClients >= 1, `a client active within the window counts (${idle.activeClients})`);

  const sleeper = await longStatement(t, url);
  t.is((await metrics()).threadsRunning, 1, 'a client running a statement in our database');
  t.is((await metrics(['some_other_database'])).threadsRunning, 0, 'not in another database');
  await sleeper.cancel();

  // "The mover" holds a row lock; another client waits for it.
  await mover.session.query(dialect === 'postgres' ? 'BEGIN' : 'START TRANSACTION');
  await mover.session.query('UPDATE rows_ SET v = 1 WHERE id = 1');
  const other = await sessionOn(t, registry, url);
  const waiting = other.session.query('UPDATE rows_ SET v = 2 WHERE id = 1');
  // MariaDB refreshes its INNODB_TRX / INNODB_LOCK_WAITS cache only when it was not read for 100 ms:
  // polled faster (a quiet machine answers in a few ms), the tables would never show the wait.
  const seen = await eventually(
    'the lock wait to show',
    async () => {
      const m = await metrics();
      return m.lockWaits > 0 ? m : undefined;
    },
    60,
    250,
  );
  t.is(seen.lockWaits, 1);
  t.true(seen.threadsRunning >= 1, 'the waiting client is running a statement');
  t.is((await setup.dialect.loadMetrics(monitor.session, [other.id], [url.database as string])).lockWaits, 0, 'waits on locks of sessions not ours are not counted');
  await mover.session.query('ROLLBACK');
  await waiting;
});

eachDialect(test, 'beside a polling client the movers keep their batch sizes (no one-row batches), within a wide budget at full speed; bad values exit 127 with one line', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) await seed(cell, { groups: 400, computeNodes: 200, hostPrefix: `y${i}` });
  const expected = await expectation(d);
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-impact-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // Bad values: nothing written, one line each.
  for (const [args, env, message] of [
    [['--max-impact', 'abc'], {}, /--max-impact must be a ratio of at least 1/],
    [['--max-impact', '0.5'], {}, /--max-impact must be/],
    [[], { CELLSDB_MAX_IMPACT: '0ms' }, /CELLSDB_MAX_IMPACT must be/],
    [['--max-load', 'nope=3'], {}, /--max-load must be NAME=VALUE/],
    [['--critical-load', 'threads_running=-1'], {}, /--critical-load must be NAME=VALUE/],
    [[], { CELLSDB_MAX_LOAD: 'threads_running' }, /CELLSDB_MAX_LOAD must be NAME=VALUE/],
    [['--no-yield', '--max-impact', '2x'], {}, /--max-impact sets the budget of yielding: it excludes --no-yield/],
  ] as const) {
    const r = await odm(d.cloud, args, env);
    t.is(r.code, 127, show(r));
    t.is(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
    t.regex(r.stderr, message);
  }
  t.deepEqual(await d.q(d.cloud.api, 'SELECT id FROM instance_groups'), [], 'bad input wrote nothing');

  // The live cloud: a client reading a cell every 20 ms for as long as the run lasts (the old rule
  // made every batch of such a run one row long).
  const cloud = new ConnectionRegistry({ max: 1, applicationName: 'nova-conductor' });
  t.teardown(() => cloud.close());
  const cell = cloud.open((d.cells[0] as Cell).url);
  let live = true;
  let polls = 0;
  const traffic = (async () => {
    while (live) {
      await cell.sequelize.query('SELECT COUNT(*) FROM compute_nodes');
      polls += 1;
      await sleep(20);
    }
  })();
  await eventually('the client to poll', () => (polls > 2 ? true : undefined));
  const log = join(dir, 'run.jsonl');
  // A wide --batch-ms: on a loaded box the sizer alone would shrink slow batches; the old rule
  // overrode it with 10 ms and one-row batches.
  const run = await odm(d.cloud, ['--json', '--log-file', log, '--log-format', 'json', '--max-impact', '5000ms', '--batch-ms', '5000']).finally(() => {
    live = false;
  });
  await traffic;
  t.is(run.code, 0, show(run));
  const report = JSON.parse(run.stdout) as { pace?: { state: string; servers: Array<{ baseline_ms: number; allowed_ms: number }> } };
  t.is(report.pace?.state, 'full', run.stdout);
  t.is(report.pace?.servers[0]?.allowed_ms, 5000);
  const batches = readLog(log).filter((l) => l.event === 'batch' && (l.found ?? 0) > 0);
  t.true(batches.length > 0);
  t.true(
    batches.every((b) => (b.count ?? 0) >= 50 && b.pace?.state === 'full' && b.throttled === false && b.yielding === false),
    `batches at full size and speed beside the client: ${JSON.stringify(batches.slice(0, 5))}`,
  );
  t.true(polls > 0);
  await assertFinished(t, d, expected, 'after a run beside a polling client');
});

eachDialect(test, '--max-load pauses the movers while another client’s statement runs and resumes after it; --critical-load stops with 2; the content is exact', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) await seed(cell, { groups: 60, computeNodes: 30, hostPrefix: `p${i}` });
  const expected = await expectation(d);
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-load-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cellUrl = (d.cells[1] as Cell).url;

  // --critical-load: a client busy in a cell database stops the run with 2 and one clear line.
  let busy = await longStatement(t, cellUrl);
  const stopped = await odm(d.cloud, ['--critical-load', 'threads_running=0']);
  t.is(stopped.code, 2, show(stopped));
  t.regex(stopped.stderr, /critical load on [^:]+:\d+: threads_running is 1, over --critical-load threads_running=0: stopped \(rows already migrated are safe; run again once the load is down\)/);
  t.notRegex(stopped.stderr, /\n\s+at /, 'no stack trace');

  // --max-load: paused before the first batch while the statement runs, then resumed.
  const log = join(dir, 'paused.jsonl');
  const run = spawnOdm(d.cloud, ['--log-file', log, '--log-format', 'json', '--max-load', 'threads_running=0', '--batch-size', '7']);
  t.teardown(() => void run.kill('SIGKILL'));
  const paused = await eventually('a pause line', () => readLog(log).find((l) => l.event === 'pace' && l.state === 'paused'));
  t.regex(paused.reason ?? '', /threads_running is 1, over --max-load threads_running=0/);
  const before = readLog(log).filter((l) => l.event === 'batch').length;
  // The run waits on the server's state, not on a clock: it is still waiting after the pause line
  // and a full sampling round later (the batches logged do not grow while the client runs).
  await eventually('more samples', () => (readLog(log).filter((l) => l.event === 'batch').length === before ? true : undefined), 5);
  t.is(run.exitCode, null, 'still running while paused');
  await busy.cancel();
  const result = await run.result;
  t.is(result.code, 0, show(result));
  const lines = readLog(log);
  const pausedAt = lines.findIndex((l) => l.event === 'pace' && l.state === 'paused');
  const resumedAt = lines.findIndex((l, i) => i > pausedAt && l.event === 'pace' && l.state !== 'paused');
  t.true(resumedAt > pausedAt, 'a resume line after the pause');
  t.true(lines.slice(pausedAt, resumedAt).every((l) => l.event !== 'batch'), 'no batch while paused');
  t.true(lines.slice(resumedAt).some((l) => l.event === 'batch' && (l.found ?? 0) > 0), 'batches after the resume');
  await assertFinished(t, d, expected, 'after a paused, stopped and resumed run');

  // A --critical-load that is not reached changes nothing: exit 0 on a finished deployment.
  busy = { cancel: async () => undefined };
  const again = await odm(d.cloud, ['--critical-load', 'threads_running=50'], { CELLSDB_MAX_LOAD: 'lock_waits=100' });
  t.is(again.code, 0, show(again));
  await busy.cancel();
});
