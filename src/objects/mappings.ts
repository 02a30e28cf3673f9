import type { DatabaseHandle } from '../db/registry.js';
import {
  type ByColumn,
  CELL_MAPPING_COLUMNS,
  type CellMappingRow,
  fromColumns,
  HOST_MAPPING_COLUMNS,
  type HostMappingRow,
  INSTANCE_MAPPING_COLUMNS,
  type InstanceMappingRow,
  MappingStore,
  toColumns,
} from '../cells/mappings.js';
import { type FieldSpec, loadObject, VersionedObject } from './base.js';

// The mapping objects are views of the rows `MappingStore` reads (`src/cells/mappings.ts`, the
// source of truth): their fields are the rows' fields under their column names, Nova's field names.

/** A cell mapping's fields: {@link CellMappingRow}'s, under their column names. */
export type CellMappingFields = ByColumn<CellMappingRow, typeof CELL_MAPPING_COLUMNS>;

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
    return loadObject(CellMapping, toColumns(row, CELL_MAPPING_COLUMNS));
  }

  static async getByUuid(api: DatabaseHandle, uuid: string): Promise<CellMapping | undefined> {
    const row = await new MappingStore(api).getCell(uuid);
    return row ? CellMapping.fromRow(row) : undefined;
  }

  static async list(api: DatabaseHandle): Promise<CellMapping[]> {
    return (await new MappingStore(api).listCells()).map((r) => CellMapping.fromRow(r));
  }

  /** Writes changed fields (those a cell_v2 update may change; id and uuid are its identity). */
  async save(api: DatabaseHandle): Promise<void> {
    const changes = this.changes();
    if (changes.length === 0) return;
    const changed = Object.fromEntries(changes.map((c) => [c, this.get(c as keyof CellMappingFields & string)]));
    const { name, transportUrl, databaseConnection, disabled } = fromColumns<CellMappingRow, typeof CELL_MAPPING_COLUMNS>(changed, CELL_MAPPING_COLUMNS);
    await new MappingStore(api).updateCell(this.get('uuid'), { name, transportUrl, databaseConnection, disabled });
    this.resetChanges();
  }
}

/** A host mapping's fields: {@link HostMappingRow}'s, under their column names. */
export type HostMappingFields = ByColumn<HostMappingRow, typeof HOST_MAPPING_COLUMNS>;

/** A host mapping (API database): which cell a compute host belongs to. */
export class HostMapping extends VersionedObject<HostMappingFields> {
  static readonly objName = 'HostMapping';
  static readonly VERSION = '1.0';
  static readonly fields: Readonly<Record<keyof HostMappingFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    host: { kind: 'string', nullable: false },
    cell_id: { kind: 'integer', nullable: false },
  };

  static fromRow(row: HostMappingRow): HostMapping {
    return loadObject(HostMapping, toColumns(row, HOST_MAPPING_COLUMNS));
  }

  static async getByHost(api: DatabaseHandle, host: string): Promise<HostMapping | undefined> {
    const row = (await new MappingStore(api).hostMappings()).find((h) => h.host === host);
    return row ? HostMapping.fromRow(row) : undefined;
  }

  static async listByCell(api: DatabaseHandle, cellId: number): Promise<HostMapping[]> {
    return (await new MappingStore(api).hostMappings(cellId)).map((h) => HostMapping.fromRow(h));
  }
}

/** An instance mapping's fields: {@link InstanceMappingRow}'s, under their column names. */
export type InstanceMappingFields = ByColumn<InstanceMappingRow, typeof INSTANCE_MAPPING_COLUMNS>;

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

  static fromRow(row: InstanceMappingRow): InstanceMapping {
    return loadObject(InstanceMapping, toColumns(row, INSTANCE_MAPPING_COLUMNS));
  }

  static async getByInstanceUuid(api: DatabaseHandle, instanceUuid: string): Promise<InstanceMapping | undefined> {
    const row = await new MappingStore(api).instanceMapping(instanceUuid);
    return row ? InstanceMapping.fromRow(row) : undefined;
  }
}
