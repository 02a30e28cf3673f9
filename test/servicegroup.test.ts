// The service-group API (spec servicegroup-api-control-plane; DOMAIN.md §5) on both dialects and
// both liveness drivers: up/down at the exact boundaries with an injected clock, the
// report_interval clamp, the created_at fallback, what a heartbeat moves and what an operator's
// change does not; with Redis, liveness comes from an expiring key while the record stays in the
// cell database. Then `cellsdb service …` as an operator runs it: list (table and JSON), disable
// with a reason, enable, force-down and --unset, delete, with either driver, and the exit codes.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { createClient } from 'redis';
import type { CellMappingRow } from '../src/cells/mappings.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { ServiceGroupApi, type ServiceGroupOptions } from '../src/servicegroup/api.js';
import type { ServiceState } from '../src/servicegroup/types.js';
import type { DatabaseUrl, Dialect } from '../src/url/index.js';
import type { CliResult } from './helpers/cli.js';
import { type Cell, type Cloud, describeResult, eachDialectLimited, expectSuccess, insertRows, query, runInProcess, useCell, useCloud } from './helpers/cells.js';
import { useDatabase } from './helpers/databases.js';
import { exec } from './helpers/movers.js';

// ---------------------------------------------------------------- Redis for the tests

const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/** CELLSDB_TEST_REDIS_URL when set (unreachable then fails the tests); else a local Redis if one answers at once. */
async function redisForTests(): Promise<string | undefined> {
  const configured = process.env.CELLSDB_TEST_REDIS_URL;
  if (configured) return configured;
  const client = createClient({ url: DEFAULT_REDIS, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return DEFAULT_REDIS;
  } catch {
    return undefined;
  } finally {
    await client.quit().catch(() => undefined);
  }
}

const REDIS_URL = await redisForTests();
const NO_REDIS = '(skipped: CELLSDB_TEST_REDIS_URL is not set and no Redis answers on 127.0.0.1:6379)';

type Driver = 'database' | 'redis';

/** The Redis keys of one cell's services (the driver's default prefix; cell uuids are unique per test). */
const keyPattern = (cell: Pick<CellMappingRow, 'uuid'>): string => `cellsdb:servicegroup:${cell.uuid}:*`;
const keyOf = (cell: Pick<CellMappingRow, 'uuid'>, serviceId: number): string => `cellsdb:servicegroup:${cell.uuid}:${serviceId}`;

/** A Redis client for checks, closed at the end of the test after deleting the cell's keys. */
async function useRedis(t: ExecutionContext<unknown>, cell: Pick<CellMappingRow, 'uuid'>) {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 5000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  t.teardown(async () => {
    const keys = await client.keys(keyPattern(cell));
    if (keys.length > 0) await client.del(keys);
    await client.quit();
  });
  return client;
}

/** Registers `fn` per driver and dialect; the Redis ones are skipped, saying so, when there is no Redis. */
function eachDriver(title: string, fn: (t: ExecutionContext<unknown>, dialect: Dialect, driver: Driver) => Promise<void>, drivers: readonly Driver[] = ['database', 'redis']): void {
  for (const driver of drivers) {
    if (driver === 'redis' && !REDIS_URL) test.skip(`redis: ${title} ${NO_REDIS}`, () => undefined);
    else eachDialectLimited(test, `${driver}: ${title}`, (t, dialect) => fn(t, dialect, driver));
  }
}

// ---------------------------------------------------------------- library: one cell database

/** A whole second (MariaDB's DATETIME keeps no fraction): every clock in these tests starts here. */
const T0 = Date.UTC(2031, 4, 6, 7, 8, 9);
const PLANTED = new Date(Date.UTC(2020, 0, 1));

interface ServiceCell {
  readonly cell: CellMappingRow;
  readonly url: DatabaseUrl;
  /** A service-group API on this cell; the clock is the test's own unless `now` is given. */
  open(options?: Partial<Omit<ServiceGroupOptions, 'registry'>>): Promise<ServiceGroupApi>;
}

/** A cell database at head (through the CLI), its mapping, and service-group APIs closed before the drop. */
async function useServiceCell(t: ExecutionContext<unknown>, dialect: Dialect): Promise<ServiceCell> {
  const url = await useDatabase(t, dialect, 'sg');
  expectSuccess('db sync --local-cell', await runInProcess(['db', 'sync', '--local-cell', '--db', url.raw]));
  const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const cell: CellMappingRow = { id: 1, uuid: randomUUID(), name: 'cell1', transportUrl: 'none:///', databaseConnection: url.raw, disabled: false };
  return {
    cell,
    url,
    async open(options = {}) {
      const sg = await ServiceGroupApi.open({ registry, ...options });
      t.teardown(() => sg.close());
      return sg;
    },
  };
}

/** Plants a service row directly (created_at PLANTED unless given, never reported). */
async function plantService(url: DatabaseUrl, host: string, binary: string, extra: Record<string, unknown> = {}): Promise<void> {
  await insertRows(url, 'services', [
    { host, binary, topic: binary.replace(/^nova-/, ''), report_count: 0, disabled: false, forced_down: false, version: 0, created_at: PLANTED, updated_at: PLANTED, last_seen_up: null, deleted: 0, ...extra },
  ]);
}

interface ServiceRow {
  id: number;
  report_count: number;
  disabled: boolean;
  disabled_reason: string | null;
  forced_down: boolean;
  last_seen_up: string | null;
  updated_at: string | null;
  deleted: number;
}

/** The services row of (host, binary), live or not, normalised across dialects. */
async function serviceRow(url: DatabaseUrl, host: string, binary: string): Promise<ServiceRow> {
  const b = url.dialect === 'mysql' ? '`binary`' : '"binary"';
  const [r] = await query<Record<string, unknown>>(
    url,
    `SELECT id, report_count, disabled, disabled_reason, forced_down, last_seen_up, updated_at, deleted FROM services WHERE host = :host AND ${b} = :binary ORDER BY id DESC`,
    { host, binary },
  );
  if (!r) throw new Error(`no service ${binary} on ${host}`);
  const iso = (v: unknown) => (v === null ? null : new Date(v as string).toISOString());
  return {
    id: Number(r.id),
    report_count: Number(r.report_count),
    disabled: Boolean(Number(r.disabled)),
    disabled_reason: r.disabled_reason as string | null,
    forced_down: Boolean(Number(r.forced_down)),
    last_seen_up: iso(r.last_seen_up),
    updated_at: iso(r.updated_at),
    deleted: Number(r.deleted),
  };
}

async function stateOf(sg: ServiceGroupApi, cell: CellMappingRow, host: string, binary = 'nova-compute'): Promise<ServiceState> {
  const s = await sg.get(cell, host, binary);
  if (!s) throw new Error(`no live service ${binary} on ${host}`);
  return s;
}

eachDriver('liveness at the boundaries with an injected clock: exactly service_down_time is up, 1 ms more is down, in either direction; forced down is down', async (t, dialect, driver) => {
  const sc = await useServiceCell(t, dialect);
  if (driver === 'redis') await useRedis(t, sc.cell);
  let clock = T0;
  const now = () => new Date(clock);
  const sg = await sc.open({ driver, redisUrl: REDIS_URL, now });
  t.deepEqual(sg.settings, { serviceDownTime: 60, reportInterval: 10 });
  await plantService(sc.url, 'compute-1', 'nova-compute');
  await sg.heartbeat(sc.cell, 'compute-1', 'nova-compute');

  const upAt = async (ms: number, api = sg): Promise<boolean> => {
    clock = ms;
    return (await stateOf(api, sc.cell, 'compute-1')).up;
  };
  t.is((await stateOf(sg, sc.cell, 'compute-1')).lastHeartbeat?.toISOString(), new Date(T0).toISOString(), `the ${driver} driver reports the heartbeat's time`);
  t.true(await upAt(T0 + 60_000), 'exactly service_down_time after the heartbeat: up');
  t.false(await upAt(T0 + 60_001), 'one ms more: down');
  t.true(await upAt(T0 - 60_000), 'a heartbeat 60 s in the future (a clock ahead): still up');
  t.false(await upAt(T0 - 60_001), 'a heartbeat further in the future than the down time: down');
  t.true(await upAt(T0 + 1_000));

  // isUp agrees with the listing.
  const record = await sg.store(sc.cell).get('compute-1', 'nova-compute');
  t.true(record !== undefined && (await sg.isUp(sc.cell, record)));

  // Forced down: down at once, whatever the heartbeat says; --unset lifts it.
  clock = T0 + 1_000;
  const [forced] = await sg.forceDown([sc.cell], 'compute-1', 'nova-compute');
  t.is(forced?.forcedDown, true);
  t.is(forced?.up, false, 'forced down is down though the heartbeat is fresh');
  t.false(await upAt(T0));
  const [unset] = await sg.forceDown([sc.cell], 'compute-1', 'nova-compute', true);
  t.is(unset?.up, true);

  // The report_interval clamp: service_down_time 10 with report_interval 10 becomes int(10 × 2.5) = 25 s.
  const clamped = await sc.open({ driver, redisUrl: REDIS_URL, now, liveness: { serviceDownTime: 10, reportInterval: 10 } });
  t.true(await upAt(T0 + 25_000, clamped), 'clamped to 25 s: up at 25 s');
  t.false(await upAt(T0 + 25_001, clamped), 'down 1 ms after 25 s');
  t.true(await upAt(T0 - 25_000, clamped));
  t.false(await upAt(T0 - 25_001, clamped));
  // Not clamped when service_down_time is longer than report_interval.
  const unclamped = await sc.open({ driver, redisUrl: REDIS_URL, now, liveness: { serviceDownTime: 11, reportInterval: 10 } });
  t.true(await upAt(T0 + 11_000, unclamped));
  t.false(await upAt(T0 + 11_001, unclamped), 'service_down_time 11 > report_interval 10: 11 s, no clamp');

  // A service that never reported: the database driver falls back to created_at; Redis has no key.
  await plantService(sc.url, 'compute-new', 'nova-compute', { created_at: new Date(T0), updated_at: new Date(T0) });
  clock = T0 + 60_000;
  const fresh = await stateOf(sg, sc.cell, 'compute-new');
  if (driver === 'database') {
    t.is(fresh.lastSeenUp, null);
    t.is(fresh.lastHeartbeat?.toISOString(), new Date(T0).toISOString(), 'last_seen_up NULL: created_at counts');
    t.true(fresh.up, 'created exactly service_down_time ago: up');
    clock = T0 + 60_001;
    t.false((await stateOf(sg, sc.cell, 'compute-new')).up, 'created longer ago than the down time: down');
  } else {
    t.is(fresh.lastHeartbeat, null, 'no key in Redis: no heartbeat');
    t.false(fresh.up, 'no key in Redis: down, whatever the record says');
  }
});

eachDialectLimited(test, 'database: a heartbeat increments report_count and moves last_seen_up; disable, enable and force-down do not', async (t, dialect) => {
  const sc = await useServiceCell(t, dialect);
  let clock = T0;
  const sg = await sc.open({ now: () => new Date(clock) });
  await plantService(sc.url, 'compute-1', 'nova-compute');

  await sg.heartbeat(sc.cell, 'compute-1', 'nova-compute');
  let row = await serviceRow(sc.url, 'compute-1', 'nova-compute');
  t.is(row.report_count, 1);
  t.is(row.last_seen_up, new Date(T0).toISOString());
  clock = T0 + 10_000;
  await sg.heartbeat(sc.cell, 'compute-1', 'nova-compute');
  row = await serviceRow(sc.url, 'compute-1', 'nova-compute');
  t.is(row.report_count, 2);
  t.is(row.last_seen_up, new Date(T0 + 10_000).toISOString(), 'last_seen_up moves with the heartbeat');

  // An operator's changes, long after the last heartbeat: none of them counts as one.
  clock = T0 + 3_600_000;
  const [disabled] = await sg.disable([sc.cell], 'compute-1', 'nova-compute', 'disk replacement');
  t.is(disabled?.disabled, true);
  t.is(disabled?.disabledReason, 'disk replacement');
  t.is(disabled?.up, false, 'disabling a dead service does not make it look alive');
  await sg.enable([sc.cell], 'compute-1', 'nova-compute');
  await sg.forceDown([sc.cell], 'compute-1', 'nova-compute');
  await sg.forceDown([sc.cell], 'compute-1', 'nova-compute', true);
  row = await serviceRow(sc.url, 'compute-1', 'nova-compute');
  t.is(row.report_count, 2, 'report_count unchanged by disable/enable/force-down');
  t.is(row.last_seen_up, new Date(T0 + 10_000).toISOString(), 'last_seen_up unchanged by disable/enable/force-down');
  t.is(row.updated_at, new Date(T0 + 3_600_000).toISOString(), 'the record itself is updated');
  t.false((await stateOf(sg, sc.cell, 'compute-1')).up);

  // join: a new service gets its record and a first heartbeat.
  const joined = await sg.join(sc.cell, { host: 'compute-2', binary: 'nova-compute', topic: 'compute' });
  t.is(joined.reportCount, 1);
  t.true(joined.up);
  t.is((await serviceRow(sc.url, 'compute-2', 'nova-compute')).last_seen_up, new Date(T0 + 3_600_000).toISOString());

  await t.throwsAsync(() => sg.heartbeat(sc.cell, 'compute-9', 'nova-compute'), { message: "no service 'nova-compute' on host 'compute-9' in any cell" });
});

eachDriver(
  'a heartbeat sets an expiring key; once it expires the service is down though the database says otherwise; changes and delete still go to the database record',
  async (t, dialect) => {
    const sc = await useServiceCell(t, dialect);
    const redis = await useRedis(t, sc.cell);
    // service_down_time 3 s (report_interval 1 s, no clamp): the key lives 3 s.
    const sg = await sc.open({ driver: 'redis', redisUrl: REDIS_URL, liveness: { serviceDownTime: 3, reportInterval: 1 } });
    const byDatabase = await sc.open({ driver: 'database', liveness: { serviceDownTime: 60, reportInterval: 10 } });
    t.is(sg.driver.name, 'redis');
    await plantService(sc.url, 'compute-1', 'nova-compute');
    await plantService(sc.url, 'compute-2', 'nova-compute');
    const id1 = (await serviceRow(sc.url, 'compute-1', 'nova-compute')).id;
    const id2 = (await serviceRow(sc.url, 'compute-2', 'nova-compute')).id;

    const before = Date.now();
    await sg.heartbeat(sc.cell, 'compute-1', 'nova-compute');
    const ttl = await redis.pTTL(keyOf(sc.cell, id1));
    t.true(ttl > 0 && ttl <= 3000, `the key expires within service_down_time (pttl ${ttl})`);
    const stored = await redis.get(keyOf(sc.cell, id1));
    t.true(stored !== null && new Date(stored).getTime() >= before - 5, `the key holds the heartbeat's time (${String(stored)})`);
    t.true((await stateOf(sg, sc.cell, 'compute-1')).up, 'up while the key lives');
    t.false((await stateOf(sg, sc.cell, 'compute-2')).up, 'no key: down');

    // The database says compute-1 is alive (a fresh last_seen_up); Redis is where liveness comes from.
    await exec(sc.url, 'UPDATE services SET last_seen_up = :now WHERE id = :id', { now: new Date(Math.floor(Date.now() / 1000) * 1000 + 1000), id: id1 });
    const left = await redis.pTTL(keyOf(sc.cell, id1));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, left) + 200));
    t.is(await redis.exists(keyOf(sc.cell, id1)), 0, 'the key expired by itself');
    t.true((await stateOf(byDatabase, sc.cell, 'compute-1')).up, 'the database driver would say up');
    const expired = await stateOf(sg, sc.cell, 'compute-1');
    t.false(expired.up, 'the key expired: down, whatever the database says');
    t.is(expired.lastHeartbeat, null);

    // Operator changes through the Redis-backed API go to the database record; they are no heartbeat.
    // (An API with the default 60 s key lifetime from here: a 1 s key could expire between two checks.)
    const sg60 = await sc.open({ driver: 'redis', redisUrl: REDIS_URL });
    await sg60.heartbeat(sc.cell, 'compute-2', 'nova-compute');
    const beat = await redis.get(keyOf(sc.cell, id2));
    const [disabled] = await sg60.disable([sc.cell], 'compute-2', 'nova-compute', 'rack move');
    t.is(disabled?.up, true, 'the state still comes from Redis');
    let row = await serviceRow(sc.url, 'compute-2', 'nova-compute');
    t.is(row.disabled, true);
    t.is(row.disabled_reason, 'rack move');
    t.is((await stateOf(byDatabase, sc.cell, 'compute-2')).disabledReason, 'rack move', 'the database driver sees the same record');
    await sg60.forceDown([sc.cell], 'compute-2', 'nova-compute');
    t.false((await stateOf(sg60, sc.cell, 'compute-2')).up, 'forced down beats a live key');
    t.is((await serviceRow(sc.url, 'compute-2', 'nova-compute')).forced_down, true);
    await sg60.forceDown([sc.cell], 'compute-2', 'nova-compute', true);
    await sg60.enable([sc.cell], 'compute-2', 'nova-compute');
    row = await serviceRow(sc.url, 'compute-2', 'nova-compute');
    t.is(row.disabled, false);
    t.is(row.disabled_reason, null);
    t.is(row.forced_down, false);
    t.is(await redis.get(keyOf(sc.cell, id2)), beat, 'disable/enable/force-down do not touch the heartbeat key');

    // Delete: the record is soft-deleted and the key forgotten.
    const deleted = await sg60.delete([sc.cell], 'compute-2', 'nova-compute');
    t.deepEqual(deleted, [{ cell: 'cell1', id: id2 }]);
    row = await serviceRow(sc.url, 'compute-2', 'nova-compute');
    t.is(row.deleted, id2, 'soft-deleted as Nova does (deleted = id)');
    t.is(await redis.exists(keyOf(sc.cell, id2)), 0, 'the key is gone');
    t.is(await sg60.get(sc.cell, 'compute-2', 'nova-compute'), undefined);
  },
  ['redis'],
);

