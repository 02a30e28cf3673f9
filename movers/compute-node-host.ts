/**
 * compute_nodes.host from services.host, and service_id set to NULL (spec
 * detach-service-from-computenode; Nova merged only the object-level half). Live and soft-deleted
 * rows with `host IS NULL` and `service_id` set are candidates; soft-deleted services count.
 *
 * One batch, per cell, in one short transaction: pick up to `count` candidates that can be migrated
 * (their service exists and has a host, and their new (host, hypervisor_hostname, deleted) collides
 * neither with an existing row nor with a lower-id legacy sibling), lock them with
 * `FOR UPDATE SKIP LOCKED` (a second runner takes others; services rows are never locked, so
 * heartbeats do not wait), and set host and service_id in one set-based UPDATE whose correlated
 * subquery reads the service's host — the same statement on PostgreSQL and MariaDB. The unique key
 * (host, hypervisor_hostname, deleted) stays the last word if a race slips through.
 *
 * Live nodes that cannot be migrated are reported as blocked, with the reason, once no migratable
 * row is left in the cell; they make the runner exit 3. Soft-deleted nodes that cannot be migrated
 * are left alone: nothing reads them, and they never block an upgrade.
 */
import { failpoint } from '../src/movers/failpoints.js';
import { batchTransaction, hasColumn, inBound, select, selectBound, writeBound } from '../src/movers/sql.js';
import type { BlockedRow, Mover, MoverBatch, MoverContext } from '../src/movers/types.js';

// Candidates that can be migrated now: service present with a host, no existing row with the new
// key, and no lower-id legacy row that would take the same key first.
const MIGRATABLE = `
  FROM compute_nodes cn JOIN services s ON s.id = cn.service_id
 WHERE cn.host IS NULL AND cn.service_id IS NOT NULL AND s.host IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM compute_nodes o
                    WHERE o.host = s.host AND o.hypervisor_hostname = cn.hypervisor_hostname AND o.deleted = cn.deleted)
   AND NOT EXISTS (SELECT 1 FROM compute_nodes o JOIN services os ON os.id = o.service_id
                    WHERE o.host IS NULL AND o.hypervisor_hostname = cn.hypervisor_hostname AND o.deleted = cn.deleted
                      AND o.id < cn.id AND os.host = s.host)`;

const LIMIT_BLOCKED_LISTED = 100;

async function blockedNodes(ctx: MoverContext): Promise<BlockedRow[]> {
  // Every live node without a host, as the blocker migration counts them: one that has no service_id
  // either can never be backfilled, and leaving it out let this mover exit 0 while `db sync` refused.
  const rows = await select<{ id: number; service_id: number | null; hypervisor_hostname: string | null; sid: number | null; shost: string | null }>(
    ctx.cellDb,
    `SELECT cn.id, cn.service_id, cn.hypervisor_hostname, s.id AS sid, s.host AS shost
       FROM compute_nodes cn LEFT JOIN services s ON s.id = cn.service_id
      WHERE cn.host IS NULL AND cn.deleted = 0
      ORDER BY cn.id LIMIT :limit`,
    { limit: LIMIT_BLOCKED_LISTED },
  );
  const blocked: BlockedRow[] = [];
  for (const r of rows) {
    const node = `'${r.hypervisor_hostname ?? '(no hypervisor_hostname)'}'`;
    if (r.service_id === null) {
      blocked.push({ id: Number(r.id), reason: `compute node ${node}: it has neither a host nor a service; set compute_nodes.host by hand or delete the node` });
    } else if (r.sid === null) {
      blocked.push({ id: Number(r.id), reason: `compute node ${node}: its service ${r.service_id} no longer exists, so its host is unknown; set compute_nodes.host by hand or delete the node` });
    } else if (r.shost === null) {
      blocked.push({ id: Number(r.id), reason: `compute node ${node}: its service ${r.service_id} has no host; set compute_nodes.host by hand` });
    } else {
      const other = await select<{ id: number }>(
        ctx.cellDb,
        `SELECT o.id FROM compute_nodes o LEFT JOIN services os ON os.id = o.service_id
          WHERE o.deleted = 0 AND o.id <> :id AND o.hypervisor_hostname = :hh AND (o.host = :host OR (o.host IS NULL AND os.host = :host))
          ORDER BY o.id LIMIT 1`,
        { id: r.id, hh: r.hypervisor_hostname, host: r.shost },
      );
      blocked.push({
        id: Number(r.id),
        reason: `compute node ${node}: host '${r.shost}' would collide with compute node ${other[0]?.id ?? '?'} on (host, hypervisor_hostname); soft-delete the stale one`,
      });
    }
  }
  return blocked;
}

