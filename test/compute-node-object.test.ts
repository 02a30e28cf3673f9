// The ComputeNode object on a real cell database at cell schema 0003 (host expanded, service_id
// nullable, the mover not run yet), on both dialects (spec detach-service-from-computenode;
// DOMAIN.md §3): a legacy row (host NULL, service_id set) reads with its host resolved from its
// service and is not written by the read; save() migrates it (host filled, service_id NULL) and
// writes only the changed fields; lookups by host find migrated and legacy nodes alike; and
// list({withService}) joins each node's compute service on host.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import type { CellMappingRow } from '../src/cells/mappings.js';
import { targetCell } from '../src/cells/targeting.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { type CellContext, ComputeNode } from '../src/objects/index.js';
import { ServiceGroupApi } from '../src/servicegroup/api.js';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import { eachDialectLimited, expectSuccess, insertRows, query, runInProcess } from './helpers/cells.js';
import { useDatabase } from './helpers/databases.js';
import { exec } from './helpers/movers.js';

/** When every planted row was created and last updated: long ago, so that a write shows. */
const PLANTED = new Date(Date.UTC(2020, 0, 1, 0, 0, 0));
const ORPHAN_SERVICE_ID = 1_999_999_999;

interface Planted {
  readonly ctx: CellContext;
  readonly url: DatabaseUrl;
  /** Service ids by name. */
  readonly services: { computeA: number; computeB: number; conductorA: number; gone: number };
  /** Node ids by name. */
  readonly nodes: { legacyA: number; migratedA: number; legacyB: number; legacyGone: number; deletedA: number; orphan: number };
}

interface NodeRow {
  id: number | string;
  service_id: number | string | null;
  host: string | null;
  hypervisor_hostname: string | null;
  vcpus: number | string | null;
  memory_mb: number | string | null;
  local_gb: number | string | null;
  vcpus_used: number | string | null;
  memory_mb_used: number | string | null;
  local_gb_used: number | string | null;
  hypervisor_type: string | null;
  cpu_info: string | null;
  created_at: Date | string | null;
  updated_at: Date | string | null;
  deleted: number | string;
}

/** Every compute_nodes row, normalised (numbers as numbers, dates as ISO strings), by id. */
async function nodeRows(url: DatabaseUrl): Promise<Record<number, Record<string, unknown>>> {
  const rows = await query<NodeRow>(url, 'SELECT * FROM compute_nodes ORDER BY id');
  const DATES = new Set(['created_at', 'updated_at', 'deleted_at']);
  const norm = (column: string, v: unknown): unknown => {
    if (v === null) return null;
    if (DATES.has(column)) return new Date(v as string).toISOString();
    return typeof v === 'string' && /^-?\d+$/.test(v) && column !== 'cpu_info' ? Number(v) : v;
  };
  return Object.fromEntries(rows.map((r) => [Number(r.id), Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(k, v)]))]));
}

async function nodeRow(url: DatabaseUrl, id: number): Promise<Record<string, unknown>> {
  const row = (await nodeRows(url))[id];
  if (!row) throw new Error(`no compute node ${id}`);
  return row;
}

async function idOf(url: DatabaseUrl, table: string, where: string, replacements: Record<string, unknown>): Promise<number> {
  const [row] = await query<{ id: number | string }>(url, `SELECT id FROM ${table} WHERE ${where}`, replacements);
  if (!row) throw new Error(`no row in ${table} where ${where}`);
  return Number(row.id);
}

/**
 * A cell database synced to cell schema 0003 with the CLI, planted with:
 * services compute-a (nova-compute and nova-conductor), compute-b, and compute-gone (soft-deleted);
 * nodes: a legacy node of compute-a, a migrated node of compute-a, a soft-deleted node of compute-a,
 * a legacy node of compute-b, a legacy node of the soft-deleted service, and an orphan whose service
 * row is gone. The context's connections close before the database is dropped.
 */
