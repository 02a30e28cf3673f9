/**
 * compute_nodes.host from services.host, and service_id set to NULL (spec
 * detach-service-from-computenode; Nova merged only the object-level half). Live and soft-deleted
 * rows with `host IS NULL` and `service_id` set are candidates; soft-deleted services count.
 *
 * One batch, per cell, in one short transaction, over a keyset window: the next `count` legacy nodes
 * by primary key (blocked ones included, so that a batch costs what its size does, not what the
 * table does). The window's nodes are locked with `FOR UPDATE SKIP LOCKED` (a second runner takes
 * others; services rows are never locked, so heartbeats do not wait). When all of them are ours, one
 * set-based UPDATE over the window sets host (a correlated subquery reads the service's host — the
 * same statement on PostgreSQL and MariaDB) and nulls service_id, inside a savepoint: the unique key
 * (host, hypervisor_hostname, deleted) finds any collision, and only then does the batch roll back to
 * the savepoint and check node by node — a node is migratable if its service exists with a host and
 * its new key collides neither with an existing row nor with a lower-id legacy sibling (so of two
 * legacy twins the first wins; a lower twin that another transaction held while its window passed
 * can lose to the later one, and is then the one reported). Nodes another transaction holds are left
 * to it, or waited for when they are all the window has to migrate.
 *
 * Live nodes that cannot be migrated are reported as blocked, with the reason, by the call whose
 * window comes up empty (the end of the cell; nodes that are only held by another transaction are not
 * among them); they make the runner exit 3. Soft-deleted nodes that cannot be migrated
 * are left alone: nothing reads them, and they never block an upgrade.
 */
import { type Transaction, UniqueConstraintError } from 'sequelize';
import { batchTransaction, hasColumn, select, selectBound, write, writeBound } from '../src/movers/sql.js';
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

/** How an operator resolves a blocked node (adopt, issue 15: a command, not hand-written SQL). */
const RESOLVE = (id: number | string): string => `; resolve it with 'cellsdb db resolve_compute_node --id ${Number(id)} --host HOST' (or '--delete')`;

async function blockedNodes(ctx: MoverContext): Promise<BlockedRow[]> {
  // Every live node without a host, as the blocker migration counts them: one that has no service_id
  // either can never be backfilled, and leaving it out let this mover exit 0 while `db sync` refused.
  const rows = await select<{ id: number; service_id: number | null; hypervisor_hostname: string | null; sid: number | null; shost: string | null }>(
    ctx.cellDb,
    `SELECT cn.id, cn.service_id, cn.hypervisor_hostname, s.id AS sid, s.host AS shost
       FROM compute_nodes cn LEFT JOIN services s ON s.id = cn.service_id
      WHERE cn.host IS NULL AND cn.deleted = 0 AND cn.id NOT IN (SELECT cn.id ${MIGRATABLE})
      ORDER BY cn.id LIMIT :limit`,
    { limit: LIMIT_BLOCKED_LISTED },
  );
  const blocked: BlockedRow[] = [];
  for (const r of rows) {
    const node = `'${r.hypervisor_hostname ?? '(no hypervisor_hostname)'}'`;
    if (r.service_id === null) {
      blocked.push({ id: Number(r.id), reason: `compute node ${node}: it has neither a host nor a service${RESOLVE(r.id)}` });
    } else if (r.sid === null) {
      blocked.push({ id: Number(r.id), reason: `compute node ${node}: its service ${r.service_id} no longer exists, so its host is unknown${RESOLVE(r.id)}` });
    } else if (r.shost === null) {
      blocked.push({ id: Number(r.id), reason: `compute node ${node}: its service ${r.service_id} has no host${RESOLVE(r.id)}` });
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
        reason: `compute node ${node}: host '${r.shost}' would collide with compute node ${other[0]?.id ?? '?'} on (host, hypervisor_hostname); soft-delete the stale one ('cellsdb db resolve_compute_node --id N --delete')`,
      });
    }
  }
  return blocked;
}

/** Legacy nodes: no host yet, a service_id to take it from. */
const LEGACY = 'host IS NULL AND service_id IS NOT NULL';
/** Legacy nodes with keys in (`:after`, `:last`]. */
const IN_WINDOW = `${LEGACY} AND id > :after AND id <= :last`;
const SET_HOST = 'SET host = (SELECT s.host FROM services s WHERE s.id = compute_nodes.service_id), service_id = NULL';

