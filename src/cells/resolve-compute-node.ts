// `db resolve_compute_node`: what an operator does for a compute node the compute-node-host mover
// reports as blocked (its service is gone or has no host, or its host would collide), instead of
// hand-written SQL (issue 15). Either give it its host (and detach it from its service, as the mover
// would have), refusing a host that would collide on (host, hypervisor_hostname, deleted); or delete
// it: a live node is soft-deleted (deleted = id, as Nova does), which neither the mover nor the
// blocker migration counts any more.
import { QueryTypes, type Transaction } from 'sequelize';
import type { DatabaseHandle } from '../db/registry.js';
import { CellsdbError, InvalidInputError } from '../errors.js';

export interface ResolveComputeNodeRequest {
  readonly id: number;
  /** Set this host (and clear service_id). */
  readonly host?: string | undefined;
  /** Soft-delete the node. */
  readonly delete?: boolean | undefined;
  /** Check and report; change nothing. */
  readonly dryRun?: boolean | undefined;
}

export interface ComputeNodeRow {
  readonly id: number;
  readonly host: string | null;
  readonly serviceId: number | null;
  readonly hypervisorHostname: string | null;
  readonly deleted: number;
}

export interface ResolveComputeNodeResult {
  readonly action: 'set-host' | 'soft-delete';
  readonly before: ComputeNodeRow;
  readonly host?: string;
  readonly dryRun: boolean;
}

/** Validates a request before any database is read: bad input is exit 127. */
export function checkResolveRequest(req: { id?: unknown; host?: unknown; delete?: unknown }): ResolveComputeNodeRequest {
  const id = Number(req.id);
  if (req.id === undefined || !Number.isSafeInteger(id) || id <= 0 || !/^\d+$/.test(String(req.id).trim())) {
    throw new InvalidInputError(`--id must be a compute node's id (a positive integer), not '${String(req.id ?? '')}'`);
  }
  const host = typeof req.host === 'string' ? req.host.trim() : undefined;
  if (req.host !== undefined && (host === undefined || host === '' || host.length > 255)) throw new InvalidInputError('--host must be a host name of 1 to 255 characters');
  if ((host === undefined) === (req.delete !== true)) throw new InvalidInputError('give exactly one of --host HOST and --delete');
  return { id, host, delete: req.delete === true };
}

/** Resolves one compute node of one cell database (`label` names it in messages). See the file comment. */
export async function resolveComputeNode(cell: DatabaseHandle, label: string, request: ResolveComputeNodeRequest): Promise<ResolveComputeNodeResult> {
  const req = checkResolveRequest(request);
  const dryRun = request.dryRun === true;
  return cell.run((sequelize) =>
    sequelize.transaction(async (t: Transaction) => {
      const [row] = await sequelize.query<{ id: number; host: string | null; service_id: number | null; hypervisor_hostname: string | null; deleted: number }>(
        'SELECT id, host, service_id, hypervisor_hostname, deleted FROM compute_nodes WHERE id = :id FOR UPDATE',
        { replacements: { id: req.id }, type: QueryTypes.SELECT, transaction: t },
      );
      if (!row) throw new CellsdbError(`no compute node with id ${req.id} in ${label}`);
      const before: ComputeNodeRow = { id: Number(row.id), host: row.host, serviceId: row.service_id === null ? null : Number(row.service_id), hypervisorHostname: row.hypervisor_hostname, deleted: Number(row.deleted) };
      if (before.deleted !== 0) throw new CellsdbError(`compute node ${req.id} in ${label} is already deleted: nothing blocks on it`);
      const now = new Date();
      if (req.delete) {
        if (!dryRun) await sequelize.query('UPDATE compute_nodes SET deleted = id, deleted_at = :now WHERE id = :id AND deleted = 0', { replacements: { id: req.id, now }, transaction: t });
        return { action: 'soft-delete', before, dryRun };
      }
      const host = req.host as string;
      if (before.host !== null && before.host !== host) {
        throw new CellsdbError(`compute node ${req.id} in ${label} already has host '${before.host}': it is not blocked for lack of one; nothing was changed`);
      }
      // The unique key (host, hypervisor_hostname, deleted), and the nodes the mover will give this
      // host from their service: either would refuse the node later.
      const [other] = await sequelize.query<{ id: number; host: string | null }>(
        `SELECT o.id, o.host FROM compute_nodes o LEFT JOIN services s ON s.id = o.service_id
          WHERE o.deleted = 0 AND o.id <> :id AND o.hypervisor_hostname = :hh AND (o.host = :host OR (o.host IS NULL AND s.host = :host))
          ORDER BY o.id LIMIT 1`,
        { replacements: { id: req.id, hh: before.hypervisorHostname, host }, type: QueryTypes.SELECT, transaction: t },
      );
      if (other) {
        throw new CellsdbError(
          `host '${host}' would collide in ${label}: compute node ${other.id} already has (host, hypervisor_hostname) ('${host}', '${before.hypervisorHostname ?? ''}'); ` +
            `delete the stale one ('cellsdb db resolve_compute_node --id ${req.id} --delete' or '--id ${other.id} --delete') or choose another host; nothing was changed`,
        );
      }
      if (!dryRun) {
        await sequelize.query('UPDATE compute_nodes SET host = :host, service_id = NULL, updated_at = :now WHERE id = :id', { replacements: { id: req.id, host, now }, transaction: t });
      }
      return { action: 'set-host', before, host, dryRun };
    }),
  );
}
