import type { DatabaseHandle } from '../db/registry.js';
import { type CellMapping as CellMappingRow, MappingStore } from '../cells/mappings.js';
import { type FieldSpec, loadObject, VersionedObject } from './base.js';

export interface CellMappingFields extends Record<string, unknown> {
  id: number;
  uuid: string;
  name: string | null;
  transport_url: string;
  database_connection: string;
  disabled: boolean;
}

/** A cell mapping (API database): how to reach one cell. Its URLs may hold passwords: print them masked. */
export class CellMapping extends VersionedObject<CellMappingFields> {
  static readonly objName = 'CellMapping';
  static readonly VERSION = '1.1';
  static readonly fields: Readonly<Record<keyof CellMappingFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    uuid: { kind: 'string', nullable: false },
    name: { kind: 'string', nullable: true },
    transport_url: { kind: 'string', nullable: false },
    database_connection: { kind: 'string', nullable: false },
    // Nova's CellMapping 1.1 added `disabled`.
    disabled: { kind: 'boolean', nullable: false, since: '1.1' },
  };

  static fromRow(row: CellMappingRow): CellMapping {
    return loadObject(CellMapping, { id: row.id, uuid: row.uuid, name: row.name, transport_url: row.transportUrl, database_connection: row.databaseConnection, disabled: row.disabled });
  }

  static async getByUuid(api: DatabaseHandle, uuid: string): Promise<CellMapping | undefined> {
    const row = await api.run(() => new MappingStore(api.sequelize).getCell(uuid));
    return row ? CellMapping.fromRow(row) : undefined;
  }

  static async list(api: DatabaseHandle): Promise<CellMapping[]> {
    return (await api.run(() => new MappingStore(api.sequelize).listCells())).map((r) => CellMapping.fromRow(r));
  }

  /** Writes changed fields. */
  async save(api: DatabaseHandle): Promise<void> {
    const changes = this.changes();
    if (changes.length === 0) return;
    const map: Record<string, string> = { name: 'name', transport_url: 'transportUrl', database_connection: 'databaseConnection', disabled: 'disabled' };
    const update = Object.fromEntries(changes.filter((c) => map[c]).map((c) => [map[c], this.get(c as keyof CellMappingFields & string)]));
    await api.run(() => new MappingStore(api.sequelize).updateCell(this.get('uuid'), update));
    this.resetChanges();
  }
}

export interface HostMappingFields extends Record<string, unknown> {
  id: number;
  host: string;
  cell_id: number;
}

/** A host mapping (API database): which cell a compute host belongs to. */
export class HostMapping extends VersionedObject<HostMappingFields> {
  static readonly objName = 'HostMapping';
  static readonly VERSION = '1.0';
  static readonly fields: Readonly<Record<keyof HostMappingFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    host: { kind: 'string', nullable: false },
    cell_id: { kind: 'integer', nullable: false },
  };

  static async getByHost(api: DatabaseHandle, host: string): Promise<HostMapping | undefined> {
    const all = await api.run(() => new MappingStore(api.sequelize).hostMappings());
    const row = all.find((h) => h.host === host);
    return row ? loadObject(HostMapping, { id: row.id, host: row.host, cell_id: row.cellId }) : undefined;
  }

  static async listByCell(api: DatabaseHandle, cellId: number): Promise<HostMapping[]> {
    return (await api.run(() => new MappingStore(api.sequelize).hostMappings(cellId))).map((h) => loadObject(HostMapping, { id: h.id, host: h.host, cell_id: h.cellId }));
  }
}

export interface InstanceMappingFields extends Record<string, unknown> {
  id: number;
  instance_uuid: string;
  cell_id: number | null;
  project_id: string;
}

/** An instance mapping (API database): which cell an instance lives in (NULL while it is being scheduled). */
export class InstanceMapping extends VersionedObject<InstanceMappingFields> {
  static readonly objName = 'InstanceMapping';
  static readonly VERSION = '1.0';
  static readonly fields: Readonly<Record<keyof InstanceMappingFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    instance_uuid: { kind: 'string', nullable: false },
    cell_id: { kind: 'integer', nullable: true },
    project_id: { kind: 'string', nullable: false },
  };

  static async getByInstanceUuid(api: DatabaseHandle, instanceUuid: string): Promise<InstanceMapping | undefined> {
    const row = await api.run(() => new MappingStore(api.sequelize).instanceMapping(instanceUuid));
    return row ? loadObject(InstanceMapping, { id: row.id, instance_uuid: row.instanceUuid, cell_id: row.cellId, project_id: row.projectId }) : undefined;
  }
}
