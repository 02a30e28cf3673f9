// Every command's --json document, pinned (docs/json.md): the real binary against real databases on
// both dialects, one test per command, each comparing the document's key paths with the documented
// shape, and every key in snake_case. And --json failures: a JSON error document on stdout
// ({"error": {"code", "message", "exit_code"}}), for bad input, a database that cannot be reached,
// a cell that is not found, a cell still holding hosts and a blocker migration.
import test, { type ExecutionContext } from 'ava';
import { type Dialect, withDatabase } from '../src/url/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { type Cell, type Cloud, describeResult, insertRows, mapHosts, useCell, useCell0, useCloud } from './helpers/cells.js';
import { adminUrl, DIALECTS, dialectName } from './helpers/databases.js';

/**
 * The key paths of a JSON value: `a`, `a.b`, `list[]`, `list[].c` (the union over a list's items;
 * a value's type is not part of its shape). A top-level list is `[]`.
 */
export function shapeOf(value: unknown): string[] {
  const paths = new Set<string>();
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) {
      paths.add(`${at}[]`);
      for (const item of v) walk(item, `${at}[]`);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const path = at === '' ? k : `${at}.${k}`;
        paths.add(path);
        walk(child, path);
      }
    }
  };
  walk(value, '');
  return [...paths].sort();
}

/** Every key in a JSON value that is not snake_case. */
function nonSnakeKeys(value: unknown): string[] {
  const bad: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!/^[a-z0-9]+(_[a-z0-9]+)*$/.test(k)) bad.push(k);
        walk(child);
      }
    }
  };
  walk(value);
  return bad;
}

/** A cloud with cell0 and cell1 at head, a compute service and its node in cell1 (host mapped). */
interface Fixture {
  readonly cloud: Cloud;
  readonly cell0: Cell;
  readonly cell1: Cell;
}

const fixtures = new Map<Dialect, Promise<Fixture>>();

async function makeFixture(t: ExecutionContext<unknown>, dialect: Dialect): Promise<Fixture> {
  const cloud = await useCloud(t, dialect);
  const cell0 = await useCell0(t, cloud, { sync: true });
  const cell1 = await useCell(t, cloud, 'cell1', { sync: true });
  await insertRows(cell1.url, 'services', [{ host: 'compute-1', binary: 'nova-compute', topic: 'compute', report_count: 0, disabled: false, forced_down: false, version: 0, deleted: 0 }]);
  await insertRows(cell1.url, 'compute_nodes', [
    { host: 'compute-1', hypervisor_hostname: 'compute-1', vcpus: 1, memory_mb: 1, local_gb: 1, vcpus_used: 0, memory_mb_used: 0, local_gb_used: 0, hypervisor_type: 'qemu', cpu_info: '{}', deleted: 0 },
  ]);
  await mapHosts(cloud, cell1, ['compute-1']);
  return { cloud, cell0, cell1 };
}

// One fixture per dialect, made by the first test and dropped when the file ends.
test.before((t) => {
  for (const dialect of DIALECTS) if (adminUrl(dialect)) fixtures.set(dialect, makeFixture(t, dialect));
});

async function json(t: ExecutionContext<unknown>, dialect: Dialect, args: readonly string[]): Promise<{ result: CliResult; doc: unknown }> {
  const { cloud } = await (fixtures.get(dialect) as Promise<Fixture>);
  const result = await cloud.cli(['--json', ...args]);
  let doc: unknown;
  t.notThrows(() => {
    doc = JSON.parse(result.stdout);
  }, `stdout is one JSON document: ${describeResult(result)}`);
  t.deepEqual(nonSnakeKeys(doc), [], `every key is snake_case: ${result.stdout}`);
  return { result, doc };
}

/**
 * One command's shape test on every dialect: `args` (after `--json`) and the documented key paths.
 * Serial: some commands change the fixture the next ones read.
 */
/** Set to print each document's shape (when a documented shape changes, docs/json.md changes with it). */
const SHOW = process.env.CELLSDB_TEST_SHOW_SHAPES === '1';

function pins(title: string, args: (f: Fixture) => readonly string[], shape: readonly string[], exitCode = 0): void {
  for (const dialect of DIALECTS) {
    if (!adminUrl(dialect)) {
      test.skip(`${dialectName(dialect)}: ${title}`, () => undefined);
      continue;
    }
    test.serial(`${dialectName(dialect)}: --json ${title}`, async (t) => {
      const fixture = await (fixtures.get(dialect) as Promise<Fixture>);
      const { result, doc } = await json(t, dialect, args(fixture));
      t.is(result.code, exitCode, describeResult(result));
      if (SHOW) t.log(JSON.stringify(shapeOf(doc)));
      t.deepEqual(shapeOf(doc), [...shape].sort(), result.stdout);
    });
  }
}


