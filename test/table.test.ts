// The table renderer against PrettyTable's own output, as nova-manage's unit tests pin it
// (nova/tests/unit/cmd/test_manage.py), and oslo.upgradecheck's table; widths, wrapping, summaries
// and its cost on 10 000 rows. No database needed.
import test from 'ava';
import { renderTable, summarise, textWidth, wrapWords } from '../src/cli/table.js';
import { upgradeCheckCell, upgradeCheckJson } from '../src/cli/commands/upgrade/check.js';

const MAP0 = '3d7a0ea1-6b5c-4b1d-9a63-4f2f0a1b2c01';
const MAP1 = '8b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c02';
const MAP2 = 'c4d5e6f7-0819-4a2b-bc3d-4e5f6a7b8c03';
const NONE = 'f0e1d2c3-b4a5-4968-8776-655443322104';

test("Nova's test_list_cells_verbose_false: PrettyTable's layout to the character (centred, True/False)", (t) => {
  const out = renderTable(
    ['Name', 'UUID', 'Transport URL', 'Database Connection', 'Disabled'],
    [
      ['cell0', MAP0, 'none://user1:****@host1/', 'fake://user1:****@host1/db0', false],
      ['cell1', MAP1, 'none://user1@host1/vhost1', 'fake://user1@host1/db0', false],
    ],
  );
  t.is(
    out,
    `+-------+--------------------------------------+---------------------------+-----------------------------+----------+
|  Name |                 UUID                 |       Transport URL       |     Database Connection     | Disabled |
+-------+--------------------------------------+---------------------------+-----------------------------+----------+
| cell0 | ${MAP0} |  none://user1:****@host1/ | fake://user1:****@host1/db0 |  False   |
| cell1 | ${MAP1} | none://user1@host1/vhost1 |    fake://user1@host1/db0   |  False   |
+-------+--------------------------------------+---------------------------+-----------------------------+----------+`,
  );
});

test("Nova's test_list_cells_multiple_sorted_verbose_true: an empty name, True for a disabled cell", (t) => {
  const out = renderTable(
    ['Name', 'UUID', 'Transport URL', 'Database Connection', 'Disabled'],
    [
      ['', NONE, 'fake:///mqnone', 'fake:///dbnone', false],
      ['cell0', MAP0, 'none:///', 'fake:///db0', false],
      ['dallas', MAP2, 'fake:///mqdal', 'fake:///dbdal', false],
      ['london', MAP1, 'fake:///mqlon', 'fake:///dblon', true],
    ],
  );
  t.is(
    out,
    `+--------+--------------------------------------+----------------+---------------------+----------+
|  Name  |                 UUID                 | Transport URL  | Database Connection | Disabled |
+--------+--------------------------------------+----------------+---------------------+----------+
|        | ${NONE} | fake:///mqnone |    fake:///dbnone   |  False   |
| cell0  | ${MAP0} |    none:///    |     fake:///db0     |  False   |
| dallas | ${MAP2} | fake:///mqdal  |    fake:///dbdal    |  False   |
| london | ${MAP1} | fake:///mqlon  |    fake:///dblon    |   True   |
+--------+--------------------------------------+----------------+---------------------+----------+`,
  );
});

test("Nova's test_list_hosts: the host table", (t) => {
  const out = renderTable(
    ['Cell Name', 'Cell UUID', 'Hostname'],
    [
      ['london', MAP0, 'fake-host-1'],
      ['dallas', MAP1, 'fake-host-2'],
    ],
  );
  t.is(
    out,
    `+-----------+--------------------------------------+-------------+
| Cell Name |              Cell UUID               |   Hostname  |
+-----------+--------------------------------------+-------------+
|   london  | ${MAP0} | fake-host-1 |
|   dallas  | ${MAP1} | fake-host-2 |
+-----------+--------------------------------------+-------------+`,
  );
});

test('an empty table prints its header between rules, as PrettyTable does', (t) => {
  t.is(renderTable(['Cell Name', 'Cell UUID', 'Hostname'], []), [
    '+-----------+-----------+----------+',
    '| Cell Name | Cell UUID | Hostname |',
    '+-----------+-----------+----------+',
    '+-----------+-----------+----------+',
  ].join('\n'));
});

