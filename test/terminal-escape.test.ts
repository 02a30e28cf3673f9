// Terminal injection (#14 item 6): values from the databases reach people's terminals through the
// real CLI with their control characters escaped — no raw ESC, BEL or CR on stdout or stderr, and an
// embedded newline never draws a line of its own — while `--json` keeps the value itself.
import test, { type ExecutionContext } from 'ava';
import { type Cell, eachDialectLimited, insertRows, mapHosts, useCell, useCell0, useCloud } from './helpers/cells.js';
import type { CliResult } from './helpers/cli.js';
import { odm, show, useLegacyDeployment } from './helpers/movers.js';

/** A value that would recolour the terminal, set its title, ring, go back to column 0 and forge a line. */
const hostile = (tag: string): string => `${tag}\u001b[31mRED\u001b]0;pwned\u0007\rOVER\nFORGED-${tag}\u009b2J\u202eevil`;

/** What the escaped form of {@link hostile} shows. */
const escaped = (tag: string): string => `${tag}\\e[31mRED\\e]0;pwned\\x07\\rOVER\\nFORGED-${tag}\\x9b2J\\u{202e}evil`;

/** No raw control character but the newlines between lines, in either stream. */
function assertClean(t: ExecutionContext, r: CliResult, what: string): void {
  for (const [name, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    t.false(text.includes('\u001b'), `${what}: raw ESC on ${name}:\n${JSON.stringify(text)}`);
    t.false(text.includes('\u0007'), `${what}: raw BEL on ${name}`);
    t.false(text.includes('\r'), `${what}: raw CR on ${name}`);
    t.false(text.includes('\u009b'), `${what}: raw CSI on ${name}`);
    t.false(text.includes('\u202e'), `${what}: raw bidi override on ${name}`);
    t.false(/^\W*FORGED-/m.test(text), `${what}: a newline in a value drew a line of its own on ${name}:\n${text}`);
  }
}

eachDialectLimited(test, 'hostile hypervisor_hostname in a blocked row: the table and the lines escape it; --json keeps it', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  const cell = d.cells[0] as Cell;
  const name = hostile('node');
  await insertRows(cell.url, 'compute_nodes', [{ vcpus: 1, service_id: 1_999_999_999, host: null, hypervisor_hostname: name, memory_mb: 1, local_gb: 1, created_at: new Date(), deleted: 0 }]);

  const text = await odm(d.cloud);
  t.is(text.code, 3, show(text));
  assertClean(t, text, 'online_data_migrations');
  t.true(text.stdout.includes(escaped('node')), text.stdout);

  const json = await odm(d.cloud, ['--json']);
  t.is(json.code, 3, show(json));
  assertClean(t, json, 'online_data_migrations --json');
  const report = JSON.parse(json.stdout) as { blocked: Array<{ reason: string }> };
  t.true(report.blocked[0]?.reason.includes(name), 'the JSON value is the hostname itself');

  const sync = await d.cloud.cli(['db', 'sync']);
  t.is(sync.code, 1, show(sync));
  assertClean(t, sync, 'db sync over the blocker');
});

eachDialectLimited(test, 'hostile host names, cell names and service fields: list_hosts, list_cells, service list, db version and errors escape them', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud, { sync: true });
  const cell = await useCell(t, cloud, 'plain', { sync: true });
  await mapHosts(cloud, cell, [hostile('host')]);
  // A cell whose name is hostile, created through the CLI as an operator (or an attacker with the flag) would.
  const named = await cloud.cli(['cell_v2', 'create_cell', '--name', hostile('cell'), '--transport-url', 'rabbit://u:p@mq-x:5672/', '--database_connection', cell.url.raw.replace(/\/[^/]*$/, '/other_db')]);
  t.is(named.code, 0, show(named));
  await insertRows(cell.url, 'services', [
    { host: hostile('svc'), binary: 'nova-compute', topic: 'compute', report_count: 0, disabled: true, disabled_reason: hostile('reason'), created_at: new Date(), deleted: 0 },
  ]);

  const hosts = await cloud.cli(['cell_v2', 'list_hosts']);
  t.is(hosts.code, 0, show(hosts));
  assertClean(t, hosts, 'list_hosts');
  t.true(hosts.stdout.includes(escaped('host')), hosts.stdout);

  const cells = await cloud.cli(['cell_v2', 'list_cells']);
  t.is(cells.code, 0, show(cells));
  assertClean(t, cells, 'list_cells');
  t.true(cells.stdout.includes(escaped('cell')), cells.stdout);

  const services = await cloud.cli(['service', 'list']);
  assertClean(t, services, 'service list');
  t.true(services.stdout.includes(escaped('svc')), services.stdout);
  t.true(services.stdout.includes(escaped('reason')), services.stdout);

  const enable = await cloud.cli(['service', 'enable', '--host', hostile('svc'), '--binary', 'nova-compute']);
  assertClean(t, enable, 'service enable');

  const versions = await cloud.cli(['db', 'version']);
  assertClean(t, versions, 'db version (one cell unreachable: its error in the table, the summary on stderr)');

  // Errors that echo a value given on the command line: one line, escaped.
  const unknown = await cloud.cli(['db', 'sync', '--cell', hostile('arg')]);
  t.is(unknown.code, 127, show(unknown));
  assertClean(t, unknown, 'db sync --cell <hostile>');
  t.is(unknown.stderr.split('\n').length, 2, 'one line on stderr');

  const json = await cloud.cli(['--json', 'cell_v2', 'list_hosts']);
  assertClean(t, json, 'list_hosts --json');
  t.true((JSON.parse(json.stdout) as Array<{ hostname: string }>).some((h) => h.hostname === hostile('host')), 'the JSON value is the host itself');
});
