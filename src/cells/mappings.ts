import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { DialectSql } from '../db/dialect.js';
import type { DatabaseHandle } from '../db/registry.js';

/** cell0's fixed identity (Nova's `CellMapping.CELL0_UUID`). */
export const CELL0_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * A row of `cell_mappings`: how to reach one cell. Both URLs may hold passwords. The one definition
 * of a cell mapping: `MappingStore` reads and writes it, every cell-wide operation takes it, and the
 * versioned object `CellMapping` (`src/objects/mappings.ts`) is built from it, its fields named by
 * {@link CELL_MAPPING_COLUMNS}.
 */
export interface CellMappingRow {
  readonly id: number;
  readonly uuid: string;
  readonly name: string | null;
  readonly transportUrl: string;
  readonly databaseConnection: string;
  readonly disabled: boolean;
}

/** A row of `host_mappings`: which cell a compute host belongs to. */
export interface HostMappingRow {
  readonly id: number;
  readonly host: string;
  readonly cellId: number;
}

/** A row of `instance_mappings`: which cell an instance lives in (none while it is being scheduled). */
export interface InstanceMappingRow {
  readonly id: number;
  readonly instanceUuid: string;
  readonly cellId: number | null;
  readonly projectId: string;
}

/** Each field's column: the SQL's names, and the versioned objects' field names (Nova's). */
export const CELL_MAPPING_COLUMNS = {
  id: 'id',
  uuid: 'uuid',
  name: 'name',
  transportUrl: 'transport_url',
  databaseConnection: 'database_connection',
  disabled: 'disabled',
} as const satisfies Record<keyof CellMappingRow, string>;
export const HOST_MAPPING_COLUMNS = { id: 'id', host: 'host', cellId: 'cell_id' } as const satisfies Record<keyof HostMappingRow, string>;
export const INSTANCE_MAPPING_COLUMNS = { id: 'id', instanceUuid: 'instance_uuid', cellId: 'cell_id', projectId: 'project_id' } as const satisfies Record<keyof InstanceMappingRow, string>;

/** A row's values under its column names (mutable: the versioned objects' field types). */
export type ByColumn<Row, Columns extends Record<keyof Row, string>> = { -readonly [K in keyof Row as Columns[K]]: Row[K] };

/** A row's values under its column names. */
export function toColumns<Row extends object, Columns extends Record<keyof Row, string>>(row: Row, columns: Columns): ByColumn<Row, Columns> {
  return Object.fromEntries((Object.keys(columns) as Array<keyof Row>).map((field) => [columns[field], row[field]])) as ByColumn<Row, Columns>;
}

/** The fields of a row from values under its column names (those present). */
export function fromColumns<Row extends object, Columns extends Record<keyof Row, string>>(values: Readonly<Record<string, unknown>>, columns: Columns): Partial<Row> {
  return Object.fromEntries((Object.keys(columns) as Array<keyof Row>).filter((field) => columns[field] in values).map((field) => [field, values[columns[field]]])) as Partial<Row>;
}

/** How a cell is named in messages: its name, else its uuid. */
export const cellLabel = (cell: Pick<CellMappingRow, 'name' | 'uuid'>): string => cell.name ?? cell.uuid;

interface CellColumns {
  id: number | string;
  uuid: string;
  name: string | null;
  transport_url: string;
  database_connection: string;
  disabled: boolean | number;
}
interface HostColumns {
  id: number | string;
  host: string;
  cell_id: number | string;
}
interface InstanceColumns {
  id: number | string;
  instance_uuid: string;
  cell_id: number | string | null;
  project_id: string;
}

// Drivers may return ids as strings (bigint) and MariaDB's booleans as 0/1.
const toCell = (r: CellColumns): CellMappingRow => ({
  id: Number(r.id),
  uuid: r.uuid,
  name: r.name,
  transportUrl: r.transport_url,
  databaseConnection: r.database_connection,
  disabled: Boolean(Number(r.disabled)),
});
const toHost = (r: HostColumns): HostMappingRow => ({ id: Number(r.id), host: r.host, cellId: Number(r.cell_id) });
const toInstance = (r: InstanceColumns): InstanceMappingRow => ({
  id: Number(r.id),
  instanceUuid: r.instance_uuid,
  cellId: r.cell_id === null ? null : Number(r.cell_id),
  projectId: r.project_id,
});

const CELL_SELECT = `SELECT ${Object.values(CELL_MAPPING_COLUMNS).join(', ')} FROM cell_mappings`;
const HOST_SELECT = `SELECT ${Object.values(HOST_MAPPING_COLUMNS).join(', ')} FROM host_mappings`;
const INSTANCE_SELECT = `SELECT ${Object.values(INSTANCE_MAPPING_COLUMNS).join(', ')} FROM instance_mappings`;

/**
 * Reads and writes the mapping tables of the API database (cell, host and instance mappings): the
 * only SQL on them. Every cell_v2 command and the fan-out over cells go through here. Driver errors
 * come out translated, naming the database (URL masked).
 */
export class MappingStore {
  constructor(private readonly api: DatabaseHandle<DialectSql>) {}

  private select<Row extends object>(sql: string, replacements: Record<string, unknown> = {}): Promise<Row[]> {
    return this.api.run((s) => s.query<Row>(sql, { replacements, type: QueryTypes.SELECT }));
  }

