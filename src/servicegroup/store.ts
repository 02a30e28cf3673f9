import { QueryTypes } from 'sequelize';
import type { DialectSql } from '../db/dialect.js';
import type { DatabaseHandle } from '../db/registry.js';
import type { ServiceRecord } from './types.js';

interface Row {
  id: number;
  host: string | null;
  binary: string | null;
  topic: string | null;
  report_count: number | string;
  disabled: boolean | number | null;
  disabled_reason: string | null;
  last_seen_up: Date | string | null;
  forced_down: boolean | number | null;
  version: number | string | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));

const toRecord = (r: Row): ServiceRecord => ({
  id: Number(r.id),
  host: r.host,
  binary: r.binary,
  topic: r.topic,
  reportCount: Number(r.report_count ?? 0),
  disabled: Boolean(Number(r.disabled ?? 0)),
  disabledReason: r.disabled_reason,
  lastSeenUp: date(r.last_seen_up),
  forcedDown: Boolean(Number(r.forced_down ?? 0)),
  version: Number(r.version ?? 0),
  createdAt: date(r.created_at),
  updatedAt: date(r.updated_at),
});

/** Filters for listing services. */
export interface ServiceFilter {
  readonly host?: string | undefined;
  readonly binary?: string | undefined;
  readonly ids?: readonly number[] | undefined;
  /** Include soft-deleted rows. @default false */
  readonly withDeleted?: boolean | undefined;
}

/**
 * The only module that reads or writes a cell's `services` table (spec
 * servicegroup-api-control-plane: one path to service data). Everything else goes through the
 * service-group API built on it; test/services-access.test.ts enforces that.
 */
export class ServiceStore {
  private readonly binary: string;

  constructor(private readonly db: DatabaseHandle<DialectSql>) {
    this.binary = db.dialect.quoteIdentifier('binary');
  }

  private columns(): string {
    return `id, host, ${this.binary} AS ${this.binary}, topic, report_count, disabled, disabled_reason, last_seen_up, forced_down, version, created_at, updated_at`;
  }

  async list(filter: ServiceFilter = {}): Promise<ServiceRecord[]> {
    const where: string[] = [];
    if (!filter.withDeleted) where.push('deleted = 0');
    if (filter.host !== undefined) where.push('host = :host');
    if (filter.binary !== undefined) where.push(`${this.binary} = :binary`);
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return [];
      where.push('id IN (:ids)');
    }
    const rows = await this.db.run((s) =>
      s.query<Row>(`SELECT ${this.columns()} FROM services${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY host, ${this.binary}, id`, {
        replacements: { host: filter.host, binary: filter.binary, ids: filter.ids },
        type: QueryTypes.SELECT,
      }),
    );
    return rows.map(toRecord);
  }

  async get(host: string, binary: string): Promise<ServiceRecord | undefined> {
    return (await this.list({ host, binary }))[0];
  }

  /** Creates the live record for (host, binary) unless it exists; a lost race returns the winner's row. */
  async ensure(service: { host: string; binary: string; topic: string | null }, now: Date): Promise<ServiceRecord> {
    const existing = await this.get(service.host, service.binary);
    if (existing) return existing;
    try {
      await this.db.run((s) =>
        s.query(
          `INSERT INTO services (host, ${this.binary}, topic, report_count, disabled, forced_down, version, created_at, updated_at, deleted)
           VALUES (:host, :binary, :topic, 0, :no, :no, 0, :now, :now, 0)`,
          { replacements: { ...service, no: false, now } },
        ),
      );
    } catch (error) {
      const raced = await this.get(service.host, service.binary);
      if (raced) return raced;
      throw error;
    }
    return (await this.get(service.host, service.binary)) as ServiceRecord;
  }

  /** A database heartbeat: report_count + 1 and last_seen_up = now. Enabling or disabling never does this. */
  async recordHeartbeat(id: number, now: Date): Promise<void> {
    await this.db.run((s) => s.query('UPDATE services SET report_count = report_count + 1, last_seen_up = :now WHERE id = :id AND deleted = 0', { replacements: { id, now } }));
  }

  /** Updates the administrative fields of one live record (never report_count or last_seen_up). */
  async update(id: number, changes: { disabled?: boolean; disabledReason?: string | null; forcedDown?: boolean }, now: Date): Promise<void> {
    const sets: string[] = ['updated_at = :now'];
    if (changes.disabled !== undefined) sets.push('disabled = :disabled');
    if (changes.disabledReason !== undefined) sets.push('disabled_reason = :disabledReason');
    if (changes.forcedDown !== undefined) sets.push('forced_down = :forcedDown');
    await this.db.run((s) => s.query(`UPDATE services SET ${sets.join(', ')} WHERE id = :id AND deleted = 0`, { replacements: { id, now, ...changes } }));
  }

  /** Soft-deletes a record (deleted = id). */
  async softDelete(id: number, now: Date): Promise<void> {
    await this.db.run((s) => s.query('UPDATE services SET deleted = id, deleted_at = :now WHERE id = :id AND deleted = 0', { replacements: { id, now } }));
  }
}