// ---------------------------------------------------------------- the CLI

interface ListedService {
  host: string;
  binary: string;
  cell: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  forced_down: boolean;
  last_heartbeat: string | null;
  disabled_reason: string | null;
}

interface ServiceCloud {
  readonly cloud: Cloud;
  readonly cell: Cell;
  readonly mapping: CellMappingRow;
  /** When compute-1 last reported (fresh), as the database holds it. */
  readonly fresh: Date;
}

const STALE = new Date(Date.UTC(2021, 2, 3, 4, 5, 6));

/**
 * Every CLI call here judges liveness with a day of service_down_time: on a loaded machine a test
 * can take more than the default 60 s, and 'fresh' must stay up while STALE (years ago) stays down.
 */
const DAY = ['--service-down-time', '86400'] as const;

/** The command under test, through the real binary. */
const cli = (cloud: Cloud, args: readonly string[]): Promise<CliResult> => cloud.cli([...DAY, ...args]);
/** A check on the side (the same `main` as the binary, in this process: no Node start-up per check). */
const check = (cloud: Cloud, args: readonly string[]): Promise<CliResult> => runInProcess(['--api-db', cloud.api.raw, ...DAY, ...args]);

/**
 * An API database with cell1 mapped and synced, and three services in cell1: compute-1 (nova-compute,
 * reported just now), compute-1 (nova-conductor, reported just now) and compute-2 (nova-compute,
 * last reported long ago).
 */
