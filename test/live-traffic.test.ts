// Yielding to the live cloud: the servers are asked which other clients are active (our own pooled
// connections left out), and while some are, `db online_data_migrations` runs one batch at a time
// in short batches and says so; `--no-yield` ignores them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { QueryTypes } from 'sequelize';
import { dialectFor } from '../src/db/dialects.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import type { Cell } from './helpers/cells.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { assertFinished, expectation, odm, seed, show, useLegacyDeployment } from './helpers/movers.js';

eachDialect(test, 'other active sessions: a client that just ran a statement counts, our own pooled connection and idle clients do not', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'traffic');
  const ours = new ConnectionRegistry({ max: 1 });
  const theirs = new ConnectionRegistry({ max: 1, applicationName: 'nova-api' });
  t.teardown(() => Promise.all([ours.close(), theirs.close()]));
  const db = ours.open(url);
  const other = theirs.open(url);
  const count = () => db.dialect.otherActiveSessions(db.sequelize, ours.ownSessionIds(), 1000, url.database);

  // What the server shows for this database, for the messages.
  const shown = async () =>
    JSON.stringify(
      await db.sequelize.query(
        dialect === 'postgres'
          ? `SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = '${url.database}'`
          : `SELECT ID, COMMAND, TIME_MS FROM information_schema.PROCESSLIST WHERE DB = '${url.database}'`,
        { type: QueryTypes.SELECT },
      ),
    );
  // Sequelize's first use opens a short-lived extra connection (the server version) and closes it
  // without waiting; a connection being opened is busy before the registry learns its id: one
  // pooled connection, settled, is what a running mover looks like.
  await db.sequelize.query('SELECT 1');
  await sleep(200);
  await db.sequelize.query('SELECT 1');
  t.is(ours.ownSessionIds().length, 1);
  t.is(await count(), 0, `our own connections, busy a moment ago, are not traffic (ours: ${ours.ownSessionIds().join(', ')}; ${await shown()})`);
  await other.sequelize.query('SELECT 1');
  t.is(await count(), 1, 'another client that just ran a statement is');
  await sleep(1300);
  t.is(await count(), 0, 'an idle connection (nothing for over a second) is not');
  t.is(dialectFor(dialect).sessionId({}), undefined, 'a connection without a server id has none');
});

eachDialect(test, 'online_data_migrations yields while another client is active: batches logged as yielding, a notice, same content; --no-yield does not', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) await seed(cell, { groups: 100, computeNodes: 20, hostPrefix: `y${i}` });
  const expected = await expectation(d);
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-yield-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // The live cloud: a client reading a cell every 50 ms for as long as the run lasts.
  const cloud = new ConnectionRegistry({ max: 1, applicationName: 'nova-conductor' });
  t.teardown(() => cloud.close());
  const cell = cloud.open((d.cells[0] as Cell).url);
  let live = true;
  const traffic = (async () => {
    while (live) {
      await cell.sequelize.query('SELECT COUNT(*) FROM compute_nodes');
      await sleep(50);
    }
  })();
  await sleep(100);
  const log = join(dir, 'yield.jsonl');
  const run = await odm(d.cloud, ['--log-file', log, '--log-format', 'json', '--batch-size', '5']).finally(() => {
    live = false;
  });
  await traffic;
  t.is(run.code, 0, show(run));
  t.regex(run.stderr, /other session\(s\) active on the database servers: yielding, one batch at a time/, show(run));
  const batches = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event?: string; yielding?: boolean; found?: number });
  // The gate decides on two answers half a second apart: the first batches may go at full speed,
  // then every batch yields (the client never stops).
  const working = batches.filter((b) => b.event === 'batch' && (b.found ?? 0) > 0);
  const first = working.findIndex((b) => b.yielding === true);
  t.true(first >= 0, `no batch yielded: ${JSON.stringify(working.slice(0, 3))}`);
  t.true(working.slice(first).every((b) => b.yielding === true), 'once yielding, every later batch yields');
  await assertFinished(t, d, expected, 'after a yielding run');

  const bad = await odm(d.cloud, ['--no-yield', '--yield-batch-ms', '10']);
  t.is(bad.code, 127, show(bad));
  t.regex(bad.stderr, /--yield-batch-ms and --yield-nice-ratio tune yielding: they exclude --no-yield/);
  for (const [flag, value] of [['--yield-nice-ratio', 'abc'], ['--yield-nice-ratio', '-1'], ['--yield-batch-ms', '0']] as const) {
    const r = await odm(d.cloud, [flag, value]);
    t.is(r.code, 127, show(r));
    t.is(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  }

  // The same with --no-yield, on fresh legacy rows: nothing logged as yielding, no notice.
  for (const [i, c] of (d.cells as Cell[]).entries()) await seed(c, { groups: 10, computeNodes: 5, hostPrefix: `n${i}` });
  const again = await expectation(d);
  const fast = join(dir, 'fast.jsonl');
  live = true;
  const traffic2 = (async () => {
    while (live) {
      await cell.sequelize.query('SELECT COUNT(*) FROM compute_nodes');
      await sleep(50);
    }
  })();
  const ignoring = await odm(d.cloud, ['--no-yield', '--log-file', fast, '--log-format', 'json', '--batch-size', '5']).finally(() => {
    live = false;
  });
  await traffic2;
  t.is(ignoring.code, 0, show(ignoring));
  t.notRegex(ignoring.stderr, /yielding/);
  const lines = readFileSync(fast, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event?: string; yielding?: boolean });
  t.true(lines.filter((b) => b.event === 'batch').every((b) => b.yielding === false));
  await assertFinished(t, d, again, 'after a run that did not yield');
});