test('box drawing on request: the same layout with box characters', (t) => {
  t.is(renderTable(['a', 'bb'], [[true, 1]], { style: 'box' }), ['┌──────┬────┐', '│  a   │ bb │', '├──────┼────┤', '│ True │ 1  │', '└──────┴────┘'].join('\n'));
});

test('null and undefined print as empty cells; numbers as written', (t) => {
  t.is(renderTable(['x', 'y', 'z'], [[null, undefined, 42]]).split('\n')[3], '|   |   | 42 |');
});

test('multi-line cells: lines stacked at the top, each line centred (PrettyTable valign t)', (t) => {
  t.is(renderTable(['k', 'v'], [['a', 'one\ntwo lines']]), [
    '+---+-----------+',
    '| k |     v     |',
    '+---+-----------+',
    '| a |    one    |',
    '|   | two lines |',
    '+---+-----------+',
  ].join('\n'));
});

test('wide characters count two columns; combining marks none', (t) => {
  t.is(textWidth('日本'), 4);
  t.is(textWidth('e\u0301'), 1);
  const lines = renderTable(['名前'], [['ab']]).split('\n');
  t.true(lines.every((l) => textWidth(l) === textWidth(lines[0] as string)), lines.join('\n'));
});

test('a table wider than the width wraps its prose at spaces; single words (uuids, URLs) are never broken', (t) => {
  const prose = 'compute host cmp-0001 in cell cell1 has no host mapping: run cellsdb cell_v2 discover_hosts to map it';
  const url = 'postgresql://nova:****@db-with-a-rather-long-name.example.org:5432/nova_cell1';
  const out = renderTable(['Cell', 'Database', 'Details'], [['cell1', url, prose]], { width: 120 });
  const lines = out.split('\n');
  t.true(lines.every((l) => textWidth(l) <= 120), out);
  t.true(lines.some((l) => l.includes(url)), 'the URL is whole on one line');
  t.is(lines.filter((l) => l.startsWith('|')).length > 3, true, 'the details wrapped onto several lines');
  const words = lines.slice(3, -1).map((l) => (l.split('|')[3] as string).trim()).join(' ');
  t.is(words, prose, 'wrapping loses no word and reorders none');
  // Nothing to wrap: as wide as its content, whatever the width (a runbook's awk -F'|' still reads it).
  const narrow = renderTable(['UUID'], [[MAP0]], { width: 20 });
  t.true(narrow.includes(`| ${MAP0} |`), narrow);
});

test('the width follows what it is given: 80 by default, more on a wider terminal', (t) => {
  const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
  const at80 = renderTable(['Details'], [[long]]);
  const at140 = renderTable(['Details'], [[long]], { width: 140 });
  t.is(Math.max(...at80.split('\n').map(textWidth)), 80);
  t.is(Math.max(...at140.split('\n').map(textWidth)), 140);
});

test('summarise: the first ten and a count, or everything when asked', (t) => {
  const items = Array.from({ length: 25 }, (_, i) => `item ${i}`);
  const short = summarise(items);
  t.is(short.length, 11);
  t.deepEqual(short.slice(0, 10), items.slice(0, 10));
  t.is(short[10], '… and 15 more (all of them: --json or --verbose)');
  t.deepEqual(summarise(items, { all: true }), items);
  t.deepEqual(summarise(items.slice(0, 10)), items.slice(0, 10));
});

test("oslo.upgradecheck's table: one left-aligned column, a rule between checks, details wrapped at 60 and indented", (t) => {
  const results = [
    { name: 'Cells v2', result: 'Success' as const, details: [] },
    { name: 'Placement API', result: 'Failure' as const, details: ['There is no placement-api endpoint in the service catalog.'] },
  ];
  t.is(
    renderTable(['Upgrade Check Results'], results.map((r) => [upgradeCheckCell(r, false)]), { align: 'l', hrules: 'all' }),
    // The layout of oslo_upgradecheck/upgradecheck.py's own example table.
    `+---------------------------------------------------------------------+
| Upgrade Check Results                                               |
+---------------------------------------------------------------------+
| Check: Cells v2                                                     |
| Result: Success                                                     |
| Details: None                                                       |
+---------------------------------------------------------------------+
| Check: Placement API                                                |
| Result: Failure                                                     |
| Details: There is no placement-api endpoint in the service catalog. |
+---------------------------------------------------------------------+`,
  );
  t.deepEqual(wrapWords('a '.repeat(40).trim(), 20, '  '), ['a a a a a a a a a a', '  a a a a a a a a a', '  a a a a a a a a a', '  a a a a a a a a a', '  a a a']);
});