/**
 * Sets host and nulls service_id on every legacy node of a window this transaction has locked, in
 * one statement, with no collision check but the unique key's: returns the rows changed, or
 * undefined when the key refused (rolled back to before the statement; the caller then checks).
 */
async function updateWindow(db: MoverContext['cellDb'], window: { after: number; last: number }, t: Transaction): Promise<number | undefined> {
  await db.sequelize.query('SAVEPOINT cellsdb_nodes', { transaction: t });
  try {
    return await write(
      db,
      `UPDATE compute_nodes ${SET_HOST}
        WHERE ${IN_WINDOW} AND EXISTS (SELECT 1 FROM services s WHERE s.id = compute_nodes.service_id AND s.host IS NOT NULL)`,
      window,
      t,
    );
  } catch (error) {
    if (!(error instanceof UniqueConstraintError)) throw error;
    await db.sequelize.query('ROLLBACK TO SAVEPOINT cellsdb_nodes', { transaction: t });
    return undefined;
  }
}

/** `migrate_compute_node_host`. */
export const backfillComputeNodeHost: Mover = {
  name: 'migrate_compute_node_host',
  description: 'Set compute_nodes.host from services.host and null service_id, in set-based batches',
  // A node is one narrow row and one index entry: 500 of them take a few milliseconds.
  firstBatchSize: 500,

  async readiness(ctx) {
    if (!(await hasColumn(ctx.cellDb, 'compute_nodes', 'host'))) {
      return { state: 'behind', reason: "compute_nodes has no host column yet: run 'cellsdb db sync' first" };
    }
    return { state: 'ready' };
  },

  async migrate(ctx, count, after): Promise<MoverBatch> {
    const db = ctx.cellDb;
    const batch = await batchTransaction(db, ctx.timeouts, async (t): Promise<MoverBatch | undefined> => {
      // The keyset window: the next `count` legacy nodes by primary key, blocked ones included, so
      // that a batch costs what its size does, not what the table does.
      const [edge] = await select<{ n: number | string; last: number | string | null }>(
        db,
        `SELECT COUNT(*) AS n, MAX(id) AS last FROM (SELECT id FROM compute_nodes WHERE ${LEGACY} AND id > :after ORDER BY id LIMIT :count) w`,
        { after, count },
        t,
      );
      const size = Number(edge?.n ?? 0);
      if (size === 0 || edge?.last == null) return undefined;
      const window = { after, last: Number(edge.last) };
      const locked = (await select<{ id: number }>(db, `SELECT id FROM compute_nodes WHERE ${IN_WINDOW} ORDER BY id FOR UPDATE SKIP LOCKED`, window, t)).map((r) => Number(r.id));
      if (locked.length === size) {
        // Every node of the window is ours: set them all in one statement and let the unique key
        // find collisions; only if it finds one does the batch check node by node below.
        const done = await updateWindow(db, window, t);
        if (done !== undefined) {
          ctx.failpoint('compute-nodes:updated');
          return { found: done, done, blocked: [], lastKey: window.last, more: true };
        }
      }
      const candidates = (await select<{ id: number }>(db, `SELECT cn.id ${MIGRATABLE} AND cn.id > :after AND cn.id <= :last ORDER BY cn.id`, window, t)).map((r) => Number(r.id));
      const mine = new Set(locked);
      let ours = candidates.filter((id) => mine.has(id));
      if (ours.length === 0 && candidates.length > 0) {
        // Every migratable node of the window held by another transaction: wait for them (bounded
        // by the lock timeout) rather than pass them by while they may still lack a host.
        const of = db.dialect.inBound('id', 'integer', candidates, 1);
        ours = (await selectBound<{ id: number }>(db, `SELECT id FROM compute_nodes WHERE ${of.sql} AND host IS NULL ORDER BY id FOR UPDATE`, of.bind, t)).map((r) => Number(r.id));
      }
      const of = db.dialect.inBound('id', 'integer', ours, 1);
      const done = ours.length === 0 ? 0 : await writeBound(db, `UPDATE compute_nodes ${SET_HOST} WHERE ${of.sql} AND ${LEGACY}`, of.bind, t);
      ctx.failpoint('compute-nodes:updated');
      // More windows may follow even after a short one: the call that finds none lists what is blocked.
      return { found: candidates.length, done, blocked: [], lastKey: window.last, more: true };
      // A host lost in a server crash is set again by the next run.
    }, { redoable: true });
    if (batch) return batch;
    // No legacy node is left after `after`: report what only an operator can unblock.
    const blocked = await blockedNodes(ctx);
    return { found: blocked.length, done: 0, blocked, lastKey: after, more: false };
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
