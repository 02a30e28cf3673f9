// A small cells-v2 control plane for tests: an API database at head, cell0 and named cells mapped in
// it (each with its own database), and raw SQL on any of them to plant services, compute nodes,
// instances and mappings. Setup runs the CLI in this process (`main`, the same code the binary
// runs, without a Node start-up per step); the commands a test is about go through the real binary
// (`cloud.cli`), as an operator runs them.
import type { ExecutionContext, TestFn } from 'ava';
import pLimit from 'p-limit';
import { QueryTypes } from 'sequelize';
import { main } from '../../src/cli/main.js';
import { ConnectionRegistry, type DatabaseHandle } from '../../src/db/registry.js';
import { type DatabaseUrl, type Dialect, parseDatabaseUrl } from '../../src/url/index.js';
import { type CliResult, cliEnv, runCli } from './cli.js';
import { eachDialect, useDatabase } from './databases.js';

/**
 * At most this many tests of a file work at once: every test creates several databases and starts
 * CLI processes, and an unbounded burst would exhaust PostgreSQL's 100 connections and two cores.
 */
const gate = pLimit(4);

/** {@link eachDialect}, with the test body queued behind the file's gate. */
export function eachDialectLimited<Context>(
  test: TestFn<Context>,
  title: string,
  fn: (t: ExecutionContext<Context>, dialect: Dialect) => Promise<void>,
): void {
  eachDialect(test, title, (t, dialect) => gate(() => fn(t, dialect)));
}

/** Runs the CLI in this process, with buffered output; the result has the shape of {@link runCli}'s. */
export async function runInProcess(args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, cliEnv(), {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  });
  return { code, signal: null, stdout, stderr };
}

/** A one-line summary of a CLI result for assertion messages. */
export const describeResult = (r: CliResult): string => `exit ${String(r.code)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Throws unless a setup step exited 0. */
export function expectSuccess(step: string, r: CliResult): CliResult {
  if (r.code !== 0) throw new Error(`setup step '${step}' failed: ${describeResult(r)}`);
  return r;
}

export interface Cell {
  readonly name: string;
  readonly uuid: string;
  /** The cell's database (created for the test, dropped after it). */
  readonly url: DatabaseUrl;
  readonly transportUrl: string;
}

export interface Cloud {
  readonly dialect: Dialect;
  readonly api: DatabaseUrl;
  /** Runs the real CLI binary with `--api-db` set (and whatever else `args` says). */
  cli(args: readonly string[], options?: { timeoutMs?: number }): Promise<CliResult>;
  /** A setup step: the CLI in this process with `--api-db` set; throws unless it exits 0. */
  setup(args: readonly string[]): Promise<CliResult>;
}

/** An API database at head, dropped when the test ends. */
export async function useCloud(t: ExecutionContext<unknown>, dialect: Dialect, apiUrl?: DatabaseUrl): Promise<Cloud> {
  const api = apiUrl ?? (await useDatabase(t, dialect, 'api'));
  const cloud: Cloud = {
    dialect,
    api,
    cli: (args, options) => runCli(['--api-db', api.raw, ...args], options),
    setup: async (args) => expectSuccess(args.join(' '), await runInProcess(['--api-db', api.raw, ...args])),
  };
  await cloud.setup(['api_db', 'sync']);
  return cloud;
}

/** Maps cell0 to a new database (synced when `sync` is set). */
export async function useCell0(t: ExecutionContext<unknown>, cloud: Cloud, options: { sync?: boolean } = {}): Promise<Cell> {
  const url = await useDatabase(t, cloud.dialect, 'cell0');
  await cloud.setup(['cell_v2', 'map_cell0', '--database_connection', url.raw]);
  if (options.sync) await cloud.setup(['db', 'sync', '--cell', 'cell0']);
  return { name: 'cell0', uuid: '00000000-0000-0000-0000-000000000000', url, transportUrl: 'none:///' };
}

/**
 * Maps a cell named `name` to a new database (or to `databaseConnection` when given, which is then
 * not created) and syncs it when `sync` is set. The transport URL is unique to the cell.
 */
export async function useCell(
  t: ExecutionContext<unknown>,
  cloud: Cloud,
  name: string,
  options: { sync?: boolean; transportUrl?: string; databaseConnection?: string } = {},
): Promise<Cell> {
  const url = options.databaseConnection !== undefined ? parseDatabaseUrl(options.databaseConnection) : await useDatabase(t, cloud.dialect, name);
  const transportUrl = options.transportUrl ?? `rabbit://nova:mq-${name}@${name}-mq:5672/`;
  const created = await cloud.setup([
    'cell_v2',
    'create_cell',
    '--name',
    name,
    '--transport-url',
    transportUrl,
    '--database_connection',
    options.databaseConnection ?? url.raw,
    '--verbose',
  ]);
  const uuid = created.stdout.trim();
  if (options.sync) await cloud.setup(['db', 'sync', '--cell', name]);
  return { name, uuid, url, transportUrl };
}

