import { QueryTypes } from 'sequelize';
import type { CellMappingRow } from '../cells/mappings.js';
import type { DatabaseHandle } from '../db/registry.js';
import type { ServiceGroupApi } from '../servicegroup/api.js';
import type { ServiceState } from '../servicegroup/types.js';
import { compareVersions, type FieldSpec, loadObject, VersionedObject } from './base.js';

/** Where a ComputeNode lives: its cell, the cell's database, and the service-group API for service data. */
export interface CellContext {
  readonly cell: CellMappingRow;
  readonly db: DatabaseHandle;
  readonly serviceGroup: ServiceGroupApi;
}

export interface ComputeNodeFields extends Record<string, unknown> {
  id: number;
  service_id: number | null;
  host: string | null;
  hypervisor_hostname: string | null;
  vcpus: number | null;
  memory_mb: number | null;
  local_gb: number | null;
  vcpus_used: number | null;
  memory_mb_used: number | null;
  local_gb_used: number | null;
  hypervisor_type: string | null;
  cpu_info: string | null;
}

const COLUMNS = 'id, service_id, host, hypervisor_hostname, vcpus, memory_mb, local_gb, vcpus_used, memory_mb_used, local_gb_used, hypervisor_type, cpu_info';

/**
 * A compute node (spec detach-service-from-computenode). History: 1.0 had `service_id` (required)
 * and no `host`; 1.1 added `host`; 1.2 made `service_id` nullable (deprecated, left unset).
 *
 * Reading a legacy row (host NULL, service_id set) resolves `host` from its service without
 * writing; `save()` migrates it: fills host from the service and sets service_id to NULL, as the
 * movers do in bulk.
 */