async function usePlantedCell(t: ExecutionContext<unknown>, dialect: Dialect): Promise<Planted> {
  const url = await useDatabase(t, dialect, 'cn');
  expectSuccess('db sync 3 --local-cell', await runInProcess(['db', 'sync', '3', '--local-cell', '--db', url.raw]));

  const service = (host: string, binary: string, topic: string) => ({ host, binary, topic, report_count: 0, disabled: false, forced_down: false, version: 0, created_at: PLANTED, updated_at: PLANTED, deleted: 0 });
  await insertRows(url, 'services', [
    service('compute-a', 'nova-compute', 'compute'),
    service('compute-a', 'nova-conductor', 'conductor'),
    service('compute-b', 'nova-compute', 'compute'),
    service('compute-gone', 'nova-compute', 'compute'),
  ]);
  const sid = (host: string, binary: string) => idOf(url, 'services', `host = :host AND ${dialect === 'mysql' ? '`binary`' : '"binary"'} = :binary`, { host, binary });
  const services = { computeA: await sid('compute-a', 'nova-compute'), conductorA: await sid('compute-a', 'nova-conductor'), computeB: await sid('compute-b', 'nova-compute'), gone: await sid('compute-gone', 'nova-compute') };
  await exec(url, 'UPDATE services SET deleted = id, deleted_at = :now WHERE id = :id', { id: services.gone, now: PLANTED });

  const node = (hh: string, serviceId: number | null, host: string | null) => ({
    service_id: serviceId,
    host,
    hypervisor_hostname: hh,
    vcpus: 16,
    memory_mb: 65536,
    local_gb: 1000,
    vcpus_used: 1,
    memory_mb_used: 2048,
    local_gb_used: 10,
    hypervisor_type: 'QEMU',
    cpu_info: '{"arch": "x86_64"}',
    created_at: PLANTED,
    updated_at: PLANTED,
    deleted: 0,
  });
  await insertRows(url, 'compute_nodes', [
    node('a1.example.org', services.computeA, null),
    node('a2.example.org', null, 'compute-a'),
    node('a3.example.org', null, 'compute-a'),
    node('b1.example.org', services.computeB, null),
    node('gone1.example.org', services.gone, null),
    node('orphan1.example.org', ORPHAN_SERVICE_ID, null),
  ]);
  const nid = (hh: string) => idOf(url, 'compute_nodes', 'hypervisor_hostname = :hh', { hh });
  const nodes = {
    legacyA: await nid('a1.example.org'),
    migratedA: await nid('a2.example.org'),
    deletedA: await nid('a3.example.org'),
    legacyB: await nid('b1.example.org'),
    legacyGone: await nid('gone1.example.org'),
    orphan: await nid('orphan1.example.org'),
  };
  await exec(url, 'UPDATE compute_nodes SET deleted = id, deleted_at = :now WHERE id = :id', { id: nodes.deletedA, now: PLANTED });

  const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs: 60_000 });
  // Registered after the database: teardowns run last-in, first-out, so the pools close before the drop.
  t.teardown(() => registry.close());
  const cell: CellMappingRow = { id: 1, uuid: randomUUID(), name: 'cell1', transportUrl: 'none:///', databaseConnection: url.raw, disabled: false };
  const serviceGroup = await ServiceGroupApi.open({ registry });
  t.teardown(() => serviceGroup.close());
  return { ctx: { cell, db: targetCell(registry, cell), serviceGroup }, url, services, nodes };
}

const fail = (what: string): never => {
  throw new Error(what);
};

eachDialectLimited(test, 'reading a legacy compute node resolves its host from its service without writing the row', async (t, dialect) => {
  const { ctx, url, services, nodes } = await usePlantedCell(t, dialect);
  const before = await nodeRows(url);

  const legacy = (await ComputeNode.getById(ctx, nodes.legacyA)) ?? fail('legacy node not found');
  t.is(legacy.get('host'), 'compute-a', 'host resolved from the nova-compute service');
  t.is(legacy.get('service_id'), services.computeA, 'the deprecated service_id is still what the row says');
  t.deepEqual(legacy.changes(), [], 'the resolved host is not a change to save');
  t.is(legacy.get('hypervisor_hostname'), 'a1.example.org');
  t.is(legacy.get('vcpus'), 16);

  const ofGone = (await ComputeNode.getById(ctx, nodes.legacyGone)) ?? fail('node of the soft-deleted service not found');
  t.is(ofGone.get('host'), 'compute-gone', 'a soft-deleted service still names the host');
  const orphan = (await ComputeNode.getById(ctx, nodes.orphan)) ?? fail('orphan not found');
  t.is(orphan.get('host'), null, 'a node whose service row is gone has no host to resolve');
  t.is(orphan.get('service_id'), ORPHAN_SERVICE_ID);
  const migrated = (await ComputeNode.getById(ctx, nodes.migratedA)) ?? fail('migrated node not found');
  t.is(migrated.get('host'), 'compute-a');
  t.is(migrated.get('service_id'), null);
  t.is(await ComputeNode.getById(ctx, nodes.deletedA), undefined, 'a soft-deleted node is not read');

  const all = await ComputeNode.list(ctx);
  t.deepEqual(
    all.map((n) => [n.get('id'), n.get('host')]),
    [
      [nodes.legacyA, 'compute-a'],
      [nodes.migratedA, 'compute-a'],
      [nodes.legacyB, 'compute-b'],
      [nodes.legacyGone, 'compute-gone'],
      [nodes.orphan, null],
    ],
  );
  await ComputeNode.listByHost(ctx, 'compute-a');
  await ComputeNode.getByHostAndNodename(ctx, 'compute-b', 'b1.example.org');

  t.deepEqual(await nodeRows(url), before, 'no read wrote anything: legacy rows still have host NULL and their service_id');
  t.is((await nodeRow(url, nodes.legacyA)).host, null);
  t.is((await nodeRow(url, nodes.legacyA)).service_id, services.computeA);

  // A legacy node backported for a 1.0 peer sends its own service_id, and no host.
  const v10 = legacy.toPrimitive('1.0');
  t.is(v10.data.service_id, services.computeA);
  t.false('host' in v10.data);
});

