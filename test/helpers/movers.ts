// Legacy deployments for the mover tests: an API database at head, cell0 and named cells synced to
// cell schema 0003 (the legacy tables exist, the blocker 0004 not yet applied), seeded with legacy
// instance groups and compute nodes. And the yardstick every mover test measures with: what the
// API database must hold once the movers are done, computed from the cells BEFORE the run, compared
// with what the API database really holds (as sorted lists, so that a duplicate shows).
import type { ExecutionContext } from 'ava';
import { QueryTypes } from 'sequelize';
import { ConnectionRegistry } from '../../src/db/registry.js';
import { seedLegacyCell, type LegacySeed, type SeededCell } from '../../src/demo/seed-legacy.js';
import type { DatabaseUrl, Dialect } from '../../src/url/index.js';
import { type Cell, type Cloud, insertRows, query, useCell, useCell0, useCloud, withDatabase } from './cells.js';
import { type CliResult, runCli, spawnCli } from './cli.js';

/** The cell schema version that still has the legacy tables and no blocker. */
export const BEFORE_BLOCKER = '3';

/** SELECTs on any of a test's databases over pooled handles that live until the test ends (checks run often). */
export type Reader = <Row extends object>(url: DatabaseUrl, sql: string, replacements?: Record<string, unknown>) => Promise<Row[]>;

/** A {@link Reader} closed when the test ends (call it after creating the databases: teardowns run last-in, first-out). */
export function useReader(t: ExecutionContext<unknown>): Reader {
  const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  return <Row extends object>(url: DatabaseUrl, sql: string, replacements: Record<string, unknown> = {}) =>
    registry.open(url).sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT });
}

export interface LegacyDeployment {
  readonly q: Reader;
  readonly cloud: Cloud;
  readonly cell0: Cell;
  /** The named cells, in the order asked for. */
  readonly cells: readonly Cell[];
}

/** An API database at head, cell0 and `names` mapped, every cell database at schema 0003. */
export async function useLegacyDeployment(t: ExecutionContext<unknown>, dialect: Dialect, names: readonly string[]): Promise<LegacyDeployment> {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud);
  const cells: Cell[] = [];
  for (const name of names) cells.push(await useCell(t, cloud, name));
  await cloud.setup(['db', 'sync', BEFORE_BLOCKER]);
  return { q: useReader(t), cloud, cell0, cells };
}

/** Seeds one cell with {@link seedLegacyCell}. */
export function seed(cell: Cell, legacy: LegacySeed): Promise<SeededCell> {
  return withDatabase(cell.url, (h) => seedLegacyCell(h, legacy));
}

/** `db online_data_migrations` through the real binary, with `--api-db` set and the given environment. */
export function odm(cloud: Pick<Cloud, 'api'>, args: readonly string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['--api-db', cloud.api.raw, 'db', 'online_data_migrations', ...args], { env, timeoutMs: 120_000 });
}

/** The same, started in the background (for races and kills at random instants). */
export function spawnOdm(cloud: Pick<Cloud, 'api'>, args: readonly string[] = [], env: Record<string, string> = {}) {
  return spawnCli(['--api-db', cloud.api.raw, 'db', 'online_data_migrations', ...args], { env });
}

