import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mysql from 'mysql2';
import type { SessionConnection } from '../src/db/dialect.js';
import type { DatabaseUrl } from '../src/url/index.js';
import { type BenchDialect, LEGACY_TABLES, type ReferenceDriver, type ReferenceResult, referenceInstanceGroups, serially, since } from './dialect.js';

const TS = "'2020-01-01 00:00:00'";

function connection(url: DatabaseUrl): mysql.Connection {
  const c = mysql.createConnection({
    host: url.host,
    port: url.port,
    database: url.database,
    user: url.username ?? 'root',
    password: url.password,
    // Timestamps travel as the server prints them: LOAD DATA reads them back unchanged.
    dateStrings: true,
    ...(url.socketPath ? { socketPath: url.socketPath } : {}),
  });
  c.on('error', () => undefined);
  return c;
}

function run<T = unknown>(c: mysql.Connection, options: mysql.QueryOptions): Promise<T> {
  return new Promise((resolve, reject) => c.query(options, (error, result) => (error ? reject(error) : resolve(result as T))));
}

async function connected<T>(urls: readonly DatabaseUrl[], work: (connections: mysql.Connection[]) => Promise<T>): Promise<T> {
  const connections = urls.map(connection);
  try {
    await Promise.all(connections.map((c) => new Promise<void>((resolve, reject) => c.connect((e) => (e ? reject(e) : resolve())))));
    return await work(connections);
  } finally {
    await Promise.allSettled(connections.map((c) => new Promise<void>((resolve) => c.end(() => resolve()))));
  }
}

