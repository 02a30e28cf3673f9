import { QueryTypes } from 'sequelize';
import { main } from '../src/cli/main.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { type DatabaseUrl, displayUrl } from '../src/url/index.js';
import type { CellSizes } from './options.js';
import type { BenchServer } from './server.js';

/** One cells-v2 control plane: an API database at head, cell0, and cells at cell schema 0003 with legacy data. */
export interface Deployment {
  readonly tag: string;
  readonly api: DatabaseUrl;
  readonly cell0: DatabaseUrl;
  readonly cells: ReadonlyArray<{ readonly name: string; readonly url: DatabaseUrl }>;
}

const databaseName = (tag: string, part: string): string => `cellsdb_bench_${tag}_${part}`;
const parts = (cells: number): string[] => ['api', 'cell0', ...Array.from({ length: cells }, (_, i) => `cell${i + 1}`)];

function layout(server: BenchServer, tag: string, cells: number): Deployment {
  return {
    tag,
    api: server.urlFor(databaseName(tag, 'api')),
    cell0: server.urlFor(databaseName(tag, 'cell0')),
    cells: Array.from({ length: cells }, (_, i) => ({ name: `cell${i + 1}`, url: server.urlFor(databaseName(tag, `cell${i + 1}`)) })),
  };
}

/** The environment a cellsdb command gets: ours without CELLSDB_* (every URL is passed as a flag). */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CELLSDB_')));
}

/** Runs a cellsdb command in this process (the code the binary runs); throws unless it exits 0. */
async function cellsdb(args: readonly string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, cleanEnv(), { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  if (code !== 0) throw new Error(`cellsdb ${args.map((a) => (a.includes('://') ? displayUrl(a) : a)).join(' ')} exited ${code}: ${stderr.trim()}`);
  return stdout;
}

/**
 * Creates a deployment as an operator would before the upgrade: `api_db sync`, `cell_v2 map_cell0`,
 * `cell_v2 create_cell` per cell, `db sync 3` (the expand step, before the blocker), then fills every
 * cell but cell0 with legacy data in bulk.
 */
export async function generateDeployment(server: BenchServer, tag: string, cells: number, sizes: CellSizes): Promise<Deployment> {
  const d = layout(server, tag, cells);
  for (const part of parts(cells)) await server.create(databaseName(tag, part));
  const api = ['--api-db', d.api.raw];
  await cellsdb([...api, 'api_db', 'sync']);
  await cellsdb([...api, 'cell_v2', 'map_cell0', '--database_connection', d.cell0.raw]);
  for (const cell of d.cells) {
    await cellsdb([...api, 'cell_v2', 'create_cell', '--name', cell.name, '--transport-url', `rabbit://nova:bench@mq-${cell.name}:5672/`, '--database_connection', cell.url.raw]);
  }
  await cellsdb([...api, 'db', 'sync', '3']);
  const registry = new ConnectionRegistry({ max: 2 });
  try {
    await Promise.all(
      d.cells.map(async (cell) => {
        const db = registry.open(cell.url);
        await server.bench.generateCell(db, sizes, `${tag}-${cell.name}-compute`);
        await server.bench.analyze(db);
      }),
    );
  } finally {
    await registry.close();
  }
  return d;
}

/** A fresh copy of `template` under `tag`, its cell mappings pointing at the copies. */
export async function copyDeployment(server: BenchServer, template: Deployment, tag: string): Promise<Deployment> {
  const d = layout(server, tag, template.cells.length);
  for (const part of parts(template.cells.length)) await server.copy(databaseName(template.tag, part), databaseName(tag, part));
  const registry = new ConnectionRegistry({ max: 1 });
  try {
    const api = registry.open(d.api);
    const targets = [{ name: 'cell0', url: d.cell0 }, ...d.cells];
    for (const { name, url } of targets) {
      await api.sequelize.query('UPDATE cell_mappings SET database_connection = :url WHERE name = :name', { replacements: { url: url.raw, name } });
    }
  } finally {
    await registry.close();
  }
  return d;
}

export async function dropDeployment(server: BenchServer, d: Deployment): Promise<void> {
  for (const part of parts(d.cells.length)) await server.drop(databaseName(d.tag, part));
}

/** Row counts that say whether a run moved everything (and nothing twice). */
export interface Census {
  readonly api: { readonly groups: number; readonly policies: number; readonly members: number };
  readonly cells: { readonly liveGroups: number; readonly livePolicies: number; readonly liveMembers: number; readonly nodesWithoutHost: number; readonly nodes: number };
}

export async function census(d: Deployment): Promise<Census> {
  const registry = new ConnectionRegistry({ max: 1 });
  const count = async (url: DatabaseUrl, sql: string): Promise<number> => {
    const [row] = await registry.open(url).sequelize.query<{ n: number | string }>(sql, { type: QueryTypes.SELECT });
    return Number(row?.n ?? 0);
  };
  try {
    const sum = async (sql: string) => (await Promise.all(d.cells.map((c) => count(c.url, sql)))).reduce((a, b) => a + b, 0);
    return {
      api: {
        groups: await count(d.api, 'SELECT COUNT(*) AS n FROM instance_groups'),
        policies: await count(d.api, 'SELECT COUNT(*) AS n FROM instance_group_policy'),
        members: await count(d.api, 'SELECT COUNT(*) AS n FROM instance_group_member'),
      },
      cells: {
        liveGroups: await sum('SELECT COUNT(*) AS n FROM instance_groups WHERE deleted = 0'),
        livePolicies: await sum('SELECT COUNT(*) AS n FROM instance_group_policy WHERE deleted = 0'),
        liveMembers: await sum('SELECT COUNT(*) AS n FROM instance_group_member WHERE deleted = 0'),
        nodesWithoutHost: await sum('SELECT COUNT(*) AS n FROM compute_nodes WHERE host IS NULL'),
        nodes: await sum('SELECT COUNT(*) AS n FROM compute_nodes'),
      },
    };
  } finally {
    await registry.close();
  }
}