export const show = (r: CliResult): string => `exit ${String(r.code)} signal ${String(r.signal)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** One instance group as the API database must hold it: policies and member instance uuids sorted. */
export interface GroupContent {
  readonly user_id: string | null;
  readonly project_id: string | null;
  readonly name: string | null;
  readonly created_at: string | null;
  readonly policies: readonly string[];
  readonly members: readonly string[];
}

/** Group uuid → content. */
export type Groups = Record<string, GroupContent>;

const iso = (d: unknown): string | null => (d === null || d === undefined ? null : new Date(d as string).toISOString());

interface GroupRow {
  id: number | string;
  uuid: string;
  user_id: string | null;
  project_id: string | null;
  name: string | null;
  created_at: Date | string | null;
}

function assemble(groups: GroupRow[], policies: Array<{ uuid: string; policy: string | null }>, members: Array<{ uuid: string; m: string | null }>): Groups {
  const out: Record<string, { user_id: string | null; project_id: string | null; name: string | null; created_at: string | null; policies: string[]; members: string[] }> = {};
  for (const g of groups) {
    if (out[g.uuid]) throw new Error(`group ${g.uuid} appears twice`);
    out[g.uuid] = { user_id: g.user_id, project_id: g.project_id, name: g.name, created_at: iso(g.created_at), policies: [], members: [] };
  }
  for (const p of policies) out[p.uuid]?.policies.push(String(p.policy));
  for (const m of members) out[m.uuid]?.members.push(String(m.m));
  for (const g of Object.values(out)) {
    g.policies.sort();
    g.members.sort();
  }
  return out;
}

/** The live legacy groups of a cell, with their live policies and members (what the movers must copy). */
export async function liveLegacyGroups(q: Reader, url: DatabaseUrl): Promise<Groups> {
  const groups = await q<GroupRow>(url, 'SELECT id, uuid, user_id, project_id, name, created_at FROM instance_groups WHERE deleted = 0');
  const policies = await q<{ uuid: string; policy: string | null }>(
    url,
    'SELECT g.uuid, p.policy FROM instance_group_policy p JOIN instance_groups g ON g.id = p.group_id WHERE g.deleted = 0 AND p.deleted = 0',
  );
  const members = await q<{ uuid: string; m: string | null }>(
    url,
    'SELECT g.uuid, m.instance_id AS m FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id WHERE g.deleted = 0 AND m.deleted = 0',
  );
  return assemble(groups, policies, members);
}

/** Every group of the API database with all its policies and members (duplicates kept, so that they show). */
export async function apiGroups(q: Reader, api: DatabaseUrl): Promise<Groups> {
  const groups = await q<GroupRow>(api, 'SELECT id, uuid, user_id, project_id, name, created_at FROM instance_groups');
  const policies = await q<{ uuid: string; policy: string | null }>(
    api,
    'SELECT g.uuid, p.policy FROM instance_group_policy p JOIN instance_groups g ON g.id = p.group_id',
  );
  const members = await q<{ uuid: string; m: string | null }>(
    api,
    'SELECT g.uuid, m.instance_uuid AS m FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id',
  );
  return assemble(groups, policies, members);
}

/** Runs one write on `url` (outside every cellsdb command). */
export async function exec(url: DatabaseUrl, sql: string, replacements: Record<string, unknown> = {}): Promise<void> {
  await withDatabase(url, (h) => h.sequelize.query(sql, { replacements }));
}

/** Merges per-cell expectations (and what the API database held before) into one. */
export function merge(...parts: Groups[]): Groups {
  const out: Record<string, GroupContent> = {};
  for (const part of parts) {
    for (const [uuid, g] of Object.entries(part)) {
      const seen = out[uuid];
      // A uuid on both sides keeps the API copy's fields and gains the cell's missing rows.
      out[uuid] = seen
        ? {
            ...seen,
            policies: [...new Set([...seen.policies, ...g.policies])].sort(),
            members: [...new Set([...seen.members, ...g.members])].sort(),
          }
        : g;
    }
  }
  return out;
}

/** What each cell's compute nodes must end up as: node id → the host of its service (soft-deleted services count). */
export async function expectedNodeHosts(q: Reader, url: DatabaseUrl): Promise<Record<string, string>> {
  const rows = await q<{ id: number | string; host: string }>(
    url,
    'SELECT cn.id, s.host FROM compute_nodes cn JOIN services s ON s.id = cn.service_id WHERE cn.host IS NULL',
  );
  return Object.fromEntries(rows.map((r) => [String(r.id), r.host]));
}

/** Every compute node: id → host and service_id. */
export async function nodes(q: Reader, url: DatabaseUrl): Promise<Record<string, { host: string | null; service_id: number | null; deleted: number }>> {
  const rows = await q<{ id: number | string; host: string | null; service_id: number | string | null; deleted: number | string }>(
    url,
    'SELECT id, host, service_id, deleted FROM compute_nodes',
  );
  return Object.fromEntries(
    rows.map((r) => [String(r.id), { host: r.host, service_id: r.service_id === null ? null : Number(r.service_id), deleted: Number(r.deleted) }]),
  );
}

/** Problems with a cell's legacy tables once the movers are done: live rows left, soft-deletes not as Nova does them, source rows without a copy. */
export async function cellLeftovers(q: Reader, url: DatabaseUrl, api: Groups, history: ReadonlySet<string> = new Set()): Promise<string[]> {
  const problems: string[] = [];
  for (const table of LEGACY_TABLES) {
    const [live] = await q<{ n: number | string }>(url, `SELECT COUNT(*) AS n FROM ${table} WHERE deleted = 0`);
    if (Number(live?.n) !== 0) problems.push(`${table}: ${Number(live?.n)} live rows left`);
    const bad = await q<{ id: number | string }>(url, `SELECT id FROM ${table} WHERE deleted <> 0 AND (deleted <> id OR deleted_at IS NULL)`);
    if (bad.length !== 0) problems.push(`${table}: ${bad.length} rows soft-deleted without deleted = id and deleted_at`);
  }
  const groups = await q<{ id: number | string; uuid: string }>(url, 'SELECT id, uuid FROM instance_groups WHERE deleted <> 0');
  for (const g of groups) {
    if (!history.has(`instance_groups:${g.id}`) && !api[g.uuid]) problems.push(`group ${g.uuid} soft-deleted in the cell but not in the API database`);
  }
  const policies = await q<{ id: number | string; uuid: string; policy: string }>(
    url,
    'SELECT p.id, g.uuid, p.policy FROM instance_group_policy p JOIN instance_groups g ON g.id = p.group_id WHERE p.deleted <> 0',
  );
  for (const p of policies) {
    if (!history.has(`instance_group_policy:${p.id}`) && !api[p.uuid]?.policies.includes(String(p.policy))) problems.push(`policy ${p.policy} of ${p.uuid} soft-deleted without its copy`);
  }
  const members = await q<{ id: number | string; uuid: string; m: string }>(
    url,
    'SELECT m.id, g.uuid, m.instance_id AS m FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id WHERE m.deleted <> 0',
  );
  for (const m of members) {
    if (!history.has(`instance_group_member:${m.id}`) && !api[m.uuid]?.members.includes(String(m.m))) problems.push(`member ${m.m} of ${m.uuid} soft-deleted without its copy`);
  }
  return problems;
}

const LEGACY_TABLES = ['instance_groups', 'instance_group_policy', 'instance_group_member'] as const;

/** The legacy rows soft-deleted before the movers ran (`table:id`): history, never copied. */
async function legacyHistory(q: Reader, url: DatabaseUrl): Promise<Set<string>> {
  const out = new Set<string>();
  for (const table of LEGACY_TABLES) {
    for (const r of await q<{ id: number | string }>(url, `SELECT id FROM ${table} WHERE deleted <> 0`)) out.add(`${table}:${r.id}`);
  }
  return out;
}

/** Compute nodes not as the mover must leave them: host from the service, service_id NULL. */
export async function nodeProblems(q: Reader, url: DatabaseUrl, expected: Record<string, string>): Promise<string[]> {
  const actual = await nodes(q, url);
  const problems: string[] = [];
  for (const [id, host] of Object.entries(expected)) {
    const node = actual[id];
    if (!node) problems.push(`compute node ${id} is gone`);
    else if (node.host !== host || node.service_id !== null) problems.push(`compute node ${id}: host ${String(node.host)} service_id ${String(node.service_id)}, expected ${host} and NULL`);
  }
  return problems;
}

/** The expectation of a deployment, taken before any mover runs. */
export interface Expectation {
  readonly groups: Groups;
  readonly nodeHosts: ReadonlyMap<Cell, Record<string, string>>;
  readonly history: ReadonlyMap<Cell, ReadonlySet<string>>;
}

export async function expectation(d: LegacyDeployment): Promise<Expectation> {
  const q = d.q;
  const all = [d.cell0, ...d.cells];
  const parts = [await apiGroups(q, d.cloud.api)];
  const nodeHosts = new Map<Cell, Record<string, string>>();
  const history = new Map<Cell, ReadonlySet<string>>();
  for (const cell of all) {
    parts.push(await liveLegacyGroups(q, cell.url));
    nodeHosts.set(cell, await expectedNodeHosts(q, cell.url));
    history.set(cell, await legacyHistory(q, cell.url));
  }
  return { groups: merge(...parts), nodeHosts, history };
}

/** Asserts the movers' end state: the API database holds exactly the expected groups, no legacy row is left live, every node has its host. */
export async function assertFinished(t: ExecutionContext<unknown>, d: LegacyDeployment, expected: Expectation, label = ''): Promise<void> {
  const q = d.q;
  const api = await apiGroups(q, d.cloud.api);
  const missing = Object.keys(expected.groups).filter((u) => !api[u]);
  const extra = Object.keys(api).filter((u) => !expected.groups[u]);
  t.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${label} API group uuids`);
  const wrong = Object.keys(expected.groups).filter((u) => api[u] && JSON.stringify(api[u]) !== JSON.stringify(expected.groups[u]));
  t.deepEqual(
    wrong.slice(0, 3).map((u) => ({ uuid: u, api: api[u], expected: expected.groups[u] })),
    [],
    `${label} ${wrong.length} API groups differ from the cells' originals`,
  );
  for (const cell of [d.cell0, ...d.cells]) {
    t.deepEqual(await cellLeftovers(q, cell.url, api, expected.history.get(cell)), [], `${label} cell ${cell.name}: legacy rows`);
    t.deepEqual(await nodeProblems(q, cell.url, expected.nodeHosts.get(cell) ?? {}), [], `${label} cell ${cell.name}: compute nodes`);
  }
}