eachDialectLimited(test, 'save() migrates a legacy node (host from its service, service_id NULL) and writes only the changed fields', async (t, dialect) => {
  const { ctx, url, services, nodes } = await usePlantedCell(t, dialect);

  // Legacy node, one field changed; meanwhile another writer changes another column of the row.
  const legacy = (await ComputeNode.getById(ctx, nodes.legacyA)) ?? fail('legacy node not found');
  legacy.set('vcpus_used', 3);
  await exec(url, 'UPDATE compute_nodes SET memory_mb_used = 7777, cpu_info = :cpu WHERE id = :id', { id: nodes.legacyA, cpu: 'changed elsewhere' });
  const untouchedBefore = await nodeRow(url, nodes.legacyB);
  await legacy.save(ctx);

  const row = await nodeRow(url, nodes.legacyA);
  t.is(row.host, 'compute-a', 'host filled from the service');
  t.is(row.service_id, null, 'service_id cleared in the same write');
  t.is(row.vcpus_used, 3, 'the changed field is written');
  t.is(row.memory_mb_used, 7777, 'an unchanged field is not written back (the other writer’s value stays)');
  t.is(row.cpu_info, 'changed elsewhere');
  t.is(row.vcpus, 16);
  t.is(row.hypervisor_hostname, 'a1.example.org');
  t.not(row.updated_at, PLANTED.toISOString(), 'updated_at moves on a write');
  t.is(row.created_at, PLANTED.toISOString());
  t.deepEqual(await nodeRow(url, nodes.legacyB), untouchedBefore, 'no other row is written');
  t.deepEqual(legacy.changes(), []);
  t.is(legacy.get('host'), 'compute-a');
  t.is(legacy.get('service_id'), null);

  // Read back: a migrated node now.
  const reread = (await ComputeNode.getById(ctx, nodes.legacyA)) ?? fail('node gone after save');
  t.is(reread.get('host'), 'compute-a');
  t.is(reread.get('service_id'), null);
  t.is(reread.get('vcpus_used'), 3);

  // A legacy node saved with nothing changed is still migrated, and nothing else is written.
  const legacyB = (await ComputeNode.getById(ctx, nodes.legacyB)) ?? fail('compute-b node not found');
  const beforeB = await nodeRow(url, nodes.legacyB);
  await legacyB.save(ctx);
  const rowB = await nodeRow(url, nodes.legacyB);
  t.deepEqual(
    { ...rowB, updated_at: null },
    { ...beforeB, host: 'compute-b', service_id: null, updated_at: null },
    'only host, service_id and updated_at change',
  );

  // A migrated node: only the changed field, and no migration columns.
  const migrated = (await ComputeNode.getById(ctx, nodes.migratedA)) ?? fail('migrated node not found');
  migrated.set('local_gb_used', 99);
  await exec(url, 'UPDATE compute_nodes SET vcpus_used = 12, hypervisor_type = :ht WHERE id = :id', { id: nodes.migratedA, ht: 'ironic' });
  const beforeMigrated = await nodeRow(url, nodes.migratedA);
  await migrated.save(ctx);
  const afterMigrated = await nodeRow(url, nodes.migratedA);
  t.deepEqual({ ...afterMigrated, updated_at: null }, { ...beforeMigrated, local_gb_used: 99, updated_at: null }, 'only local_gb_used (and updated_at) written');
  t.not(afterMigrated.updated_at, beforeMigrated.updated_at);

  // Nothing changed, nothing written: not even updated_at.
  await migrated.save(ctx);
  t.deepEqual(await nodeRow(url, nodes.migratedA), afterMigrated, 'a save without changes writes nothing');

  // A node whose service row is gone cannot be migrated: its change is written, it stays legacy
  // (host NULL, service_id kept) for the mover to report as blocked.
  const orphan = (await ComputeNode.getById(ctx, nodes.orphan)) ?? fail('orphan not found');
  orphan.set('vcpus_used', 8);
  await orphan.save(ctx);
  const orphanRow = await nodeRow(url, nodes.orphan);
  t.is(orphanRow.vcpus_used, 8);
  t.is(orphanRow.host, null);
  t.is(orphanRow.service_id, ORPHAN_SERVICE_ID);
});