  /** Every cell, cell0 first, then by name (then uuid). */
  async listCells(): Promise<CellMappingRow[]> {
    const rows = await this.select<CellColumns>(CELL_SELECT);
    return rows.map(toCell).sort((a, b) => {
      if (a.uuid === CELL0_UUID) return -1;
      if (b.uuid === CELL0_UUID) return 1;
      const an = a.name ?? '';
      const bn = b.name ?? '';
      // Code-point order: the same on every machine, whatever its locale.
      return an < bn ? -1 : an > bn ? 1 : a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
    });
  }

  async getCell(uuid: string): Promise<CellMappingRow | undefined> {
    const rows = await this.select<CellColumns>(`${CELL_SELECT} WHERE uuid = :uuid`, { uuid });
    return rows[0] ? toCell(rows[0]) : undefined;
  }

  async getCellById(id: number): Promise<CellMappingRow | undefined> {
    const rows = await this.select<CellColumns>(`${CELL_SELECT} WHERE id = :id`, { id });
    return rows[0] ? toCell(rows[0]) : undefined;
  }

  async createCell(cell: Omit<CellMappingRow, 'id' | 'uuid'> & { uuid?: string }): Promise<CellMappingRow> {
    const uuid = cell.uuid ?? randomUUID();
    const now = new Date();
    await this.api.run((s) =>
      s.query(
        `INSERT INTO cell_mappings (uuid, name, transport_url, database_connection, disabled, created_at, updated_at)
         VALUES (:uuid, :name, :transportUrl, :databaseConnection, :disabled, :now, :now)`,
        { replacements: { uuid, name: cell.name, transportUrl: cell.transportUrl, databaseConnection: cell.databaseConnection, disabled: cell.disabled, now } },
      ),
    );
    const created = await this.getCell(uuid);
    if (!created) throw new Error(`cell ${uuid} vanished right after it was created`);
    return created;
  }

  /** Writes the fields given (and `updated_at`); the others stay as they are. */
  async updateCell(uuid: string, changes: Partial<Pick<CellMappingRow, 'name' | 'transportUrl' | 'databaseConnection' | 'disabled'>>): Promise<void> {
    const sets: string[] = [];
    const replacements: Record<string, unknown> = { uuid, now: new Date() };
    for (const key of ['name', 'transportUrl', 'databaseConnection', 'disabled'] as const) {
      if (changes[key] !== undefined) {
        sets.push(`${CELL_MAPPING_COLUMNS[key]} = :${key}`);
        replacements[key] = changes[key];
      }
    }
    if (sets.length === 0) return;
    await this.api.run((s) => s.query(`UPDATE cell_mappings SET ${sets.join(', ')}, updated_at = :now WHERE uuid = :uuid`, { replacements }));
  }

  /** Deletes a cell's mapping with its instance and host mappings, in one transaction. */
  async deleteCellAndItsMappings(cellId: number): Promise<void> {
    const replacements = { id: cellId };
    await this.api.run((s) =>
      s.transaction(async (transaction) => {
        await s.query('DELETE FROM instance_mappings WHERE cell_id = :id', { replacements, transaction });
        await s.query('DELETE FROM host_mappings WHERE cell_id = :id', { replacements, transaction });
        await s.query('DELETE FROM cell_mappings WHERE id = :id', { replacements, transaction });
      }),
    );
  }

  /** Host mappings, of one cell or of all, by host. */
  async hostMappings(cellId?: number): Promise<HostMappingRow[]> {
    const rows = await this.select<HostColumns>(`${HOST_SELECT}${cellId === undefined ? '' : ' WHERE cell_id = :cellId'} ORDER BY host`, { cellId });
    return rows.map(toHost);
  }

  /** The hosts among `hosts` that already have a mapping (to any cell). */
  async mappedHosts(hosts: readonly string[]): Promise<Set<string>> {
    if (hosts.length === 0) return new Set();
    const rows = await this.select<{ host: string }>('SELECT host FROM host_mappings WHERE host IN (:hosts)', { hosts });
    return new Set(rows.map((r) => r.host));
  }

  /**
   * Maps `host` to the cell, unless it is mapped already (to any cell): whether this call mapped it.
   * Safe to run twice at once: the unique host mapping decides, and the loser gets false, not an error.
   */
  async mapHost(cellId: number, host: string): Promise<boolean> {
    const inserted = await this.api.run(async (s) => {
      const [result, metadata] = await s.query(
        this.api.dialect.insertSkippingDuplicates('host_mappings', ['cell_id', 'host', 'created_at', 'updated_at'], '(:cellId, :host, :now, :now)', 'host'),
        { replacements: { cellId, host, now: new Date() } },
      );
      return this.api.dialect.affectedRows(result, metadata);
    });
    return inserted > 0;
  }

  async instanceMappingsOfCell(cellId: number): Promise<InstanceMappingRow[]> {
    return (await this.select<InstanceColumns>(`${INSTANCE_SELECT} WHERE cell_id = :cellId`, { cellId })).map(toInstance);
  }

  async instanceMapping(instanceUuid: string): Promise<InstanceMappingRow | undefined> {
    const rows = await this.select<InstanceColumns>(`${INSTANCE_SELECT} WHERE instance_uuid = :instanceUuid`, { instanceUuid });
    return rows[0] ? toInstance(rows[0]) : undefined;
  }
}