/** Row counts of the tables a mover writes, over the API database and every cell (to prove nothing was written). */
export async function fingerprint(d: LegacyDeployment): Promise<string> {
  const q = d.q;
  const parts: string[] = [];
  for (const table of ['instance_groups', 'instance_group_policy', 'instance_group_member']) {
    const [r] = await q<{ n: number | string }>(d.cloud.api, `SELECT COUNT(*) AS n FROM ${table}`);
    parts.push(`api.${table}=${Number(r?.n)}`);
  }
  for (const cell of [d.cell0, ...d.cells]) {
    for (const table of ['instance_groups', 'instance_group_policy', 'instance_group_member']) {
      const [r] = await q<{ n: number | string }>(cell.url, `SELECT COUNT(*) AS n FROM ${table} WHERE deleted = 0`);
      parts.push(`${cell.name}.${table}.live=${Number(r?.n)}`);
    }
    const [r] = await q<{ n: number | string }>(cell.url, 'SELECT COUNT(*) AS n FROM compute_nodes WHERE host IS NULL');
    parts.push(`${cell.name}.compute_nodes.hostless=${Number(r?.n)}`);
  }
  return parts.join(' ');
}

/** A legacy group planted by hand in a cell (ids from the database), with its policies and members; returns its id. */
export async function plantCellGroup(
  url: DatabaseUrl,
  group: { uuid: string; user_id?: string; project_id?: string; name?: string; created_at?: Date },
  policies: readonly string[] = [],
  members: readonly string[] = [],
): Promise<number> {
  const created = group.created_at ?? new Date(Date.UTC(2019, 5, 1, 12, 0, 0));
  await insertRows(url, 'instance_groups', [
    { user_id: group.user_id ?? 'user-a', project_id: group.project_id ?? 'project-a', uuid: group.uuid, name: group.name ?? `name-${group.uuid.slice(0, 8)}`, created_at: created, updated_at: created, deleted: 0 },
  ]);
  const [row] = await query<{ id: number | string }>(url, 'SELECT id FROM instance_groups WHERE uuid = :uuid AND deleted = 0', { uuid: group.uuid });
  const id = Number(row?.id);
  await insertRows(url, 'instance_group_policy', policies.map((policy) => ({ policy, group_id: id, created_at: created, updated_at: created, deleted: 0 })));
  await insertRows(url, 'instance_group_member', members.map((instance_id) => ({ instance_id, group_id: id, created_at: created, updated_at: created, deleted: 0 })));
  return id;
}