const UNKNOWN_UUID = '6b0d9a53-2f4e-4a8e-9d4c-1c1e2f3a4b5c';

// Reads first (in docs/json.md's order), then the commands that change the fixture.
pins('api_db version', () => ['api_db', 'version'], ['database', 'head', 'line', 'number', 'version']);
pins('api_db status', () => ['api_db', 'status'], ['current', 'database', 'head', 'label', 'line', 'migrations', 'migrations[]', 'migrations[].applied_at', 'migrations[].name', 'migrations[].state', 'problems', 'problems[]']);
pins('api_db sync', () => ['api_db', 'sync'], ['applied', 'applied[]', 'database', 'from', 'line', 'to']);
pins('db version', () => ['db', 'version'], ['[]', '[].cell', '[].head', '[].number', '[].uuid', '[].version']);
pins('db status', () => ['db', 'status'], ['[]', '[].cell', '[].status', '[].status.current', '[].status.database', '[].status.head', '[].status.label', '[].status.line', '[].status.migrations', '[].status.migrations[]', '[].status.migrations[].applied_at', '[].status.migrations[].name', '[].status.migrations[].state', '[].status.problems', '[].status.problems[]', '[].uuid']);
pins('db sync', () => ['db', 'sync'], ['[]', '[].applied', '[].applied[]', '[].cell', '[].database', '[].from', '[].ms', '[].ok', '[].to', '[].uuid']);
pins('db sync --dry-run', () => ['db', 'sync', '--dry-run'], ['[]', '[].cell', '[].database', '[].dry_run', '[].from', '[].label', '[].line', '[].migrations', '[].migrations[]', '[].to', '[].uuid']);
pins('db online_data_migrations', () => ['db', 'online_data_migrations'], ['blocked', 'blocked[]', 'cells', 'cells[]', 'cells[].blocked', 'cells[].blocked[]', 'cells[].cell', 'cells[].cell_uuid', 'cells[].done', 'cells[].found', 'cells[].mover', 'dry_run', 'errors', 'errors[]', 'exit_code', 'migrations', 'migrations[]', 'migrations[].blocked', 'migrations[].completed', 'migrations[].name', 'migrations[].total_needed', 'pace', 'pace.concurrency', 'pace.decreases', 'pace.duty', 'pace.increases', 'pace.paused_seconds', 'pace.rows_per_second', 'pace.servers', 'pace.servers[]', 'pace.servers[].allowed_ms', 'pace.servers[].alone_seconds', 'pace.servers[].baseline_ms', 'pace.servers[].max_lock_waits', 'pace.servers[].p99_ms', 'pace.servers[].server', 'pace.state', 'pace.throttled_seconds']);
pins('cell_v2 list_cells', () => ['cell_v2', 'list_cells'], ['[]', '[].database_connection', '[].disabled', '[].name', '[].transport_url', '[].uuid']);
pins('cell_v2 list_hosts', () => ['cell_v2', 'list_hosts'], ['[]', '[].cell_name', '[].cell_uuid', '[].hostname']);
pins('cell_v2 discover_hosts', () => ['cell_v2', 'discover_hosts'], ['[]', '[].cell', '[].found', '[].found[]', '[].mapped', '[].mapped[]', '[].uuid']);
pins('cell_v2 verify_instance', () => ['cell_v2', 'verify_instance', '--uuid', UNKNOWN_UUID], ['cell', 'code', 'message', 'uuid'], 1);
pins('cell_v2 map_cell0', (f) => ['cell_v2', 'map_cell0', '--database_connection', f.cell0.url.raw], ['created', 'database_connection', 'name', 'uuid']);
pins('service list', () => ['service', 'list'], ['[]', '[].binary', '[].cell', '[].disabled_reason', '[].forced_down', '[].host', '[].last_heartbeat', '[].state', '[].status']);
pins('schema check', () => ['schema', 'check'], ['checks', 'checks[]', 'checks[].details', 'checks[].details[]', 'checks[].ms', 'checks[].name', 'checks[].status', 'checks[].subject', 'checks[].summary', 'databases', 'databases[]', 'databases[].current', 'databases[].database', 'databases[].drift', 'databases[].drift.allowed', 'databases[].drift.allowed[]', 'databases[].drift.drift', 'databases[].drift.drift[]', 'databases[].drift.expected', 'databases[].head', 'databases[].line', 'databases[].pending', 'databases[].pending[]', 'databases[].problems', 'databases[].problems[]', 'databases[].subject', 'exit_code', 'mode', 'summary', 'summary.error', 'summary.failed', 'summary.passed', 'summary.pending', 'summary.skipped']);
pins('schema lint', () => ['schema', 'lint'], ['allowed', 'allowed[]', 'allowed[].allowed', 'allowed[].allowed.by', 'allowed[].allowed.reason', 'allowed[].dialect', 'allowed[].file', 'allowed[].line', 'allowed[].message', 'allowed[].migration', 'allowed[].rule', 'allowed[].statement', 'checks', 'checks[]', 'checks[].details', 'checks[].details[]', 'checks[].ms', 'checks[].name', 'checks[].status', 'checks[].subject', 'checks[].summary', 'exit_code', 'findings', 'findings[]', 'rules', 'rules[]', 'rules[].dialects', 'rules[].dialects[]', 'rules[].id', 'rules[].summary', 'servers', 'servers[]', 'summary', 'summary.error', 'summary.failed', 'summary.passed', 'summary.pending', 'summary.skipped']);
pins('upgrade check', () => ['upgrade', 'check'], ['checks', 'checks[]', 'checks[].check', 'checks[].details', 'checks[].result', 'exit_code', 'name']);
pins('db resolve_compute_node --dry-run', () => ['db', 'resolve_compute_node', '--cell', 'cell1', '--id', '1', '--delete', '--dry-run'], ['action', 'before', 'before.deleted', 'before.host', 'before.hypervisor_hostname', 'before.id', 'before.service_id', 'database', 'dry_run']);
pins('service disable', () => ['service', 'disable', '--host', 'compute-1', '--binary', 'nova-compute', '--reason', 'test'], ['[]', '[].binary', '[].cell', '[].disabled_reason', '[].forced_down', '[].host', '[].state', '[].status']);
pins('service enable', () => ['service', 'enable', '--host', 'compute-1', '--binary', 'nova-compute'], ['[]', '[].binary', '[].cell', '[].disabled_reason', '[].forced_down', '[].host', '[].state', '[].status']);
pins('service force-down', () => ['service', 'force-down', '--host', 'compute-1', '--binary', 'nova-compute'], ['[]', '[].binary', '[].cell', '[].disabled_reason', '[].forced_down', '[].host', '[].state', '[].status']);
pins('cell_v2 update_cell', (f) => ['cell_v2', 'update_cell', '--cell_uuid', f.cell1.uuid, '--name', 'cell1'], ['disabled', 'name', 'uuid']);
pins('cell_v2 create_cell', (f) => ['cell_v2', 'create_cell', '--name', 'cell2', '--transport-url', 'none:///', '--database_connection', withDatabase(f.cell1.url, `${f.cell1.url.database}_2`).raw], ['disabled', 'name', 'uuid']);
pins('service delete', () => ['service', 'delete', '--host', 'compute-1', '--binary', 'nova-compute'], ['[]', '[].cell', '[].id']);