async function useServiceCloud(t: ExecutionContext<unknown>, dialect: Dialect): Promise<ServiceCloud> {
  const cloud = await useCloud(t, dialect);
  const cell = await useCell(t, cloud, 'cell1', { sync: true });
  const fresh = new Date(Math.floor(Date.now() / 1000) * 1000);
  await plantService(cell.url, 'compute-1', 'nova-compute', { last_seen_up: fresh, report_count: 10 });
  await plantService(cell.url, 'compute-1', 'nova-conductor', { last_seen_up: fresh, report_count: 10 });
  await plantService(cell.url, 'compute-2', 'nova-compute', { last_seen_up: STALE, report_count: 5 });
  const mapping: CellMappingRow = { id: 0, uuid: cell.uuid, name: 'cell1', transportUrl: cell.transportUrl, databaseConnection: cell.url.raw, disabled: false };
  return { cloud, cell, mapping, fresh };
}

function parseList(r: CliResult): ListedService[] {
  try {
    return JSON.parse(r.stdout) as ListedService[];
  } catch {
    throw new Error(`service list --json does not parse: ${describeResult(r)}`);
  }
}

/** The rows of a PrettyTable-style table as arrays of trimmed cells (the header first). */
function tableRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

const find = (list: readonly ListedService[], host: string, binary = 'nova-compute') => list.find((s) => s.host === host && s.binary === binary);

