import { randomUUID } from 'node:crypto';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/** cell0's fixed identity (Nova's `CellMapping.CELL0_UUID`). */
export const CELL0_UUID = '00000000-0000-0000-0000-000000000000';

/** A row of `cell_mappings`: how to reach one cell. Both URLs may hold passwords. */
export interface CellMapping {
  readonly id: number;
  readonly uuid: string;
  readonly name: string | null;
  readonly transportUrl: string;
  readonly databaseConnection: string;
  readonly disabled: boolean;
}

export interface HostMapping {
  readonly id: number;
  readonly host: string;
  readonly cellId: number;
}

export interface InstanceMapping {
  readonly id: number;
  readonly instanceUuid: string;
  readonly cellId: number | null;
  readonly projectId: string;
}

/** How a cell is named in messages: its name, else its uuid. */
export const cellLabel = (cell: Pick<CellMapping, 'name' | 'uuid'>): string => cell.name ?? cell.uuid;

interface CellRow {
  id: number;
  uuid: string;
  name: string | null;
  transport_url: string;
  database_connection: string;
  disabled: boolean | number;
}

const toCell = (r: CellRow): CellMapping => ({
  id: Number(r.id),
  uuid: r.uuid,
  name: r.name,
  transportUrl: r.transport_url,
  databaseConnection: r.database_connection,
  disabled: Boolean(Number(r.disabled)),
});

const CELL_COLUMNS = 'id, uuid, name, transport_url, database_connection, disabled';

/**
 * Reads and writes the mapping tables of the API database. Every cell_v2 command and the fan-out
 * over cells go through here.
 */
export class MappingStore {
  constructor(private readonly sequelize: Sequelize) {}

  /** Every cell, cell0 first, then by name (then uuid). */
  async listCells(): Promise<CellMapping[]> {
    const rows = await this.sequelize.query<CellRow>(`SELECT ${CELL_COLUMNS} FROM cell_mappings`, { type: QueryTypes.SELECT });
    return rows.map(toCell).sort((a, b) => {
      if (a.uuid === CELL0_UUID) return -1;
      if (b.uuid === CELL0_UUID) return 1;
      const an = a.name ?? '';
      const bn = b.name ?? '';
      // Code-point order: the same on every machine, whatever its locale.
      return an < bn ? -1 : an > bn ? 1 : a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
    });
  }

  async getCell(uuid: string, transaction?: Transaction): Promise<CellMapping | undefined> {
    const rows = await this.sequelize.query<CellRow>(`SELECT ${CELL_COLUMNS} FROM cell_mappings WHERE uuid = :uuid`, {
      replacements: { uuid },
      type: QueryTypes.SELECT,
      transaction,
    });
    return rows[0] ? toCell(rows[0]) : undefined;
  }

  async getCellById(id: number): Promise<CellMapping | undefined> {
    const rows = await this.sequelize.query<CellRow>(`SELECT ${CELL_COLUMNS} FROM cell_mappings WHERE id = :id`, {
      replacements: { id },
      type: QueryTypes.SELECT,
    });
    return rows[0] ? toCell(rows[0]) : undefined;
  }

  async createCell(cell: Omit<CellMapping, 'id' | 'uuid'> & { uuid?: string }): Promise<CellMapping> {
    const uuid = cell.uuid ?? randomUUID();
    const now = new Date();
    await this.sequelize.query(
      `INSERT INTO cell_mappings (uuid, name, transport_url, database_connection, disabled, created_at, updated_at)
       VALUES (:uuid, :name, :transportUrl, :databaseConnection, :disabled, :now, :now)`,
      { replacements: { uuid, name: cell.name, transportUrl: cell.transportUrl, databaseConnection: cell.databaseConnection, disabled: cell.disabled, now } },
    );
    const created = await this.getCell(uuid);
    if (!created) throw new Error(`cell ${uuid} vanished right after it was created`);
    return created;
  }

  async updateCell(uuid: string, changes: Partial<Pick<CellMapping, 'name' | 'transportUrl' | 'databaseConnection' | 'disabled'>>): Promise<void> {
    const sets: string[] = [];
    const replacements: Record<string, unknown> = { uuid, now: new Date() };
    const columns = { name: 'name', transportUrl: 'transport_url', databaseConnection: 'database_connection', disabled: 'disabled' } as const;
    for (const [key, column] of Object.entries(columns) as Array<[keyof typeof columns, string]>) {
      if (changes[key] !== undefined) {
        sets.push(`${column} = :${key}`);
        replacements[key] = changes[key];
      }
    }
    if (sets.length === 0) return;
    await this.sequelize.query(`UPDATE cell_mappings SET ${sets.join(', ')}, updated_at = :now WHERE uuid = :uuid`, { replacements });
  }

  async deleteCell(id: number, transaction?: Transaction): Promise<void> {
    await this.sequelize.query('DELETE FROM cell_mappings WHERE id = :id', { replacements: { id }, transaction });
  }

  async hostMappings(cellId?: number): Promise<HostMapping[]> {
    const rows = await this.sequelize.query<{ id: number; host: string; cell_id: number }>(
      `SELECT id, host, cell_id FROM host_mappings${cellId === undefined ? '' : ' WHERE cell_id = :cellId'} ORDER BY host`,
      { replacements: { cellId }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ id: Number(r.id), host: r.host, cellId: Number(r.cell_id) }));
  }

  /** The hosts among `hosts` that already have a mapping (to any cell). */
  async mappedHosts(hosts: readonly string[]): Promise<Set<string>> {
    if (hosts.length === 0) return new Set();
    const rows = await this.sequelize.query<{ host: string }>('SELECT host FROM host_mappings WHERE host IN (:hosts)', {
      replacements: { hosts },
      type: QueryTypes.SELECT,
    });
    return new Set(rows.map((r) => r.host));
  }

  async instanceMappingsOfCell(cellId: number): Promise<InstanceMapping[]> {
    const rows = await this.sequelize.query<{ id: number; instance_uuid: string; cell_id: number | null; project_id: string }>(
      'SELECT id, instance_uuid, cell_id, project_id FROM instance_mappings WHERE cell_id = :cellId',
      { replacements: { cellId }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ id: Number(r.id), instanceUuid: r.instance_uuid, cellId: r.cell_id === null ? null : Number(r.cell_id), projectId: r.project_id }));
  }

  async instanceMapping(instanceUuid: string): Promise<InstanceMapping | undefined> {
    const rows = await this.sequelize.query<{ id: number; instance_uuid: string; cell_id: number | null; project_id: string }>(
      'SELECT id, instance_uuid, cell_id, project_id FROM instance_mappings WHERE instance_uuid = :instanceUuid',
      { replacements: { instanceUuid }, type: QueryTypes.SELECT },
    );
    const r = rows[0];
    return r ? { id: Number(r.id), instanceUuid: r.instance_uuid, cellId: r.cell_id === null ? null : Number(r.cell_id), projectId: r.project_id } : undefined;
  }
}