eachDialectLimited(test, 'getByHostAndNodename and listByHost find migrated and legacy nodes alike', async (t, dialect) => {
  const { ctx, url, services, nodes } = await usePlantedCell(t, dialect);
  const before = await nodeRows(url);

  const ofA = await ComputeNode.listByHost(ctx, 'compute-a');
  t.deepEqual(
    ofA.map((n) => ({ id: n.get('id'), host: n.get('host'), hh: n.get('hypervisor_hostname') })),
    [
      { id: nodes.legacyA, host: 'compute-a', hh: 'a1.example.org' },
      { id: nodes.migratedA, host: 'compute-a', hh: 'a2.example.org' },
    ],
    'the legacy node (through its service) and the migrated one (by host); not the soft-deleted one',
  );
  t.deepEqual(
    (await ComputeNode.listByHost(ctx, 'compute-b')).map((n) => n.get('id')),
    [nodes.legacyB],
  );
  t.deepEqual(await ComputeNode.listByHost(ctx, 'compute-nowhere'), []);

  const legacy = await ComputeNode.getByHostAndNodename(ctx, 'compute-a', 'a1.example.org');
  t.is(legacy?.get('id'), nodes.legacyA, 'a legacy node is found by host and nodename');
  t.is(legacy?.get('service_id'), services.computeA);
  t.is(legacy?.get('host'), 'compute-a');
  const migrated = await ComputeNode.getByHostAndNodename(ctx, 'compute-a', 'a2.example.org');
  t.is(migrated?.get('id'), nodes.migratedA, 'a migrated node is found by host and nodename');
  t.is(await ComputeNode.getByHostAndNodename(ctx, 'compute-b', 'a1.example.org'), undefined, 'the nodename of another host is not found');
  t.is(await ComputeNode.getByHostAndNodename(ctx, 'compute-a', 'a3.example.org'), undefined, 'a soft-deleted node is not found');
  t.deepEqual(await nodeRows(url), before, 'lookups write nothing');

  // Once saved (migrated), the same lookups still find it, now by host.
  await ((await ComputeNode.getByHostAndNodename(ctx, 'compute-a', 'a1.example.org')) ?? fail('not found')).save(ctx);
  t.is((await nodeRow(url, nodes.legacyA)).service_id, null);
  t.deepEqual(
    (await ComputeNode.listByHost(ctx, 'compute-a')).map((n) => n.get('id')),
    [nodes.legacyA, nodes.migratedA],
  );
  t.is((await ComputeNode.getByHostAndNodename(ctx, 'compute-a', 'a1.example.org'))?.get('id'), nodes.legacyA);
});

eachDialectLimited(test, 'list({withService: true}) joins each node’s compute service on host; without it, no service', async (t, dialect) => {
  const { ctx, url, services, nodes } = await usePlantedCell(t, dialect);
  const before = await nodeRows(url);

  const plain = await ComputeNode.list(ctx);
  t.true(plain.every((n) => n.service === undefined), 'the service is joined only when asked');

  const joined = await ComputeNode.list(ctx, { withService: true });
  const serviceOf = Object.fromEntries(joined.map((n) => [n.get('id'), n.service ? { id: n.service.id, host: n.service.host, binary: n.service.binary } : null]));
  t.deepEqual(serviceOf, {
    [nodes.legacyA]: { id: services.computeA, host: 'compute-a', binary: 'nova-compute' },
    // Joined on host: the migrated node has no service_id, and still gets its service.
    [nodes.migratedA]: { id: services.computeA, host: 'compute-a', binary: 'nova-compute' },
    [nodes.legacyB]: { id: services.computeB, host: 'compute-b', binary: 'nova-compute' },
    // A soft-deleted service is no node's live service; an orphan has none.
    [nodes.legacyGone]: null,
    [nodes.orphan]: null,
  });
  const migrated = joined.find((n) => n.get('id') === nodes.migratedA) ?? fail('migrated node missing');
  t.is(typeof migrated.service?.up, 'boolean', 'the joined service carries its liveness from the service-group API');
  t.is(migrated.service?.cell.name, 'cell1');
  t.is(services.conductorA === migrated.service?.id, false, 'never the conductor on the same host');

  // Backported for a 1.0 peer, a migrated node sends its joined service's id; without it, -1.
  t.is(migrated.toPrimitive('1.0').data.service_id, services.computeA);
  const plainMigrated = plain.find((n) => n.get('id') === nodes.migratedA) ?? fail('migrated node missing');
  t.is(plainMigrated.toPrimitive('1.0').data.service_id, -1);

  t.deepEqual(await nodeRows(url), before, 'listing writes nothing');
});