eachDialectLimited(test, 'service list: a table and --json with host, binary, cell, status, state, last heartbeat and disabled reason', async (t, dialect) => {
  const { cloud, cell, fresh } = await useServiceCloud(t, dialect);
  await insertRows(cell.url, 'services', [
    { host: 'compute-3', binary: 'nova-compute', topic: 'compute', report_count: 0, disabled: true, disabled_reason: 'bad DIMM', forced_down: false, version: 0, created_at: PLANTED, updated_at: PLANTED, last_seen_up: fresh, deleted: 0 },
  ]);

  const [json, table] = await Promise.all([cli(cloud, ['--json', 'service', 'list']), cli(cloud, ['service', 'list'])]);
  t.is(json.code, 0, describeResult(json));
  t.deepEqual(parseList(json), [
    { host: 'compute-1', binary: 'nova-compute', cell: 'cell1', status: 'enabled', state: 'up', forced_down: false, last_heartbeat: fresh.toISOString(), disabled_reason: null },
    { host: 'compute-1', binary: 'nova-conductor', cell: 'cell1', status: 'enabled', state: 'up', forced_down: false, last_heartbeat: fresh.toISOString(), disabled_reason: null },
    { host: 'compute-2', binary: 'nova-compute', cell: 'cell1', status: 'enabled', state: 'down', forced_down: false, last_heartbeat: STALE.toISOString(), disabled_reason: null },
    { host: 'compute-3', binary: 'nova-compute', cell: 'cell1', status: 'disabled', state: 'up', forced_down: false, last_heartbeat: fresh.toISOString(), disabled_reason: 'bad DIMM' },
  ]);

  t.is(table.code, 0, describeResult(table));
  t.deepEqual(tableRows(table.stdout), [
    ['Host', 'Binary', 'Cell', 'Status', 'State', 'Last heartbeat', 'Disabled reason'],
    ['compute-1', 'nova-compute', 'cell1', 'enabled', 'up', fresh.toISOString(), ''],
    ['compute-1', 'nova-conductor', 'cell1', 'enabled', 'up', fresh.toISOString(), ''],
    ['compute-2', 'nova-compute', 'cell1', 'enabled', 'down', STALE.toISOString(), ''],
    ['compute-3', 'nova-compute', 'cell1', 'disabled', 'up', fresh.toISOString(), 'bad DIMM'],
  ]);

  const filtered = await check(cloud, ['--json', 'service', 'list', '--host', 'compute-1', '--binary', 'nova-conductor']);
  t.deepEqual(
    parseList(filtered).map((s) => `${s.host}/${s.binary}`),
    ['compute-1/nova-conductor'],
  );
});