/** One field in LOAD DATA's default format (tab-separated, backslash escapes, \N for NULL). */
function field(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  return String(value).replace(/[\\\t\n\r\0]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' })[ch] as string);
}

/** A SELECT streamed from one server into `LOAD DATA LOCAL INFILE` on another. */
async function loadRows(source: mysql.Connection, target: mysql.Connection, select: string, table: string, columns: readonly string[]): Promise<number> {
  const rows = source.query({ sql: select, rowsAsArray: true }).stream({ highWaterMark: 2048 });
  const tsv = new Transform({
    writableObjectMode: true,
    transform(row: unknown[], _encoding, done) {
      done(null, `${row.map(field).join('\t')}\n`);
    },
  });
  const feeding = pipeline(rows, tsv);
  const loading = run<{ affectedRows: number }>(target, {
    sql: `LOAD DATA LOCAL INFILE 'cellsdb-bench' INTO TABLE ${table} CHARACTER SET utf8mb4 (${columns.join(', ')})`,
    infileStreamFactory: () => tsv,
  });
  const [, result] = await Promise.all([feeding, loading]);
  return result.affectedRows;
}

/**
 * MariaDB: generation from the SEQUENCE engine (seq_0_to_N), copies by SHOW CREATE TABLE +
 * INSERT … SELECT (MariaDB has no template databases, and CREATE TABLE … LIKE drops foreign keys),
 * LOAD DATA LOCAL INFILE fed from a SELECT stream as the reference.
 */
const REFERENCE_DRIVER: ReferenceDriver<mysql.Connection> = {
  connected,
  copy: loadRows,
  maxGroupId: async (api) => Number((await run<Array<{ m: number | string }>>(api, { sql: 'SELECT COALESCE(MAX(id), 0) AS m FROM instance_groups' }))[0]?.m ?? 0),
  async liveGroupRange(cell) {
    const [range] = await run<Array<{ lo: number | null; hi: number | null }>>(cell, { sql: 'SELECT MIN(id) AS lo, MAX(id) AS hi FROM instance_groups WHERE deleted = 0' });
    return range?.lo == null || range.hi == null ? undefined : { lo: Number(range.lo), hi: Number(range.hi) };
  },
  // Explicit ids move InnoDB's AUTO_INCREMENT past them.
  reserveGroupIds: async () => undefined,
  softDelete: async (cell, table) => (await run<{ affectedRows: number }>(cell, { sql: `UPDATE ${table} SET deleted = id, deleted_at = UTC_TIMESTAMP() WHERE deleted = 0` })).affectedRows,
};

export const mariadbBench: BenchDialect = {
  name: 'mysql',
  label: 'MariaDB',

  async serverVersion(admin) {
    const [row] = await admin.query<{ v: string }>('SELECT VERSION() AS v');
    return row?.v ?? 'unknown';
  },

  async generateCell(db, sizes, hostPrefix) {
    const q = (sql: string) => db.sequelize.query(sql);
    await q(`INSERT INTO instance_groups (user_id, project_id, uuid, name, created_at, updated_at, deleted)
             SELECT CONCAT('user-', seq % 97), CONCAT('project-', seq % 31), UUID(), CONCAT('group-', seq), ${TS}, ${TS}, 0
               FROM seq_0_to_${sizes.groups - 1}`);
    await q(`INSERT INTO instance_group_policy (policy, group_id, created_at, updated_at, deleted)
             SELECT ELT(1 + (p.seq - 1) % 4, 'anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'), g.id, ${TS}, ${TS}, 0
               FROM instance_groups g JOIN seq_1_to_${sizes.policiesPerGroup} p ORDER BY g.id, p.seq`);
    await q(`INSERT INTO instance_group_member (instance_id, group_id, created_at, updated_at, deleted)
             SELECT UUID(), g.id, ${TS}, ${TS}, 0
               FROM instance_groups g JOIN seq_1_to_${sizes.membersPerGroup} m ORDER BY g.id, m.seq`);
    await q(`INSERT INTO services (host, \`binary\`, topic, report_count, created_at, updated_at, deleted)
             SELECT CONCAT('${hostPrefix}-', seq), 'nova-compute', 'compute', 0, ${TS}, ${TS}, 0 FROM seq_0_to_${sizes.computeNodes - 1}`);
    await q(`INSERT INTO compute_nodes (service_id, hypervisor_hostname, vcpus, memory_mb, local_gb, created_at, updated_at, deleted)
             SELECT id, CONCAT(host, '.example.org'), 16, 65536, 1000, ${TS}, ${TS}, 0 FROM services ORDER BY id`);
  },

  async analyze(db) {
    await db.sequelize.query(`ANALYZE TABLE ${LEGACY_TABLES.join(', ')}`);
  },

  async copyDatabase(admin: SessionConnection, _server, source, target) {
    await admin.query(`DROP DATABASE IF EXISTS \`${target}\``);
    await admin.query(`CREATE DATABASE \`${target}\``);
    const tables = await admin.query<{ t: string }>(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      [source],
    );
    // One session: FOREIGN_KEY_CHECKS is per session, and the tables come in name order, not FK order.
    await admin.query('SET FOREIGN_KEY_CHECKS = 0');
    try {
      for (const { t } of tables) {
        const [created] = await admin.query<Record<string, string>>(`SHOW CREATE TABLE \`${source}\`.\`${t}\``);
        const ddl = created?.['Create Table'];
        if (!ddl) throw new Error(`SHOW CREATE TABLE ${source}.${t} gave nothing`);
        await admin.query(`USE \`${target}\``);
        await admin.query(ddl);
        await admin.query(`INSERT INTO \`${target}\`.\`${t}\` SELECT * FROM \`${source}\`.\`${t}\``);
      }
      const analyzed = tables.map(({ t }) => `\`${target}\`.\`${t}\``).join(', ');
      if (analyzed) await admin.query(`ANALYZE TABLE ${analyzed}`);
    } finally {
      await admin.query('SET FOREIGN_KEY_CHECKS = 1');
    }
  },

  async settle() {
    // Nothing portable to flush on MariaDB; InnoDB flushes in the background.
  },

  referenceInstanceGroups: (api, cells) => referenceInstanceGroups(REFERENCE_DRIVER, api, cells),

  async referenceComputeNodes(cells): Promise<ReferenceResult> {
    const started = performance.now();
    let updated = 0;
    await connected(cells, (connections) =>
      serially(connections, async (c) => {
          const result = await run<{ affectedRows: number }>(c, {
            sql: `UPDATE compute_nodes cn JOIN services s ON s.id = cn.service_id SET cn.host = s.host, cn.service_id = NULL
                   WHERE cn.host IS NULL AND cn.service_id IS NOT NULL AND s.host IS NOT NULL`,
          });
          updated += result.affectedRows;
      }),
    );
    return { seconds: since(started), rows: { compute_nodes: updated }, steps: {} };
  },
};
