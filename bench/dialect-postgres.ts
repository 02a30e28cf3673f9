import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { DatabaseUrl } from '../src/url/index.js';
import { type BenchDialect, LEGACY_TABLES, type ReferenceDriver, type ReferenceResult, referenceInstanceGroups, serially, since } from './dialect.js';

const TS = "TIMESTAMPTZ '2020-01-01 00:00:00+00'";

function client(url: DatabaseUrl): pg.Client {
  const c = new pg.Client({
    host: url.socketPath ?? url.host,
    port: url.port,
    database: url.database,
    user: url.username ?? 'postgres',
    password: url.password,
    application_name: 'cellsdb-bench-reference',
  });
  c.on('error', () => undefined);
  return c;
}

async function connected<T>(urls: readonly DatabaseUrl[], work: (clients: pg.Client[]) => Promise<T>): Promise<T> {
  const clients = urls.map(client);
  try {
    await Promise.all(clients.map((c) => c.connect()));
    return await work(clients);
  } finally {
    await Promise.allSettled(clients.map((c) => c.end()));
  }
}

/** `COPY (select) TO STDOUT` on one server piped into `COPY table FROM STDIN` on another. */
async function copyRows(source: pg.Client, target: pg.Client, select: string, table: string, columns: readonly string[]): Promise<number> {
  const out = source.query(copyTo(`COPY (${select}) TO STDOUT`));
  const into = target.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(out, into);
  return into.rowCount;
}

/** PostgreSQL: generate_series generation, `CREATE DATABASE … TEMPLATE` copies, COPY as the reference. */
const REFERENCE_DRIVER: ReferenceDriver<pg.Client> = {
  connected,
  copy: copyRows,
  maxGroupId: async (api) => Number((await api.query<{ m: string }>('SELECT COALESCE(MAX(id), 0) AS m FROM instance_groups')).rows[0]?.m ?? 0),
  async liveGroupRange(cell) {
    const [range] = (await cell.query<{ lo: number | null; hi: number | null }>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM instance_groups WHERE deleted = 0')).rows;
    return range?.lo == null || range.hi == null ? undefined : { lo: Number(range.lo), hi: Number(range.hi) };
  },
  async reserveGroupIds(api, last) {
    await api.query("SELECT setval(pg_get_serial_sequence('instance_groups', 'id'), $1)", [last]);
  },
  softDelete: async (cell, table) => (await cell.query(`UPDATE ${table} SET deleted = id, deleted_at = now() WHERE deleted = 0`)).rowCount ?? 0,
};

export const postgresBench: BenchDialect = {
  name: 'postgres',
  label: 'PostgreSQL',

  async serverVersion(admin) {
    const [row] = await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return row?.v ?? 'unknown';
  },

  async generateCell(db, sizes, hostPrefix) {
    const q = (sql: string) => db.sequelize.query(sql);
    await q(`INSERT INTO instance_groups (user_id, project_id, uuid, name, created_at, updated_at, deleted)
             SELECT 'user-' || (i % 97), 'project-' || (i % 31), gen_random_uuid()::text, 'group-' || i, ${TS}, ${TS}, 0
               FROM generate_series(0, ${sizes.groups - 1}) AS i`);
    // Policies and members group by group, in id order, as seedLegacyCell writes them.
    await q(`INSERT INTO instance_group_policy (policy, group_id, created_at, updated_at, deleted)
             SELECT (ARRAY['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'])[1 + (p - 1) % 4], g.id, ${TS}, ${TS}, 0
               FROM instance_groups g CROSS JOIN generate_series(1, ${sizes.policiesPerGroup}) AS p ORDER BY g.id, p`);
    await q(`INSERT INTO instance_group_member (instance_id, group_id, created_at, updated_at, deleted)
             SELECT gen_random_uuid()::text, g.id, ${TS}, ${TS}, 0
               FROM instance_groups g CROSS JOIN generate_series(1, ${sizes.membersPerGroup}) AS m ORDER BY g.id, m`);
    await q(`INSERT INTO services (host, "binary", topic, report_count, created_at, updated_at, deleted)
             SELECT '${hostPrefix}-' || i, 'nova-compute', 'compute', 0, ${TS}, ${TS}, 0 FROM generate_series(0, ${sizes.computeNodes - 1}) AS i`);
    await q(`INSERT INTO compute_nodes (service_id, hypervisor_hostname, vcpus, memory_mb, local_gb, created_at, updated_at, deleted)
             SELECT id, host || '.example.org', 16, 65536, 1000, ${TS}, ${TS}, 0 FROM services ORDER BY id`);
  },

  async analyze(db) {
    await db.sequelize.query(`VACUUM (ANALYZE) ${LEGACY_TABLES.join(', ')}`);
  },

  async copyDatabase(admin, _server, source, target) {
    await admin.query(`DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${target}" TEMPLATE "${source}"`);
  },

  async settle(admin) {
    // Needs superuser (or pg_checkpoint); without it the next phase may pay for this one's writes.
    await admin.query('CHECKPOINT').catch(() => undefined);
  },

  referenceInstanceGroups: (api, cells) => referenceInstanceGroups(REFERENCE_DRIVER, api, cells),

  async referenceComputeNodes(cells): Promise<ReferenceResult> {
    const started = performance.now();
    let updated = 0;
    await connected(cells, (clients) =>
      serially(clients, async (c) => {
          const result = await c.query(
            `UPDATE compute_nodes cn SET host = s.host, service_id = NULL FROM services s
              WHERE s.id = cn.service_id AND cn.host IS NULL AND cn.service_id IS NOT NULL AND s.host IS NOT NULL`,
          );
          updated += result.rowCount ?? 0;
      }),
    );
    return { seconds: since(started), rows: { compute_nodes: updated }, steps: {} };
  },
};