eachDialectLimited(test, 'service disable --reason, enable, force-down, --unset and delete show in service list and in the record', async (t, dialect) => {
  const { cloud, cell } = await useServiceCloud(t, dialect);
  const list = async () => {
    const r = await check(cloud, ['--json', 'service', 'list']);
    t.is(r.code, 0, describeResult(r));
    return parseList(r);
  };
  const before = await serviceRow(cell.url, 'compute-1', 'nova-compute');

  const disable = await cli(cloud, ['service', 'disable', '--host', 'compute-1', '--binary', 'nova-compute', '--reason', 'kernel upgrade']);
  t.is(disable.code, 0, describeResult(disable));
  t.regex(disable.stdout, /nova-compute on compute-1 \(cell cell1\): disabled/);
  let listed = find(await list(), 'compute-1');
  t.is(listed?.status, 'disabled');
  t.is(listed?.disabled_reason, 'kernel upgrade');
  t.is(find(await list(), 'compute-1', 'nova-conductor')?.status, 'enabled', 'only the named binary');
  const table = await check(cloud, ['service', 'list', '--host', 'compute-1', '--binary', 'nova-compute']);
  const [, tableRow = []] = tableRows(table.stdout);
  t.deepEqual([tableRow[0], tableRow[1], tableRow[2], tableRow[3], tableRow[4], tableRow[6]], ['compute-1', 'nova-compute', 'cell1', 'disabled', 'up', 'kernel upgrade'], 'the reason in the table');
  let row = await serviceRow(cell.url, 'compute-1', 'nova-compute');
  t.deepEqual([row.disabled, row.disabled_reason], [true, 'kernel upgrade']);
  t.is(row.report_count, before.report_count, 'disabling is no heartbeat');
  t.is(row.last_seen_up, before.last_seen_up);

  const enable = await cli(cloud, ['--json', 'service', 'enable', '--host', 'compute-1', '--binary', 'nova-compute']);
  t.is(enable.code, 0, describeResult(enable));
  t.like((JSON.parse(enable.stdout) as ListedService[])[0], { host: 'compute-1', binary: 'nova-compute', status: 'enabled', disabled_reason: null });
  listed = find(await list(), 'compute-1');
  t.is(listed?.status, 'enabled');
  t.is(listed?.disabled_reason, null);

  const forced = await cli(cloud, ['service', 'force-down', '--host', 'compute-1', '--binary', 'nova-compute']);
  t.is(forced.code, 0, describeResult(forced));
  t.regex(forced.stdout, /forced down/);
  listed = find(await list(), 'compute-1');
  t.is(listed?.state, 'down', 'forced down though its heartbeat is fresh');
  t.is(listed?.forced_down, true);
  const unset = await cli(cloud, ['service', 'force-down', '--unset', '--host', 'compute-1', '--binary', 'nova-compute']);
  t.is(unset.code, 0, describeResult(unset));
  t.regex(unset.stdout, /no longer forced down/);
  listed = find(await list(), 'compute-1');
  t.is(listed?.state, 'up');
  t.is(listed?.forced_down, false);
  row = await serviceRow(cell.url, 'compute-1', 'nova-compute');
  t.is(row.report_count, before.report_count);
  t.is(row.last_seen_up, before.last_seen_up);

  const del = await cli(cloud, ['service', 'delete', '--host', 'compute-2', '--binary', 'nova-compute']);
  t.is(del.code, 0, describeResult(del));
  t.regex(del.stdout, /nova-compute on compute-2 \(cell cell1\): deleted/);
  t.deepEqual(
    (await list()).map((s) => `${s.host}/${s.binary}`),
    ['compute-1/nova-compute', 'compute-1/nova-conductor'],
  );
  row = await serviceRow(cell.url, 'compute-2', 'nova-compute');
  t.is(row.deleted, row.id, 'soft-deleted (deleted = id)');
  const again = await cli(cloud, ['service', 'delete', '--host', 'compute-2', '--binary', 'nova-compute']);
  t.is(again.code, 1, `a deleted service is not found: ${describeResult(again)}`);
});