/** A group planted by hand in the API database, with its policies and members; returns its id. */
export async function plantApiGroup(
  api: DatabaseUrl,
  group: { uuid: string; user_id?: string; project_id?: string; name?: string; created_at?: Date },
  policies: readonly string[] = [],
  members: readonly string[] = [],
): Promise<number> {
  const created = group.created_at ?? new Date(Date.UTC(2021, 0, 2, 3, 4, 5));
  await insertRows(api, 'instance_groups', [
    { user_id: group.user_id ?? 'api-user', project_id: group.project_id ?? 'api-project', uuid: group.uuid, name: group.name ?? 'api-group', created_at: created, updated_at: created },
  ]);
  const [row] = await query<{ id: number | string }>(api, 'SELECT id FROM instance_groups WHERE uuid = :uuid', { uuid: group.uuid });
  const id = Number(row?.id);
  await insertRows(api, 'instance_group_policy', policies.map((policy) => ({ policy, group_id: id, created_at: created, updated_at: created })));
  await insertRows(api, 'instance_group_member', members.map((instance_uuid) => ({ instance_uuid, group_id: id, created_at: created, updated_at: created })));
  return id;
}

/** Live rows of the three legacy tables of a cell, as `groups/policies/members`. */
export async function liveLegacyCounts(q: Reader, url: DatabaseUrl): Promise<string> {
  const counts: number[] = [];
  for (const table of ['instance_groups', 'instance_group_policy', 'instance_group_member']) {
    const [r] = await q<{ n: number | string }>(url, `SELECT COUNT(*) AS n FROM ${table} WHERE deleted = 0`);
    counts.push(Number(r?.n));
  }
  return counts.join('/');
}

