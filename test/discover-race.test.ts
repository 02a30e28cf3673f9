// Two `discover_hosts` at once over the same cells (a deployment tool running it on every
// controller): both must exit 0 and every host must be mapped exactly once, to its own cell, with
// each host reported as mapped by exactly one of the runs. Nova's own command exited 2 on the
// collision; here the unique host mapping decides and the loser moves on.
import test from 'ava';
import { spawnCli } from './helpers/cli.js';
import { type Cell, describeResult, eachDialectLimited, hostMappings, insertRows, query, useCell, useCloud, withDatabase } from './helpers/cells.js';

const CELLS = 3;
const HOSTS_PER_CELL = 30;
const ROUNDS = 3;

eachDialectLimited(test, `two discover_hosts at once over ${CELLS} cells of ${HOSTS_PER_CELL} hosts: both exit 0, each host mapped exactly once`, async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const cells: Cell[] = [];
  for (let c = 1; c <= CELLS; c++) {
    const cell = await useCell(t, cloud, `cell${c}`, { sync: true });
    await insertRows(
      cell.url,
      'compute_nodes',
      Array.from({ length: HOSTS_PER_CELL }, (_, i) => ({ id: i + 1, service_id: null, host: `c${c}-compute-${String(i).padStart(2, '0')}`, hypervisor_hostname: `node-${i}`, deleted: 0 })),
    );
    cells.push(cell);
  }

  // The expected mappings: every host to the cell that has it.
  const expected: Record<string, string> = {};
  for (const [c, cell] of cells.entries()) {
    for (let i = 0; i < HOSTS_PER_CELL; i++) expected[`c${c + 1}-compute-${String(i).padStart(2, '0')}`] = cell.uuid;
  }

  // Node's start-up decides how much the two runs overlap; a few rounds make a real collision
  // (each run winning some hosts) all but certain.
  for (let round = 1; round <= ROUNDS; round++) {
    await withDatabase(cloud.api, (h) => h.sequelize.query('DELETE FROM host_mappings'));
    // --concurrency 1 in one and the default in the other: they walk the cells at different paces,
    // so that they meet on the same hosts rather than one finishing a cell before the other starts it.
    const runners = [
      spawnCli(['--api-db', cloud.api.raw, '--json', 'cell_v2', 'discover_hosts']),
      spawnCli(['--api-db', cloud.api.raw, '--json', '--concurrency', '1', 'cell_v2', 'discover_hosts']),
    ];
    const results = await Promise.all(runners.map((r) => r.result));

    for (const [i, r] of results.entries()) t.is(r.code, 0, `runner ${i}: ${describeResult(r)}`);

    const duplicates = await query<{ host: string; n: number | string }>(cloud.api, 'SELECT host, COUNT(*) AS n FROM host_mappings GROUP BY host HAVING COUNT(*) > 1');
    t.deepEqual(duplicates, []);
    const total = await query<{ n: number | string }>(cloud.api, 'SELECT COUNT(*) AS n FROM host_mappings');
    t.is(Number(total[0]?.n), CELLS * HOSTS_PER_CELL);
    t.deepEqual(await hostMappings(cloud), expected, 'every host mapped to the cell that has it');

    // Between them the runs report each host as mapped exactly once: a host the other run won is not
    // claimed twice, and none is lost.
    const byRun = results.map((r) => (JSON.parse(r.stdout) as Array<{ mapped: string[] }>).flatMap((c) => c.mapped));
    t.log(`round ${round}: hosts mapped by each run: ${byRun.map((m) => m.length).join(' + ')}`);
    const reported = byRun.flat();
    t.is(reported.length, CELLS * HOSTS_PER_CELL, 'no host reported by both runs');
    t.deepEqual([...reported].sort(), Object.keys(expected).sort());
  }
});