test("oslo.upgradecheck's JSON shape: name, and per check its name, its code and its details as one string or null", (t) => {
  const doc = upgradeCheckJson(
    [
      { name: 'Cells v2', result: 'Success', details: [] },
      { name: 'Hosts', result: 'Warning', details: ['one', 'two'] },
      { name: 'Schemas', result: 'Failure', details: ['three'] },
    ],
    2,
  );
  t.deepEqual(doc, {
    name: 'Upgrade Check Results',
    checks: [
      { check: 'Cells v2', result: 0, details: null },
      { check: 'Hosts', result: 1, details: 'one\ntwo' },
      { check: 'Schemas', result: 2, details: 'three' },
    ],
    exit_code: 2,
  });
});

/** Runs `work`, returning the CPU time it took (this process), which a loaded machine inflates far less than wall time. */
function cpuMs(work: () => void): { cpu: number; wall: number } {
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  work();
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (cpu.user + cpu.system) / 1000, wall: Number(process.hrtime.bigint() - wall0) / 1e6 };
}

test('10 000 rows render in linear time (well under two seconds of CPU; the figures are logged)', (t) => {
  const rows = Array.from({ length: 10_000 }, (_, i) => [
    'cell1',
    `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    `compute host 'cmp-${i}' in cell 'cell1' has no host mapping: run 'cellsdb cell_v2 discover_hosts' to map it`,
  ]);
  let out = '';
  const wide = cpuMs(() => (out = renderTable(['Cell', 'UUID', 'Details'], rows, { width: 120 })));
  t.log(`10 000 rows, wrapped at 120 columns: ${wide.cpu.toFixed(0)} ms CPU (${wide.wall.toFixed(0)} ms wall), ${out.length} characters`);
  t.true(out.split('\n').length > 20_000);
  // Generous: about 0.3 s on an idle machine; CPU time too grows on a machine this loaded.
  t.true(wide.cpu < 2000, `${wide.cpu} ms`);
});

test("an upgrade check's table with 10 000 unmapped hosts renders in linear time, all of them with --verbose, ten and a count without", (t) => {
  const details = [...Array.from({ length: 10_000 }, (_, i) => `compute host 'cmp-${i}' in cell 'cell1' has no host mapping`), "Run 'cellsdb cell_v2 discover_hosts' to map them."];
  const result = { name: 'Compute hosts mapped', result: 'Failure' as const, details };
  let verbose = '';
  const all = cpuMs(() => (verbose = renderTable(['Upgrade Check Results'], [[upgradeCheckCell(result, true)]], { align: 'l', hrules: 'all' })));
  t.log(`upgrade check, 10 000 detail lines (--verbose): ${all.cpu.toFixed(0)} ms CPU (${all.wall.toFixed(0)} ms wall)`);
  t.true(all.cpu < 2000, `${all.cpu} ms`);
  t.true(verbose.includes("| Details: compute host 'cmp-0' in cell 'cell1' has no host mapping"), verbose.slice(0, 400));
  t.true(verbose.includes("|   compute host 'cmp-9999' in cell 'cell1' has no host mapping"));
  const short = renderTable(['Upgrade Check Results'], [[upgradeCheckCell(result, false)]], { align: 'l', hrules: 'all' });
  // Header (3 lines), Check, Result, ten details, the summary, what to run, the bottom rule.
  t.is(short.split('\n').length, 3 + 2 + 10 + 1 + 1 + 1, short);
  t.regex(short, /\|   … and 9990 more \(all of them: --json or --verbose\) +\|\n\|   Run 'cellsdb cell_v2 discover_hosts' to map them\. +\|/);
});