/** `migrate_compute_node_host`. */
export const backfillComputeNodeHost: Mover = {
  name: 'migrate_compute_node_host',
  description: 'Set compute_nodes.host from services.host and null service_id, in set-based batches',

  async readiness(ctx) {
    if (!(await hasColumn(ctx.cellDb, 'compute_nodes', 'host'))) {
      return { state: 'behind', reason: "compute_nodes has no host column yet: run 'cellsdb db sync' first" };
    }
    return { state: 'ready' };
  },

  async migrate(ctx, count, after): Promise<MoverBatch> {
    const db = ctx.cellDb;
    const batch = await batchTransaction(db, ctx.timeouts, async (t) => {
      const candidates = (await select<{ id: number }>(db, `SELECT cn.id ${MIGRATABLE} AND cn.id > :after ORDER BY cn.id LIMIT :count`, { after, count }, t)).map((r) =>
        Number(r.id),
      );
      if (candidates.length === 0) return undefined;
      const ofCandidates = inBound(db, 'id', 'integer', candidates, 1);
      const lockNodes = async (skipLocked: boolean) =>
        (
          await selectBound<{ id: number }>(
            db,
            `SELECT id FROM compute_nodes WHERE ${ofCandidates.sql} AND host IS NULL ORDER BY id FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
            ofCandidates.bind,
            t,
          )
        ).map((r) => Number(r.id));
      let locked = await lockNodes(true);
      // Every candidate held by another transaction: wait for them (bounded by the lock timeout)
      // rather than return done = 0, which ends the run with exit 0 while they may still lack a host.
      if (locked.length === 0) locked = await lockNodes(false);
      const done =
        locked.length === 0
          ? 0
          : await (async () => {
              const ofLocked = inBound(db, 'id', 'integer', locked, 1);
              return writeBound(
                db,
                `UPDATE compute_nodes SET host = (SELECT s.host FROM services s WHERE s.id = compute_nodes.service_id), service_id = NULL
                  WHERE ${ofLocked.sql} AND host IS NULL AND service_id IS NOT NULL`,
                ofLocked.bind,
                t,
              );
            })();
      failpoint('compute-nodes:updated');
      return { found: candidates.length, done, blocked: [], lastKey: Math.max(...candidates) };
    });
    if (batch) return batch;
    // Nothing migratable is left after `after`: report what only an operator can unblock.
    const blocked = await blockedNodes(ctx);
    return { found: blocked.length, done: 0, blocked, lastKey: after };
  },

  async estimate(ctx) {
    const [migratable] = await select<{ n: number | string }>(ctx.cellDb, `SELECT COUNT(*) AS n ${MIGRATABLE}`);
    const [blockedLive] = await select<{ n: number | string }>(
      ctx.cellDb,
      `SELECT COUNT(*) AS n FROM compute_nodes cn WHERE cn.host IS NULL AND cn.deleted = 0
         AND cn.id NOT IN (SELECT cn.id ${MIGRATABLE})`,
    );
    return { remaining: Number(migratable?.n ?? 0) + Number(blockedLive?.n ?? 0), blocked: Number(blockedLive?.n ?? 0) };
  },
};
