// The movers while the cloud is live: two runners started at once over the same cells (a deployment
// tool on every controller), and a writer adding members to groups while the mover moves them —
// following the locking contract documented in movers/instance-groups.ts. Nothing may be lost or
// duplicated, no deadlock or lock timeout may reach the operator, and a run may not say "done"
// (exit 0) while a group it could not lock is still live.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { QueryTypes, Transaction } from 'sequelize';
import { ConnectionRegistry, type DatabaseHandle } from '../src/db/registry.js';
import { isRetryableConflict } from '../src/db/translate-error.js';
import type { Cell } from './helpers/cells.js';
import type { CliResult } from './helpers/cli.js';
import { eachDialect } from './helpers/databases.js';
import {
  apiGroups,
  assertFinished,
  type Expectation,
  expectation,
  type Groups,
  type LegacyDeployment,
  liveLegacyCounts,
  odm,
  plantCellGroup,
  seed,
  show,
  spawnOdm,
  useLegacyDeployment,
} from './helpers/movers.js';

/** What must never reach the operator's terminal from a race. */
const LOCK_TROUBLE = /deadlock|lock timeout|lock wait|could not obtain lock|Error attempting|failed/i;

/** A directory for the runners' batch logs (retries are logged there, not shown as errors). */
function useLogDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-race-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts two runners at the same moment and waits for both. */
async function together(d: LegacyDeployment, dir: string, args: readonly string[]): Promise<CliResult[]> {
  const runs = [0, 1].map((i) => spawnOdm(d.cloud, [...args, '--log-file', join(dir, `runner-${i}.log`)]));
  return Promise.all(runs.map((r) => r.result));
}

function assertClean(t: ExecutionContext, runs: readonly CliResult[]): void {
  for (const r of runs) {
    t.true(r.code === 0 || r.code === 1, show(r));
    t.notRegex(r.stderr, LOCK_TROUBLE, show(r));
  }
}

eachDialect(test, 'two unlimited runners at once: exact content, exit 0 or 1, no lock error reaches the operator', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) {
    await seed(cell, { groups: 120, policiesPerGroup: 2, membersPerGroup: 3, computeNodes: 40, hostPrefix: `r${i}` });
  }
  const expected = await expectation(d);
  const runs = await together(d, useLogDir(t), ['--batch-size', '10']);
  assertClean(t, runs);
  await assertFinished(t, d, expected, 'once both runners are done');
  const after = await odm(d.cloud);
  t.is(after.code, 0, show(after));
});

eachDialect(test, 'two runners at once with --max-count, round after round: exact content, exit 0 or 1, no lock error', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  for (const [i, cell] of (d.cells as Cell[]).entries()) {
    await seed(cell, { groups: 60, policiesPerGroup: 2, membersPerGroup: 3, computeNodes: 20, hostPrefix: `m${i}` });
  }
  const expected = await expectation(d);
  const dir = useLogDir(t);
  let rounds = 0;
  for (; rounds < 15; rounds++) {
    const runs = await together(d, dir, ['--max-count', '25']);
    assertClean(t, runs);
    if (runs.every((r) => r.code === 0)) break;
  }
  t.true(rounds >= 3 && rounds < 15, `${rounds} rounds`);
  await assertFinished(t, d, expected);
});

/** Where a member went: into the live cell group, or (the group having moved) into its API copy. */
type Added = { readonly uuid: string; readonly member: string; readonly where: 'cell' | 'api' };

/**
 * Adds a member as the InstanceGroup object must (movers/instance-groups.ts): in one cell transaction,
 * lock the live group by uuid; if it is there, insert the member in the cell and commit; if not, the
 * group has moved, so insert the member in its API copy (which must exist).
 */
async function addMember(cell: DatabaseHandle, api: DatabaseHandle, uuid: string): Promise<Added> {
  const member = randomUUID();
  const now = new Date();
  for (let attempt = 0; ; attempt++) {
    try {
      const inCell = await cell.sequelize.transaction(async (transaction) => {
        const [group] = await cell.sequelize.query<{ id: number }>('SELECT id FROM instance_groups WHERE uuid = :uuid AND deleted = 0 FOR UPDATE', {
          replacements: { uuid },
          type: QueryTypes.SELECT,
          transaction,
        });
        if (!group) return false;
        await cell.sequelize.query('INSERT INTO instance_group_member (instance_id, group_id, created_at, updated_at, deleted) VALUES (:member, :id, :now, :now, 0)', {
          replacements: { member, id: Number(group.id), now },
          transaction,
        });
        return true;
      });
      if (inCell) return { uuid, member, where: 'cell' };
      const [result, metadata] = await api.sequelize.query(
        'INSERT INTO instance_group_member (instance_uuid, group_id, created_at, updated_at) SELECT :member, id, :now, :now FROM instance_groups WHERE uuid = :uuid',
        { replacements: { member, uuid, now } },
      );
      if (api.dialect.affectedRows(result, metadata) !== 1) throw new Error(`group ${uuid} is neither live in its cell nor in the API database`);
      return { uuid, member, where: 'api' };
    } catch (error) {
      // A deadlock or lock timeout rolled the writer's transaction back: nothing was added; try again.
      if (!isRetryableConflict(error) || attempt >= 10) throw error;
    }
  }
}

