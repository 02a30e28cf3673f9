import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { DatabaseUrl } from '../src/url.js';
import { type BenchDialect, LEGACY_TABLES, REFERENCE_COPIES, type ReferenceResult, SOFT_DELETED_TABLES, serially, since, step } from './dialect.js';

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

  async referenceInstanceGroups(api, cells): Promise<ReferenceResult> {
    const started = performance.now();
    const rows: Record<string, number> = {};
    const steps: Record<string, number> = {};
    await connected([api, ...cells], async ([apiAdmin, ...cellClients]) => {
      // New API ids, reserved up front: cell ids collide, and COPY cannot look up the id a group got.
      // Cell group id + offset is the API id; the sequence is moved past the whole block.
      const [top] = (await (apiAdmin as pg.Client).query<{ m: string }>('SELECT COALESCE(MAX(id), 0) AS m FROM instance_groups')).rows;
      let next = Number(top?.m ?? 0) + 1;
      const plans: Array<{ cell: pg.Client; offset: number }> = [];
      for (const cell of cellClients) {
        const [range] = (await cell.query<{ lo: number | null; hi: number | null }>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM instance_groups WHERE deleted = 0')).rows;
        if (range?.lo == null || range.hi == null) continue;
        const offset = next - range.lo;
        next = offset + range.hi + 1;
        plans.push({ cell, offset });
      }
      await (apiAdmin as pg.Client).query("SELECT setval(pg_get_serial_sequence('instance_groups', 'id'), $1)", [Math.max(1, next - 1)]);
      await serially(plans, ({ cell, offset }) =>
          connected([api], async ([target]) => {
            const to = target as pg.Client;
            const copied: Record<string, number> = {};
            for (const copy of REFERENCE_COPIES) {
              copied[copy.table] = await step(steps, `copy ${copy.table}`, () => copyRows(cell, to, copy.select(offset), copy.table, copy.columns));
            }
            let softDeleted = 0;
            for (const table of SOFT_DELETED_TABLES) {
              softDeleted += await step(steps, `soft-delete ${table}`, async () => (await cell.query(`UPDATE ${table} SET deleted = id, deleted_at = now() WHERE deleted = 0`)).rowCount ?? 0);
            }
                        for (const [table, n] of Object.entries(copied)) rows[table] = (rows[table] ?? 0) + n;
            rows.soft_deleted = (rows.soft_deleted ?? 0) + softDeleted;
          }),
      );
    });
    return { seconds: since(started), rows, steps };
  },

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
