// `db online_data_migrations` killed (SIGKILL: no `finally`, no rollback by the client) at every
// instant that matters — cell groups locked, API copy committed, cell rows soft-deleted but not
// committed, compute nodes updated but not committed, a batch just committed — and at random
// instants, many times over one deployment, rerun each time with another --max-count or none. After
// every kill nothing may be lost or duplicated; once a rerun exits 0, the API database must hold
// exactly the cells' original groups, policies and members, and no legacy row may be left live.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { type Cell, insertRows } from './helpers/cells.js';
import type { CliResult } from './helpers/cli.js';
import { eachDialect } from './helpers/databases.js';
import { assertFinished, expectation, invariantProblems, type LegacyDeployment, odm, plantCellGroup, seed, show, spawnOdm, useLegacyDeployment } from './helpers/movers.js';

const BATCH = ['--batch-size', '5'];

type Step =
  /** Dies the n-th time it reaches `point`. */
  | { readonly point: string; readonly n: number; readonly args: readonly string[] }
  /** Killed from outside a random moment after its first batch. */
  | { readonly random: true; readonly args: readonly string[] }
  /** Runs to its end (a rerun that is not killed). */
  | { readonly run: true; readonly args: readonly string[]; readonly exit: number };

const maxCount = (n: number) => ['--max-count', String(n)];

/**
 * Starts a run and SIGKILLs it at a random instant: after a random number (1–8) of logged batches (on
 * stderr), plus a random 0–30 ms, so that the kill lands anywhere inside a batch while the work a
 * random step can do stays bounded (the failpoint steps after it still find work). A run that ends
 * inside that window shows a normal exit, not a kill.
 */
async function killAtRandom(d: LegacyDeployment, args: readonly string[]): Promise<CliResult> {
  // Per-batch lines reach stderr only when asked for (issue 13: summary lines otherwise).
  const child = spawnOdm(d.cloud, [...args, '--log-batches']);
  const batches = 1 + Math.floor(Math.random() * 8);
  let seen = '';
  const reached = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if ((seen.match(/batch cell=/g) ?? []).length >= batches) {
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('close', () => resolve());
  });
  await reached;
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 30)));
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  return child.result;
}

async function crashAndResume(t: ExecutionContext, d: LegacyDeployment, steps: readonly Step[]): Promise<void> {
  const expected = await expectation(d);
  let kills = 0;
  let randomFinished = 0;
  for (const [i, step] of steps.entries()) {
    const label = `step ${i + 1} (${'point' in step ? `${step.point}:${step.n}` : 'random' in step ? 'random kill' : 'rerun'} ${step.args.join(' ')})`;
    if ('run' in step) {
      const r = await odm(d.cloud, step.args);
      t.is(r.code, step.exit, `${label}: ${show(r)}`);
    } else {
      const r = 'point' in step ? await odm(d.cloud, step.args, { CELLSDB_FAILPOINT: `${step.point}:${step.n}` }) : await killAtRandom(d, step.args);
      if ('random' in step && r.signal === null) {
        // The run beat the random timer: it must then have finished cleanly (exit 0, nothing left).
        t.is(r.code, 0, `${label} finished before the kill: ${show(r)}`);
        randomFinished++;
      } else {
        t.is(r.signal, 'SIGKILL', `${label} must be killed: ${show(r)}`);
        kills++;
      }
    }
    t.deepEqual(await invariantProblems(d, expected), [], `${label}: nothing lost, nothing duplicated`);
  }
  t.log(`${kills} kills; ${randomFinished} random step(s) finished before their kill`);
  // Every failpoint step must have died; only random steps may outrun their timer.
  t.true(kills >= steps.filter((s) => 'point' in s).length);
  // Reruns until one says there is nothing left.
  let last: CliResult | undefined;
  for (let i = 0; i < 3 && last?.code !== 0; i++) last = await odm(d.cloud, BATCH);
  t.is(last?.code, 0, last ? show(last) : '');
  await assertFinished(t, d, expected, 'after the kills');
}

eachDialect(test, 'instance-group mover killed at every failpoint and at random, rerun with and without --max-count: exact content', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) {
    await seed(cell, { groups: 150, policiesPerGroup: 2, membersPerGroup: 3, computeNodes: 10, hostPrefix: `a${i}` });
  }
  await crashAndResume(t, d, [
    { point: 'instance-groups:api-committed', n: 1, args: BATCH },
    { point: 'instance-groups:locked', n: 1, args: [...BATCH, ...maxCount(7)] },
    { point: 'instance-groups:api-committed', n: 2, args: BATCH },
    { run: true, args: maxCount(9), exit: 1 },
    { point: 'instance-groups:soft-deleted', n: 1, args: [...BATCH, ...maxCount(25)] },
    { point: 'instance-groups:locked', n: 3, args: BATCH },
    { random: true, args: BATCH },
    { point: 'instance-groups:api-committed', n: 5, args: BATCH },
    { run: true, args: maxCount(3), exit: 1 },
    { point: 'instance-groups:soft-deleted', n: 4, args: BATCH },
    { random: true, args: BATCH },
    { point: 'runner:batch-done', n: 2, args: [...BATCH, ...maxCount(40)] },
  ]);
});

eachDialect(test, 'runner and compute-node mover killed at every failpoint and at random, rerun with and without --max-count: exact content', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) {
    // Enough groups that the steps before the instance-groups failpoint (a random kill among them)
    // cannot finish them all: with 40 per cell a fast random step sometimes did.
    await seed(cell, { groups: 100, policiesPerGroup: 2, membersPerGroup: 3, computeNodes: 100, hostPrefix: `b${i}` });
  }
  await crashAndResume(t, d, [
    { point: 'runner:batch-done', n: 1, args: BATCH },
    { point: 'runner:batch-done', n: 3, args: [...BATCH, ...maxCount(20)] },
    { random: true, args: BATCH },
    { point: 'runner:batch-done', n: 7, args: BATCH },
    { point: 'instance-groups:api-committed', n: 1, args: maxCount(4) },
    { run: true, args: maxCount(11), exit: 1 },
    // An unlimited run finishes the groups before it reaches the compute nodes.
    { point: 'compute-nodes:updated', n: 1, args: BATCH },
    { point: 'compute-nodes:updated', n: 2, args: [...BATCH, ...maxCount(12)] },
    { random: true, args: BATCH },
    { point: 'runner:batch-done', n: 4, args: BATCH },
    { point: 'compute-nodes:updated', n: 3, args: BATCH },
    { run: true, args: maxCount(6), exit: 1 },
  ]);
});

eachDialect(test, 'a NULL policy or member (no unique key sees it) is copied once, even when a run dies between the API commit and the soft-delete', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const id = await plantCellGroup(cell.url, { uuid: randomUUID() }, ['affinity'], [randomUUID()]);
  const at = new Date(Date.UTC(2019, 0, 1));
  await insertRows(cell.url, 'instance_group_policy', [{ policy: null, group_id: id, created_at: at, deleted: 0 }]);
  await insertRows(cell.url, 'instance_group_member', [{ instance_id: null, group_id: id, created_at: at, deleted: 0 }]);
  const expected = await expectation(d);
  for (let i = 0; i < 2; i++) {
    const killed = await odm(d.cloud, [], { CELLSDB_FAILPOINT: 'instance-groups:api-committed:1' });
    t.is(killed.signal, 'SIGKILL', show(killed));
  }
  const r = await odm(d.cloud);
  t.is(r.code, 0, show(r));
  await assertFinished(t, d, expected);
});