eachDriver(
  'service list, disable --reason, enable and delete with --servicegroup-driver redis: state from Redis, the record in the database',
  async (t, dialect) => {
    const { cloud, cell, mapping } = await useServiceCloud(t, dialect);
    const redis = await useRedis(t, mapping);
    const viaRedis = (args: readonly string[]) => cli(cloud, ['--servicegroup-driver', 'redis', '--redis-url', REDIS_URL as string, ...args]);
    const listVia = async (driverArgs: readonly string[]) => {
      const r = await check(cloud, [...driverArgs, '--json', 'service', 'list']);
      t.is(r.code, 0, describeResult(r));
      return parseList(r);
    };
    const REDIS_ARGS = ['--servicegroup-driver', 'redis', '--redis-url', REDIS_URL as string];

    // No key yet: down by Redis, though the database has a fresh heartbeat.
    t.is(find(await listVia(REDIS_ARGS), 'compute-1')?.state, 'down');
    t.is(find(await listVia(REDIS_ARGS), 'compute-1')?.last_heartbeat, null);
    t.is(find(await listVia([]), 'compute-1')?.state, 'up', 'the database driver goes by last_seen_up');

    // compute-1 reports to Redis (as a Redis-driven service does): up by Redis.
    const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
    t.teardown(() => registry.close());
    const sg = await ServiceGroupApi.open({ registry, driver: 'redis', redisUrl: REDIS_URL });
    t.teardown(() => sg.close());
    await sg.heartbeat(mapping, 'compute-1', 'nova-compute');
    const id1 = (await serviceRow(cell.url, 'compute-1', 'nova-compute')).id;
    t.true((await redis.pTTL(keyOf(mapping, id1))) > 0);
    const listed = find(await listVia(REDIS_ARGS), 'compute-1');
    t.is(listed?.state, 'up');
    t.is(listed?.last_heartbeat, await redis.get(keyOf(mapping, id1)));

    const disable = await viaRedis(['service', 'disable', '--host', 'compute-1', '--binary', 'nova-compute', '--reason', 'noisy neighbour']);
    t.is(disable.code, 0, describeResult(disable));
    for (const [driverArgs, name] of [
      [REDIS_ARGS, 'redis'],
      [[], 'database'],
    ] as const) {
      const s = find(await listVia(driverArgs), 'compute-1');
      t.is(s?.status, 'disabled', `disabled in service list with the ${name} driver`);
      t.is(s?.disabled_reason, 'noisy neighbour', `the reason in service list with the ${name} driver`);
    }
    const row = await serviceRow(cell.url, 'compute-1', 'nova-compute');
    t.deepEqual([row.disabled, row.disabled_reason], [true, 'noisy neighbour'], 'the database record is changed');

    const enable = await viaRedis(['service', 'enable', '--host', 'compute-1', '--binary', 'nova-compute']);
    t.is(enable.code, 0, describeResult(enable));
    t.is(find(await listVia([]), 'compute-1')?.status, 'enabled');
    t.is((await serviceRow(cell.url, 'compute-1', 'nova-compute')).disabled_reason, null);

    const del = await viaRedis(['service', 'delete', '--host', 'compute-1', '--binary', 'nova-compute']);
    t.is(del.code, 0, describeResult(del));
    t.is((await serviceRow(cell.url, 'compute-1', 'nova-compute')).deleted, id1, 'the record is soft-deleted');
    t.is(await redis.exists(keyOf(mapping, id1)), 0, 'and its key forgotten');
    t.is(find(await listVia(REDIS_ARGS), 'compute-1'), undefined);
  },
  ['redis'],
);