/** Writers adding members to random groups until `stop` resolves. */
async function writers(cells: ReadonlyMap<Cell, readonly string[]>, d: LegacyDeployment, stop: Promise<unknown>, count: number): Promise<Added[]> {
  const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs: 60_000 });
  const added: Added[] = [];
  let stopped = false;
  void stop.finally(() => (stopped = true));
  try {
    const api = registry.open(d.cloud.api, { purpose: 'writer-api' });
    const entries = [...cells.entries()].map(([cell, uuids]) => ({ handle: registry.open(cell.url, { purpose: 'writer-cell' }), uuids }));
    await Promise.all(
      Array.from({ length: count }, async () => {
        while (!stopped) {
          const pick = entries[Math.floor(Math.random() * entries.length)] as (typeof entries)[number];
          const uuid = pick.uuids[Math.floor(Math.random() * pick.uuids.length)] as string;
          added.push(await addMember(pick.handle, api, uuid));
        }
      }),
    );
    return added;
  } finally {
    await registry.close();
  }
}

function withAdded(expected: Expectation, added: readonly Added[]): Expectation {
  const groups: Record<string, Groups[string]> = { ...expected.groups };
  for (const a of added) {
    const g = groups[a.uuid] as Groups[string];
    groups[a.uuid] = { ...g, members: [...g.members, a.member].sort() };
  }
  return { ...expected, groups };
}

eachDialect(test, 'a writer following the locking contract adds members while the mover runs: every member ends in the API copy of its group', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  const uuids = new Map<Cell, readonly string[]>();
  for (const [i, cell] of (d.cells as Cell[]).entries()) {
    const seeded = await seed(cell, { groups: 150, policiesPerGroup: 1, membersPerGroup: 2, computeNodes: 5, hostPrefix: `w${i}` });
    uuids.set(cell, seeded.groupUuids);
  }
  const expected = await expectation(d);
  const dir = useLogDir(t);
  const mover = spawnOdm(d.cloud, ['--batch-size', '2', '--log-file', join(dir, 'mover.log')]);
  const added = await writers(uuids, d, mover.result, 3);
  const run = await mover.result;
  t.is(run.code, 0, show(run));
  t.notRegex(run.stderr, LOCK_TROUBLE, show(run));
  const inCell = added.filter((a) => a.where === 'cell').length;
  const inApi = added.filter((a) => a.where === 'api').length;
  t.log(`${added.length} members added: ${inCell} in a cell, ${inApi} in the API database`);
  t.true(inCell > 0 && inApi > 0, `the writer met both live and moved groups (${inCell} in a cell, ${inApi} in the API database)`);

  // Members added to a cell after the run had passed their group wait for the next run.
  let last: CliResult | undefined;
  for (let i = 0; i < 3 && last?.code !== 0; i++) last = await odm(d.cloud);
  t.is(last?.code, 0, last ? show(last) : '');
  const api = await apiGroups(d.q, d.cloud.api);
  const lost = added.filter((a) => !api[a.uuid]?.members.includes(a.member));
  t.deepEqual(lost, [], `${lost.length} of ${added.length} added members are not in the API copy of their group`);
  await assertFinished(t, d, withAdded(expected, added));
});

for (const what of ['group', 'compute node'] as const) {
  eachDialect(test, `a ${what} another transaction holds locked while the run reaches its end is waited for, not left behind an exit 0`, async (t, dialect) => {
    const d = await useLegacyDeployment(t, dialect, ['cell1']);
    const cell = d.cells[0] as Cell;
    const held = randomUUID();
    if (what === 'group') {
      await plantCellGroup(cell.url, { uuid: held }, ['affinity'], [randomUUID()]);
      for (let i = 0; i < 4; i++) await plantCellGroup(cell.url, { uuid: randomUUID() }, ['anti-affinity'], [randomUUID()]);
    } else {
      await seed(cell, { groups: 0, computeNodes: 5, hostPrefix: 'held' });
    }
    const expected = await expectation(d);
    const mover = what === 'group' ? 'migrate_instance_groups_to_api_db' : 'migrate_compute_node_host';

    const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
    t.teardown(() => registry.close());
    const h = registry.open(cell.url);
    // READ COMMITTED, as the movers use: on MariaDB a REPEATABLE READ lock also takes the gap before
    // the row in the (uuid, deleted) index, which stalls the soft-delete of the group just before it.
    const transaction = await h.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED });
    await h.sequelize.query(
      what === 'group'
        ? 'SELECT id FROM instance_groups WHERE uuid = :held AND deleted = 0 FOR UPDATE'
        : 'SELECT id FROM compute_nodes WHERE id = (SELECT MIN(id) FROM compute_nodes) FOR UPDATE',
      { replacements: { held }, type: QueryTypes.SELECT, transaction },
    );

    const run = spawnOdm(d.cloud, ['--lock-wait', '20', '--log-batches']);
    // Hold the lock until the run has moved the other rows, and a while longer.
    await new Promise<void>((resolve) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (new RegExp(`mover=${mover} .*done=4`).test(seen)) {
          run.stderr?.off('data', onData);
          resolve();
        }
      };
      run.stderr?.on('data', onData);
      run.once('close', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const exitedWhileHeld = run.exitCode !== null;
    await transaction.commit();
    const r = await run.result;
    t.false(exitedWhileHeld, `the run ended while a ${what} was still locked: ${show(r)}`);
    t.is(r.code, 0, show(r));
    t.is(await liveLegacyCounts(d.q, cell.url), '0/0/0');
    await assertFinished(t, d, expected);
  });
}