/** A failure under --json: one error document on stdout, nothing else there. */
function failsAs(title: string, args: (f: Fixture) => readonly string[], code: string, exitCode: number, raw = false): void {
  for (const dialect of DIALECTS) {
    if (!adminUrl(dialect)) {
      test.skip(`${dialectName(dialect)}: ${title}`, () => undefined);
      continue;
    }
    test.serial(`${dialectName(dialect)}: --json ${title}: an error document, exit ${exitCode}`, async (t) => {
      const fixture = await (fixtures.get(dialect) as Promise<Fixture>);
      const result = raw ? await runCli(['--json', ...args(fixture)]) : await fixture.cloud.cli(['--json', ...args(fixture)]);
      t.is(result.code, exitCode, describeResult(result));
      const doc = JSON.parse(result.stdout) as { error: { code: string; message: string; exit_code: number } };
      t.deepEqual(shapeOf(doc), ['error', 'error.code', 'error.exit_code', 'error.message']);
      t.is(doc.error.code, code);
      t.is(doc.error.exit_code, exitCode);
      t.true(doc.error.message.length > 0 && !doc.error.message.includes('\n'));
      t.is(result.stderr, '', 'the error is not repeated as text on stderr');
    });
  }
}

failsAs('bad input', () => ['cell_v2', 'list_cells', '--no-such-flag'], 'invalid_input', 127);
failsAs('a database that cannot be reached', () => ['--api-db', 'postgresql://cellsdb:secret@127.0.0.1:9/nope', '--connect-timeout', '5', 'cell_v2', 'list_cells'], 'database_unreachable', 1, true);
failsAs('a cell that is not found', () => ['cell_v2', 'delete_cell', '--cell_uuid', UNKNOWN_UUID], 'cell_not_found', 1);
failsAs('a cell that still has hosts', (f) => ['cell_v2', 'delete_cell', '--cell_uuid', f.cell1.uuid], 'hosts_mapped', 2);
failsAs('JSON log lines asked for without a log file', () => ['db', 'online_data_migrations', '--log-format', 'json', '--log-batches'], 'invalid_input', 127);