/** Rows of a table of the API database. */
export async function countRows(q: Reader, url: DatabaseUrl, table: string): Promise<number> {
  const [r] = await q<{ n: number | string }>(url, `SELECT COUNT(*) AS n FROM ${table}`);
  return Number(r?.n);
}

/**
 * What must hold at every instant, even right after a kill: the API database holds no group, policy
 * or member the cells did not have (nor any twice), and no cell row is soft-deleted without its copy.
 */
export async function invariantProblems(d: LegacyDeployment, expected: Expectation): Promise<string[]> {
  const q = d.q;
  const api = await apiGroups(q, d.cloud.api);
  const problems: string[] = [];
  for (const [uuid, g] of Object.entries(api)) {
    const want = expected.groups[uuid];
    if (!want) {
      problems.push(`API group ${uuid} was never in a cell`);
      continue;
    }
    const extra = (have: readonly string[], allowed: readonly string[]) => have.filter((v, i) => !allowed.includes(v) || have.indexOf(v) !== i);
    for (const v of extra(g.policies, want.policies)) problems.push(`API group ${uuid}: extra or duplicate policy ${v}`);
    for (const v of extra(g.members, want.members)) problems.push(`API group ${uuid}: extra or duplicate member ${v}`);
  }
  for (const cell of [d.cell0, ...d.cells]) {
    const leftovers = await cellLeftovers(q, cell.url, api, expected.history.get(cell));
    problems.push(...leftovers.filter((p) => !p.includes('live rows left')).map((p) => `${cell.name}: ${p}`));
  }
  return problems;
}
