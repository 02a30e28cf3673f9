// `online_data_migrations --shard I/N` (issue 12): N runner hosts split the mapped cells by a hash
// of their uuids. The partition (every cell in exactly one shard, the same in every process), the
// bad values (127, one line), and a real run: two shards together do what one runner does.
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { CELL0_UUID } from '../src/cells/mappings.js';
import { cellsOfShard, parseShard, shardOfUuid } from '../src/cells/shard.js';
import { InvalidInputError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';
import { eachDialect } from './helpers/databases.js';
import { assertFinished, expectation, fingerprint, odm, seed, show, useLegacyDeployment } from './helpers/movers.js';

const cellsOf = (n: number) => [{ uuid: CELL0_UUID }, ...Array.from({ length: n }, () => ({ uuid: randomUUID() }))];

test('every cell is in exactly one shard, for N = 1..5', (t) => {
  const cells = cellsOf(40);
  for (let count = 1; count <= 5; count++) {
    const seen = new Map<string, number>();
    for (let index = 0; index < count; index++) {
      for (const c of cellsOfShard(cells, { index, count })) seen.set(c.uuid, (seen.get(c.uuid) ?? 0) + 1);
    }
    t.is(seen.size, cells.length, `N=${count}: every cell in a shard`);
    t.true([...seen.values()].every((n) => n === 1), `N=${count}: no cell in two shards`);
  }
});

test('the shards are stable: fixed uuids land where they always did, whatever the order, the case, or the other cells', (t) => {
  // Pinned: a change of the hash would move cells between the runners of a running Job.
  t.deepEqual(
    [CELL0_UUID, '2b0e9a4c-5d5f-4f0c-9d6e-1f2a3b4c5d6e', 'f47ac10b-58cc-4372-a567-0e02b2c3d479'].map((u) => [1, 2, 3, 4, 5].map((n) => shardOfUuid(u, n))),
    [
      [0, 0, 2, 2, 3],
      [0, 1, 0, 1, 1],
      [0, 1, 1, 1, 1],
    ],
  );
  const cells = cellsOf(20);
  const reversed = [...cells].reverse();
  const more = [...cells, ...cellsOf(10)];
  for (let count = 1; count <= 5; count++) {
    for (let index = 0; index < count; index++) {
      const a = cellsOfShard(cells, { index, count }).map((c) => c.uuid).sort();
      t.deepEqual(cellsOfShard(reversed, { index, count }).map((c) => c.uuid).sort(), a);
      t.deepEqual(cellsOfShard(cells.map((c) => ({ uuid: c.uuid.toUpperCase() })), { index, count }).map((c) => c.uuid.toLowerCase()).sort(), a);
      // Mapping more cells moves none of those already mapped.
      const grown = new Set(cellsOfShard(more, { index, count }).map((c) => c.uuid));
      t.true(a.every((u) => grown.has(u)));
    }
  }
});

test('parseShard: I/N, N with JOB_COMPLETION_INDEX; anything else is invalid input', (t) => {
  t.deepEqual(parseShard('0/1', undefined), { index: 0, count: 1 });
  t.deepEqual(parseShard(' 3 / 4 ', undefined), { index: 3, count: 4 });
  t.deepEqual(parseShard('4', '2'), { index: 2, count: 4 });
  t.deepEqual(parseShard('1/4', '3'), { index: 1, count: 4 }, 'an explicit index wins');
  for (const bad of ['', '/', '1/', '/4', '4/4', '5/4', '-1/4', '1/0', '0/0', 'a/4', '1/b', '1.5/4', '1/2/3', '0/100000']) {
    const error = t.throws(() => parseShard(bad, undefined), { instanceOf: InvalidInputError }, bad);
    t.is(error?.message.split('\n').length, 1);
    t.regex(error?.message ?? '', /--shard/);
  }
  t.throws(() => parseShard('4', undefined), { instanceOf: InvalidInputError, message: /JOB_COMPLETION_INDEX, which is not set/ });
  t.throws(() => parseShard('4', '4'), { instanceOf: InvalidInputError, message: /JOB_COMPLETION_INDEX=4/ });
  t.throws(() => parseShard('4', 'x'), { instanceOf: InvalidInputError, message: /JOB_COMPLETION_INDEX=x/ });
});

test('CLI: bad --shard values exit 127 with one line, before connecting to anything', async (t) => {
  // The API URL points at a closed port: a refusal that connected first would say so instead.
  const api = 'postgresql://nova:secret@127.0.0.1:1/nova';
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--shard', '4/4'], {}, /--shard.*0 to 3/],
    [['--shard', 'x'], {}, /--shard takes I\/N/],
    [['--shard=1/0'], {}, /N must be from 1/],
    [['--shard', '4'], { JOB_COMPLETION_INDEX: '' }, /JOB_COMPLETION_INDEX, which is not set/],
    [['--shard', '4'], { JOB_COMPLETION_INDEX: '7' }, /JOB_COMPLETION_INDEX=7/],
  ];
  const runs = await Promise.all(cases.map(([args, env]) => runCli(['--api-db', api, 'db', 'online_data_migrations', ...args], { env })));
  for (const [i, r] of runs.entries()) {
    t.is(r.code, 127, show(r));
    t.is(r.stderr.trim().split('\n').length, 1, show(r));
    t.regex(r.stderr, cases[i]?.[2] as RegExp, show(r));
    t.notRegex(r.stderr, /secret|\n\s+at /);
  }
});

eachDialect(test, 'two shards (one by I/N, one by JOB_COMPLETION_INDEX) each move only their cells, and together all of them', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2', 'cell3']);
  for (const [i, cell] of d.cells.entries()) await seed(cell, { groups: 6, computeNodes: 2, hostPrefix: `s${i}-host` });
  const expected = await expectation(d);
  const all = [d.cell0, ...d.cells];
  const inShard = (i: number) => all.filter((c) => shardOfUuid(c.uuid, 2) === i).map((c) => c.name);
  const first = await odm(d.cloud, ['--shard', '0/2', '--json']);
  t.true(first.code === 0 || first.code === 1, show(first));
  const firstCells = new Set((JSON.parse(first.stdout) as { cells: Array<{ cell: string; done: number }> }).cells.filter((c) => c.done > 0).map((c) => c.cell));
  t.deepEqual([...firstCells].sort(), inShard(0).filter((n) => n !== 'cell0').sort(), show(first));
  const before = await fingerprint(d);
  const again = await odm(d.cloud, ['--shard', '0/2']);
  t.is(again.code, 0, show(again));
  t.regex(again.stderr, /Shard 0\/2: \d of the 4 cells/);
  t.is(await fingerprint(d), before, 'shard 0 done: a second run writes nothing');
  const second = await odm(d.cloud, ['--shard', '2'], { JOB_COMPLETION_INDEX: '1' });
  t.true(second.code === 0 || second.code === 1, show(second));
  await assertFinished(t, d, expected);
});
