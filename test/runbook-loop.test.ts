// docs/runbook-loop.sh, the README's runbook loop, run by /bin/sh against real databases on both
// dialects: it repeats while cellsdb exits 1, then exits with the last code and says which end it
// reached, so that "blocked" (3) is never read as "done" (0).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { CLI_PATH, cliEnv } from './helpers/cli.js';
import { eachDialectLimited, insertRows } from './helpers/cells.js';
import { type LegacyDeployment, useLegacyDeployment } from './helpers/movers.js';

const SCRIPT = fileURLToPath(new URL('../../docs/runbook-loop.sh', import.meta.url));

interface LoopResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the loop with MAX_COUNT rows per run against the deployment's API database. */
function runLoop(d: LegacyDeployment, maxCount: number): Promise<LoopResult> {
  const child = spawn('/bin/sh', [SCRIPT, '--api-db', d.cloud.api.raw], {
    env: cliEnv({ CELLSDB: `${process.execPath} ${CLI_PATH}`, MAX_COUNT: String(maxCount) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const show = (r: LoopResult): string => `exit ${String(r.code)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Legacy compute nodes whose host the mover can fill in (from their live service). */
async function plantMovableNodes(d: LegacyDeployment, hosts: readonly string[]): Promise<void> {
  const cell = d.cells[0];
  if (!cell) throw new Error('no cell');
  await insertRows(cell.url, 'services', hosts.map((host) => ({ host, binary: 'nova-compute', topic: 'compute', report_count: 0, deleted: 0 })));
  const ids = await d.q<{ id: number; host: string }>(cell.url, 'SELECT id, host FROM services');
  await insertRows(cell.url, 'compute_nodes', ids.map((s) => ({ service_id: Number(s.id), host: null, hypervisor_hostname: `${s.host}.example.org`, vcpus: 1, memory_mb: 1024, local_gb: 10, deleted: 0 })));
}

eachDialectLimited(test, 'runbook loop: repeats while there is more to do (exit 1), then exits 0 and says done', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  await plantMovableNodes(d, ['compute-1', 'compute-2', 'compute-3']);
  // One row per run: three runs exit 1, the fourth finds nothing and exits 0.
  const r = await runLoop(d, 1);
  t.is(r.code, 0, show(r));
  t.regex(r.stderr, /runbook-loop: done/, show(r));
  t.true((r.stdout.match(/Total Needed/g) ?? []).length >= 4, `one report per run, at least four runs: ${show(r)}`);
  const cell = d.cells[0];
  if (!cell) throw new Error('no cell');
  const left = await d.q<{ n: number }>(cell.url, 'SELECT COUNT(*) AS n FROM compute_nodes WHERE host IS NULL');
  t.is(Number(left[0]?.n), 0);
});

eachDialectLimited(test, 'runbook loop: rows only an operator can unblock: exits 3 and says BLOCKED, never done', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  await plantMovableNodes(d, ['compute-1']);
  const cell = d.cells[0];
  if (!cell) throw new Error('no cell');
  // A node whose service row is gone: no host to give it, the mover reports it blocked.
  await insertRows(cell.url, 'compute_nodes', [{ service_id: 1_999_999_999, host: null, hypervisor_hostname: 'orphan.example.org', vcpus: 1, memory_mb: 1024, local_gb: 10, deleted: 0 }]);
  const r = await runLoop(d, 1);
  t.is(r.code, 3, show(r));
  t.regex(r.stderr, /runbook-loop: BLOCKED \(exit 3\)/, show(r));
  t.notRegex(r.stderr, /runbook-loop: done/);
});