eachDialectLimited(test, 'service commands: exit 1 for an unknown host or binary, 127 for a bad --servicegroup-driver or a missing --host; nothing written', async (t, dialect) => {
  const { cloud, cell } = await useServiceCloud(t, dialect);
  const snapshot = async () => JSON.stringify(await query(cell.url, 'SELECT * FROM services ORDER BY id'));
  const before = await snapshot();

  // One of each through the real binary (its exit code is the process's), the rest in this process.
  const notFound = await Promise.all([
    cli(cloud, ['service', 'disable', '--host', 'compute-9', '--binary', 'nova-compute', '--reason', 'x']),
    check(cloud, ['service', 'enable', '--host', 'compute-9', '--binary', 'nova-compute']),
    check(cloud, ['service', 'force-down', '--host', 'compute-1', '--binary', 'nova-scheduler']),
    check(cloud, ['service', 'delete', '--host', 'compute-2', '--binary', 'nova-conductor']),
  ]);
  for (const r of notFound) {
    t.is(r.code, 1, describeResult(r));
    t.regex(r.stderr, /^cellsdb: error: no service 'nova-(compute|scheduler|conductor)' on host 'compute-\d' in any cell\n$/);
  }

  const invalid = await Promise.all([
    cli(cloud, ['--servicegroup-driver', 'zookeeper', 'service', 'list']),
    check(cloud, ['--servicegroup-driver', 'zookeeper', 'service', 'disable', '--host', 'compute-1', '--binary', 'nova-compute']),
    cli(cloud, ['service', 'disable', '--binary', 'nova-compute', '--reason', 'x']),
    check(cloud, ['service', 'delete', '--binary', 'nova-compute']),
    // The Redis driver without a URL (the CLI's environment has no CELLSDB_REDIS_URL either).
    check(cloud, ['--servicegroup-driver', 'redis', 'service', 'list']),
  ]);
  const [badDriverList, badDriverDisable, noHostDisable, noHostDelete, noRedisUrl] = invalid;
  for (const r of invalid) t.is(r.code, 127, describeResult(r));
  t.regex(badDriverList?.stderr ?? '', /unknown --servicegroup-driver 'zookeeper': use database or redis/);
  t.regex(badDriverDisable?.stderr ?? '', /unknown --servicegroup-driver 'zookeeper'/);
  t.regex(noHostDisable?.stderr ?? '', /host/);
  t.regex(noHostDelete?.stderr ?? '', /host/);
  t.regex(noRedisUrl?.stderr ?? '', /--redis-url/);
  t.is(badDriverList?.stdout, '', 'nothing listed with a bad driver');

  t.is(await snapshot(), before, 'no service record changed');
});