/** Runs `work` on a pooled handle of `url`, outside every cellsdb command. */
export async function withDatabase<T>(url: DatabaseUrl, work: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs: 60_000 });
  try {
    return await work(registry.open(url));
  } finally {
    await registry.close();
  }
}

/** Rows of one SELECT on `url`. */
export function query<Row extends object>(url: DatabaseUrl, sql: string, replacements: Record<string, unknown> = {}): Promise<Row[]> {
  return withDatabase(url, (h) => h.sequelize.query<Row>(sql, { replacements, type: QueryTypes.SELECT }));
}

/** Inserts `rows` into `table` of `url` (column names quoted for the dialect; `binary` is reserved in MariaDB). */
export async function insertRows(url: DatabaseUrl, table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return;
  await withDatabase(url, async (h) => {
    const columns = Object.keys(rows[0] as Record<string, unknown>);
    const replacements: Record<string, unknown> = {};
    const values = rows.map((row, i) => {
      for (const c of columns) replacements[`${c}_${i}`] = row[c] ?? null;
      return `(${columns.map((c) => `:${c}_${i}`).join(', ')})`;
    });
    await h.sequelize.query(`INSERT INTO ${table} (${columns.map((c) => h.dialect.quoteIdentifier(c)).join(', ')}) VALUES ${values.join(', ')}`, {
      replacements,
    });
  });
}

/** The `cell_mappings.id` of a cell. */
export async function cellId(cloud: Pick<Cloud, 'api'>, uuid: string): Promise<number> {
  const rows = await query<{ id: number | string }>(cloud.api, 'SELECT id FROM cell_mappings WHERE uuid = :uuid', { uuid });
  if (!rows[0]) throw new Error(`no cell ${uuid}`);
  return Number(rows[0].id);
}

/** Maps `hosts` to a cell directly in the API database. */
export async function mapHosts(cloud: Pick<Cloud, 'api'>, cell: Cell, hosts: readonly string[]): Promise<void> {
  const id = await cellId(cloud, cell.uuid);
  await insertRows(cloud.api, 'host_mappings', hosts.map((host) => ({ cell_id: id, host })));
}

/** Maps instances to a cell (or to no cell: `cell` null) directly in the API database. */
export async function mapInstances(cloud: Pick<Cloud, 'api'>, cell: Cell | null, uuids: readonly string[]): Promise<void> {
  const id = cell === null ? null : await cellId(cloud, cell.uuid);
  await insertRows(cloud.api, 'instance_mappings', uuids.map((instance_uuid) => ({ instance_uuid, cell_id: id, project_id: 'project-1' })));
}

/** Every host mapping as `host → cell uuid`. */
export async function hostMappings(cloud: Pick<Cloud, 'api'>): Promise<Record<string, string>> {
  const rows = await query<{ host: string; uuid: string }>(
    cloud.api,
    'SELECT h.host, c.uuid FROM host_mappings h JOIN cell_mappings c ON c.id = h.cell_id ORDER BY h.host',
  );
  return Object.fromEntries(rows.map((r) => [r.host, r.uuid]));
}

/** `list_cells --verbose --json`, parsed: what the API database says about every cell. */
export interface ListedCell {
  readonly name: string | null;
  readonly uuid: string;
  readonly transport_url: string;
  readonly database_connection: string;
  readonly disabled: boolean;
}

export async function listedCells(cloud: Pick<Cloud, 'api'>): Promise<ListedCell[]> {
  const r = await runInProcess(['--api-db', cloud.api.raw, '--json', 'cell_v2', 'list_cells', '--verbose']);
  expectSuccess('list_cells', r);
  return JSON.parse(r.stdout) as ListedCell[];
}
