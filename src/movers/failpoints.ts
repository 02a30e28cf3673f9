/**
 * Named points where a test can make the process die at an exact instant (SIGKILL, as a crash or
 * an OOM kill would): `CELLSDB_FAILPOINT=name:N` kills the process the N-th time (default 1st) it
 * reaches `name`. Unset in production, where a failpoint costs one environment lookup.
 *
 * Points: `instance-groups:locked` (cell groups locked, nothing copied), `instance-groups:api-committed`
 * (API copy committed, cell rows not yet soft-deleted), `instance-groups:soft-deleted` (cell rows
 * soft-deleted, cell transaction not yet committed), `compute-nodes:updated` (UPDATE run, not
 * committed), `runner:batch-done` (a batch committed).
 */
const hits = new Map<string, number>();

export function failpoint(name: string): void {
  const spec = process.env.CELLSDB_FAILPOINT;
  if (!spec) return;
  // Point names contain ':' themselves (`instance-groups:locked`): the count is after the last one.
  const match = /^(.*?)(?::(\d+))?$/.exec(spec.trim());
  const point = match?.[1];
  const nth = Number(match?.[2] ?? 1);
  if (point !== name) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count >= nth) process.kill(process.pid, 'SIGKILL');
}