export class ComputeNode extends VersionedObject<ComputeNodeFields> {
  static readonly objName = 'ComputeNode';
  static readonly VERSION = '1.2';
  static readonly fields: Readonly<Record<keyof ComputeNodeFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    service_id: { kind: 'integer', nullable: true },
    host: { kind: 'string', nullable: true, since: '1.1' },
    hypervisor_hostname: { kind: 'string', nullable: true },
    vcpus: { kind: 'integer', nullable: true },
    memory_mb: { kind: 'integer', nullable: true },
    local_gb: { kind: 'integer', nullable: true },
    vcpus_used: { kind: 'integer', nullable: true },
    memory_mb_used: { kind: 'integer', nullable: true },
    local_gb_used: { kind: 'integer', nullable: true },
    hypervisor_type: { kind: 'string', nullable: true },
    cpu_info: { kind: 'string', nullable: true },
  };

  /** The row still has host NULL and a service_id: save() migrates it. */
  private legacyServiceId: number | null = null;
  /** The node's compute service, when it was read with `withService`. */
  service: ServiceState | undefined;

  /**
   * Below 1.2 `service_id` was required: fill it from the service (the legacy row's id, or the
   * compute service found by host when read with `withService`), else -1 as Nova did.
   */
  protected override makeCompatible(data: Record<string, unknown>, target: string): void {
    super.makeCompatible(data, target);
    if (compareVersions(target, '1.2') < 0 && (data.service_id === null || data.service_id === undefined)) {
      data.service_id = this.legacyServiceId ?? this.service?.id ?? -1;
    }
  }

  private static async fromRows(ctx: CellContext, rows: Record<string, unknown>[]): Promise<ComputeNode[]> {
    const legacy = rows.filter((r) => r.host === null && r.service_id !== null).map((r) => Number(r.service_id));
    const hosts = legacy.length > 0 ? await ctx.serviceGroup.hostsByServiceId(ctx.cell, legacy) : new Map<number, string | null>();
    return rows.map((r) => {
      const node = loadObject(ComputeNode, r);
      if (r.host === null && r.service_id !== null) {
        node.legacyServiceId = Number(r.service_id);
        // Resolved for the reader only: the row is written when (and if) the node is saved.
        node.set('host', hosts.get(Number(r.service_id)) ?? null);
        node.resetChanges();
      }
      return node;
    });
  }

  private static async select(ctx: CellContext, where: string, replacements: Record<string, unknown>): Promise<ComputeNode[]> {
    const rows = await ctx.db.run((s) =>
      s.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM compute_nodes WHERE deleted = 0 AND ${where} ORDER BY id`, { replacements, type: QueryTypes.SELECT }),
    );
    return ComputeNode.fromRows(ctx, rows);
  }

  static async getById(ctx: CellContext, id: number): Promise<ComputeNode | undefined> {
    return (await ComputeNode.select(ctx, 'id = :id', { id }))[0];
  }

  /** Nodes of a host: by `host`, and (for rows not migrated yet) through the host's services. */
  static async listByHost(ctx: CellContext, host: string): Promise<ComputeNode[]> {
    const direct = await ComputeNode.select(ctx, 'host = :host', { host });
    const serviceIds = (await ctx.serviceGroup.store(ctx.cell).list({ host })).map((s) => s.id);
    const legacy = serviceIds.length > 0 ? await ComputeNode.select(ctx, 'host IS NULL AND service_id IN (:serviceIds)', { serviceIds }) : [];
    return [...direct, ...legacy].sort((a, b) => a.get('id') - b.get('id'));
  }

  static async getByHostAndNodename(ctx: CellContext, host: string, nodename: string): Promise<ComputeNode | undefined> {
    return (await ComputeNode.listByHost(ctx, host)).find((n) => n.get('hypervisor_hostname') === nodename);
  }

  /** Every live node; with `withService`, each node's compute service joined on host (only when asked). */
  static async list(ctx: CellContext, options: { withService?: boolean } = {}): Promise<ComputeNode[]> {
    const nodes = await ComputeNode.select(ctx, '1 = 1', {});
    if (options.withService) {
      const services = await ctx.serviceGroup.listInCell(ctx.cell, { binary: 'nova-compute' });
      const byHost = new Map(services.map((s) => [s.host, s]));
      for (const node of nodes) node.service = byHost.get(node.get('host'));
    }
    return nodes;
  }

  /** Creates the node with its host (service_id stays NULL: it is deprecated). */
  async create(ctx: CellContext): Promise<void> {
    const data: Record<string, unknown> = {};
    for (const name of this.changes()) if (name !== 'id') data[name] = this.get(name as keyof ComputeNodeFields & string);
    data.service_id = null;
    const now = new Date();
    const columns = [...Object.keys(data), 'created_at', 'updated_at', 'deleted'];
    await ctx.db.run((s) =>
      s.query(`INSERT INTO compute_nodes (${columns.join(', ')}) VALUES (${columns.map((c) => `:${c}`).join(', ')})`, {
        replacements: { ...data, created_at: now, updated_at: now, deleted: 0 },
      }),
    );
    const created = await ComputeNode.select(ctx, 'host = :host AND hypervisor_hostname = :hh', { host: data.host ?? null, hh: data.hypervisor_hostname ?? null });
    const row = created.at(-1);
    if (row) this.set('id', row.get('id'));
    this.set('service_id', null);
    this.resetChanges();
  }

  /**
   * Writes only the changed fields. A legacy row is migrated on the way: host from its service,
   * service_id NULL (the spec's object-level migration).
   */
  async save(ctx: CellContext): Promise<void> {
    const updates: Record<string, unknown> = {};
    for (const name of this.changes()) if (name !== 'id') updates[name] = this.get(name as keyof ComputeNodeFields & string);
    if (this.legacyServiceId !== null) {
      let host = this.has('host') ? this.get('host') : null;
      if (!host) host = (await ctx.serviceGroup.hostsByServiceId(ctx.cell, [this.legacyServiceId])).get(this.legacyServiceId) ?? null;
      if (host) {
        updates.host = host;
        updates.service_id = null;
      }
    }
    if (Object.keys(updates).length === 0) return;
    const sets = Object.keys(updates).map((c) => `${c} = :${c}`);
    await ctx.db.run((s) =>
      s.query(`UPDATE compute_nodes SET ${sets.join(', ')}, updated_at = :updatedAt WHERE id = :id`, { replacements: { ...updates, updatedAt: new Date(), id: this.get('id') } }),
    );
    if ('service_id' in updates && updates.service_id === null) {
      this.set('host', updates.host as string);
      this.set('service_id', null);
      this.legacyServiceId = null;
    }
    this.resetChanges();
  }

  /** Soft-deletes the node. */
  async destroy(ctx: CellContext): Promise<void> {
    await ctx.db.run((s) => s.query('UPDATE compute_nodes SET deleted = id, deleted_at = :now WHERE id = :id AND deleted = 0', { replacements: { id: this.get('id'), now: new Date() } }));
  }
}
