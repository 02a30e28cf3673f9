import { QueryTypes } from 'sequelize';
import type { DatabaseHandle } from '../db/registry.js';

/** An instance as `verify_instance` sees it in its cell: live, soft-deleted, or gone (archived). */
export type InstanceState = 'live' | 'deleted' | 'archived';

/**
 * What the cell_v2 operations read from a cell database (its instances and compute nodes); the
 * sibling of `MappingStore`, which holds the API database's side. Services are read through the
 * service-group API, never here. Driver errors come out translated, naming the database.
 */
export class CellRecords {
  constructor(private readonly cell: DatabaseHandle) {}

  private select<Row extends object>(sql: string, replacements: Record<string, unknown> = {}): Promise<Row[]> {
    return this.cell.run((s) => s.query<Row>(sql, { replacements, type: QueryTypes.SELECT }));
  }

  /** Instances not (soft-)deleted. */
  async liveInstanceCount(): Promise<number> {
    const rows = await this.select<{ n: number | string }>('SELECT COUNT(*) AS n FROM instances WHERE deleted = 0');
    return Number(rows[0]?.n ?? 0);
  }

  async instanceState(uuid: string): Promise<InstanceState> {
    const rows = await this.select<{ deleted: number | string }>('SELECT deleted FROM instances WHERE uuid = :uuid', { uuid });
    const row = rows[0];
    if (!row) return 'archived';
    return Number(row.deleted) !== 0 ? 'deleted' : 'live';
  }

  /**
   * The live compute nodes' distinct (host, service id) pairs: a node not yet backfilled by the
   * compute-node mover knows its host only through its service.
   */
  async computeNodeHosts(): Promise<Array<{ readonly host: string | null; readonly serviceId: number | null }>> {
    const rows = await this.select<{ host: string | null; service_id: number | string | null }>('SELECT DISTINCT host, service_id FROM compute_nodes WHERE deleted = 0');
    return rows.map((r) => ({ host: r.host, serviceId: r.service_id === null ? null : Number(r.service_id) }));
  }
}
