/**
 * Named points where a test makes the process die at an exact instant (SIGKILL, as a crash or an
 * OOM kill would). The runner hands its movers a {@link Failpoint} in their context
 * (`ctx.failpoint('instance-groups:locked')`); production passes none, and a point costs a no-op call.
 */

/** The points a crash test can name. */
export type FailpointName =
  /** Cell groups locked, nothing copied. */
  | 'instance-groups:locked'
  /** API copy committed, cell rows not yet soft-deleted. */
  | 'instance-groups:api-committed'
  /** Cell rows soft-deleted, cell transaction not yet committed. */
  | 'instance-groups:soft-deleted'
  /** The compute-node UPDATE run, not committed. */
  | 'compute-nodes:updated'
  /** A batch committed (the runner's own point). */
  | 'runner:batch-done'
  /** A migration's schema step changed something (src/migrate/schema-steps.ts; adopt, issue 15). */
  | 'migrate:step'
  /** A migration's started-marker written, nothing of it run yet (src/migrate/apply.ts). */
  | 'migrate:started';

/** Called as the code passes a named point. */
export type Failpoint = (name: FailpointName) => void;

/** Failpoints that never fire: what production runs with. */
export const NO_FAILPOINTS: Failpoint = () => undefined;

/**
 * Failpoints from a spec `name:N` (the format of `CELLSDB_FAILPOINT`, which the crash tests set):
 * `onHit` runs the N-th time (default the 1st, and every time after) the code reaches `name`.
 * `name:N=SIGINT` or `=SIGTERM` instead sends this process that signal, once, at the N-th hit
 * (the interrupt tests: a signal at an exact instant, issue 13). `name:N=ERROR` throws, once, at the
 * N-th hit, an error with no message at all (the worst a driver gives), so that a test can walk every
 * failure path and prove that each error still names its cause and its database (issue 15).
 * Several specs: comma-separated.
 * No spec (undefined or blank): {@link NO_FAILPOINTS}. Each call makes a fresh hit count.
 * @param onHit what a hit does. @default kills this process with SIGKILL
 */
export function createFailpoints(spec: string | undefined, onHit: () => void = () => process.kill(process.pid, 'SIGKILL')): Failpoint {
  if (spec === undefined || spec.trim() === '') return NO_FAILPOINTS;
  // Several points, comma-separated (a first and a second signal: `a:1=SIGINT,b:1=SIGINT`).
  const points = spec.split(',').map((one) => onePoint(one, onHit));
  return points.length === 1 ? (points[0] as Failpoint) : (name) => points.forEach((p) => p(name));
}

function onePoint(spec: string, onHit: () => void): Failpoint {
  // Point names contain ':' themselves (`instance-groups:locked`): the count is after the last one.
  const match = /^(.*?)(?::(\d+))?(?:=(SIGINT|SIGTERM|ERROR))?$/.exec(spec.trim());
  const point = match?.[1];
  const nth = Number(match?.[2] ?? 1);
  const action = match?.[3];
  const signal = action === 'SIGINT' || action === 'SIGTERM' ? (action as NodeJS.Signals) : undefined;
  let hits = 0;
  return (name) => {
    if (name !== point) return;
    hits += 1;
    if (action === 'ERROR') {
      if (hits === nth) throw Object.assign(new Error(''), { code: 'EFAILPOINT' });
    } else if (signal) {
      if (hits === nth) process.kill(process.pid, signal);
    } else if (hits >= nth) onHit();
  };
}
