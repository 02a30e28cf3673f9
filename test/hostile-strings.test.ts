// Property-based tests of hostile strings (#14 item 7): generated text — control characters,
// newlines, quotes, backslashes, NUL where the server takes it (MariaDB; PostgreSQL refuses NUL in
// text), multibyte and astral characters, strings up to the columns' 255 characters — is copied
// byte for byte by the instance-group mover into the API database, read back unchanged through the
// InstanceGroup object, and printed by the CLI with its control characters escaped (JSON unchanged).
//
// The seed is fixed, so CI runs the same cases every time. To run more (or other) cases:
//   CELLSDB_PROPERTY_RUNS=20000 CELLSDB_PROPERTY_DB_RUNS=400 CELLSDB_PROPERTY_SEED=7 \
//     node test/run-tests.mjs dist/test/hostile-strings.test.js
// The pure properties run CELLSDB_PROPERTY_RUNS cases (default 1000) and shrink a failure; the
// database ones plant CELLSDB_PROPERTY_DB_RUNS generated groups per dialect (default 60), move them
// in one run, and name every value that did not survive.
import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { selectCells } from '../src/cells/fan-out.js';
import { targetCell } from '../src/cells/targeting.js';
import { ConnectionRegistry } from '../src/db/registry.js';
import { InstanceGroup, InstanceGroupList } from '../src/objects/index.js';
import { escapeControl, escapeControlKeepNewlines, escapeJsonText } from '../src/text/escape.js';
import type { Dialect } from '../src/url/index.js';
import { type Cell, eachDialectLimited, mapHosts, query, useCell, useCell0, useCloud } from './helpers/cells.js';
import { odm, plantCellGroup, show, useLegacyDeployment } from './helpers/movers.js';

/** Cases per pure property. @default 1000 */
const RUNS = Number(process.env.CELLSDB_PROPERTY_RUNS ?? 1000);
/** Generated groups per dialect for the database properties. @default 60 */
const DB_RUNS = Number(process.env.CELLSDB_PROPERTY_DB_RUNS ?? 60);
/** @default 20240616 */
const SEED = Number(process.env.CELLSDB_PROPERTY_SEED ?? 20240616);

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Characters an attacker would pick, weighted above the rest of Unicode. */
const NASTY = fc.constantFrom('\u001b', '\u0007', '\r', '\n', '\t', '\u0000', '\u009b', '\u202e', '\u2028', "'", '"', '`', '\\', '%', '_', ';', '--', '/*', ' ', 'é', 'ß', '日', '😀', '\u00a0', '\ufeff');
const nastyString = (maxChars: number) =>
  fc
    .array(fc.oneof({ weight: 3, arbitrary: NASTY }, { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 100, maxLength: 300 }) }), { maxLength: 24 })
    .map((parts) => Array.from(parts.join('')).slice(0, maxChars).join(''));

/** What a server stores in a text column: PostgreSQL refuses NUL in text, MariaDB keeps it. */
const storable = (dialect: Dialect) => (s: string) => (dialect === 'postgres' ? s.replace(/\u0000/g, '') : s);

function check<T>(t: ExecutionContext, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  fc.assert(fc.property(arbitrary, predicate), { numRuns: RUNS, seed: SEED });
  t.pass(`${RUNS} cases`);
}

// ---------------------------------------------------------------- the escape, pure

test('escapeControl leaves no control character, is idempotent, and changes nothing else', (t) => {
  check(t, nastyString(400), (s) => {
    const e = escapeControl(s);
    if (CONTROL.test(e)) throw new Error(`a control character survived: ${JSON.stringify(e)}`);
    if (e.includes('\n')) throw new Error('a newline survived');
    if (escapeControl(e) !== e) throw new Error(`not idempotent: ${JSON.stringify(s)}`);
    const plain = Array.from(s).filter((c) => !CONTROL.test(c)).join('');
    if (!CONTROL.test(s) && e !== s) throw new Error(`a string without control characters changed: ${JSON.stringify(s)}`);
    // Every character that is not a control is still there, in order.
    let i = 0;
    for (const c of Array.from(plain)) {
      const at = e.indexOf(c, i);
      if (at < 0) throw new Error(`'${c}' lost from ${JSON.stringify(s)}`);
      i = at + c.length;
    }
  });
});

test('escapeControlKeepNewlines keeps exactly the newlines; escapeJsonText is the same JSON value', (t) => {
  check(t, nastyString(400), (s) => {
    const kept = escapeControlKeepNewlines(s);
    if (CONTROL.test(kept.replace(/\n/g, ''))) throw new Error(`a control character survived: ${JSON.stringify(kept)}`);
    if (kept.split('\n').length !== s.split('\n').length) throw new Error('newlines not kept one for one');
    const json = escapeJsonText(JSON.stringify({ s }, null, 2));
    if (CONTROL.test(json.replace(/\n/g, ''))) throw new Error(`raw control character in JSON text: ${JSON.stringify(json)}`);
    if ((JSON.parse(json) as { s: string }).s !== s) throw new Error(`JSON value changed: ${JSON.stringify(s)}`);
  });
});

// ---------------------------------------------------------------- the mover and the objects, both dialects

interface Planted {
  readonly uuid: string;
  readonly name: string;
  readonly user_id: string;
  readonly project_id: string;
  readonly policy: string;
  readonly member: string;
}

eachDialectLimited(test, `hostile strings in every column the instance-group mover copies arrive byte for byte, and read back through the objects (${DB_RUNS} generated groups)`, async (t, dialect) => {
  const keep = storable(dialect);
  const field = nastyString(255).map(keep);
  const generated = fc.sample(fc.record({ name: field, user_id: field, project_id: field, policy: field, member: field }), { numRuns: DB_RUNS, seed: SEED });
  const d = await useLegacyDeployment(t, dialect, ['cell1', 'cell2']);
  const planted: Planted[] = [];
  for (const [i, g] of generated.entries()) {
    const uuid = randomUUID();
    // A second policy and member of plain text beside the hostile one: the row order must not matter.
    await plantCellGroup((d.cells[i % 2] as Cell).url, { uuid, name: g.name, user_id: g.user_id, project_id: g.project_id }, [g.policy, `p-${uuid}`], [g.member, `m-${uuid}`]);
    planted.push({ uuid, ...g });
  }
  const r = await odm(d.cloud, ['--batch-size', '7']);
  t.is(r.code, 0, show(r));

  const rows = await query<{ uuid: string; name: string; user_id: string; project_id: string; name_bytes: number | string }>(
    d.cloud.api,
    'SELECT uuid, name, user_id, project_id, OCTET_LENGTH(name) AS name_bytes FROM instance_groups',
  );
  const children = await query<{ uuid: string; policy: string | null; member: string | null; kind: string }>(
    d.cloud.api,
    `SELECT g.uuid, p.policy, NULL AS member, 'p' AS kind FROM instance_group_policy p JOIN instance_groups g ON g.id = p.group_id
     UNION ALL SELECT g.uuid, NULL AS policy, m.instance_uuid AS member, 'm' AS kind FROM instance_group_member m JOIN instance_groups g ON g.id = m.group_id`,
  );
  const byUuid = new Map(rows.map((row) => [row.uuid, row]));
  const bad: string[] = [];
  for (const p of planted) {
    const row = byUuid.get(p.uuid);
    if (!row) {
      bad.push(`${p.uuid}: not in the API database`);
      continue;
    }
    for (const f of ['name', 'user_id', 'project_id'] as const) if (row[f] !== p[f]) bad.push(`${p.uuid}.${f}: ${JSON.stringify(p[f])} became ${JSON.stringify(row[f])}`);
    if (Number(row.name_bytes) !== Buffer.byteLength(p.name, 'utf8')) bad.push(`${p.uuid}.name: ${Buffer.byteLength(p.name, 'utf8')} bytes became ${String(row.name_bytes)}`);
    const policies = children.filter((c) => c.uuid === p.uuid && c.kind === 'p').map((c) => c.policy);
    const members = children.filter((c) => c.uuid === p.uuid && c.kind === 'm').map((c) => c.member);
    if (JSON.stringify([...policies].sort()) !== JSON.stringify([p.policy, `p-${p.uuid}`].sort())) bad.push(`${p.uuid}.policies: ${JSON.stringify(policies)}`);
    if (JSON.stringify([...members].sort()) !== JSON.stringify([p.member, `m-${p.uuid}`].sort())) bad.push(`${p.uuid}.members: ${JSON.stringify(members)}`);
  }
  t.deepEqual(bad, [], `${bad.length} of ${planted.length} groups changed on the way`);
  t.is(rows.length, planted.length);

  // Through the objects: getAll and getByUuid give the same strings back.
  const registry = new ConnectionRegistry({ max: 4, connectTimeoutMs: 60_000 });
  t.teardown(() => registry.close());
  const api = registry.open(d.cloud.api);
  const ctx = { api, cells: (await selectCells(api)).map((cell) => ({ cell, db: targetCell(registry, cell) })) };
  const listed = new Map((await InstanceGroupList.getAll(ctx)).map((g) => [g.get('uuid'), g]));
  for (const p of planted) {
    const g = listed.get(p.uuid);
    t.is(g?.get('name'), p.name);
    t.deepEqual([...(g?.get('members') ?? [])].sort(), [p.member, `m-${p.uuid}`].sort());
  }
  // And written by the object: a new group with hostile fields reads back the same.
  for (const p of planted.slice(0, 10)) {
    const fresh = new InstanceGroup().update({ uuid: randomUUID(), user_id: p.user_id, project_id: p.project_id, name: p.name, policies: [p.policy], members: [p.member] });
    await fresh.create(ctx);
    const back = await InstanceGroup.getByUuid(ctx, fresh.get('uuid'));
    t.deepEqual([back?.get('name'), back?.get('user_id'), back?.get('project_id'), back?.get('policies'), back?.get('members')], [p.name, p.user_id, p.project_id, [p.policy], [p.member]]);
  }
});

// ---------------------------------------------------------------- the CLI, both dialects

eachDialectLimited(test, `hostile host names through list_hosts: one table row each, no control character on the terminal, JSON unchanged (${DB_RUNS} generated hosts)`, async (t, dialect) => {
  const keep = storable(dialect);
  // Host names are unique under the column's collation: make each distinct by a numbered prefix.
  const hosts = fc.sample(nastyString(200).map(keep), { numRuns: DB_RUNS, seed: SEED }).map((h, i) => `h${String(i).padStart(4, '0')}-${h}`);
  const cloud = await useCloud(t, dialect);
  await useCell0(t, cloud);
  const cell = await useCell(t, cloud, 'cell1');
  await mapHosts(cloud, cell, hosts);

  const text = await cloud.cli(['cell_v2', 'list_hosts']);
  t.is(text.code, 0, show(text));
  for (const [name, out] of [
    ['stdout', text.stdout],
    ['stderr', text.stderr],
  ] as const) {
    const bad = Array.from(out).filter((c) => c !== '\n' && CONTROL.test(c));
    t.deepEqual(bad.map((c) => c.codePointAt(0)), [], `raw control characters on ${name}`);
  }
  // One row per host: every host's escaped form on one line, and as many data lines as hosts.
  const dataLines = text.stdout.split('\n').filter((l) => / h\d{4}-/.test(l));
  t.is(dataLines.length, hosts.length, 'a newline in a host name drew no line of its own');

  const json = await cloud.cli(['--json', 'cell_v2', 'list_hosts']);
  t.is(json.code, 0, show(json));
  t.false(Array.from(json.stdout).some((c) => c !== '\n' && CONTROL.test(c)), 'no raw control character in the JSON text');
  const listed = (JSON.parse(json.stdout) as Array<{ hostname: string }>).map((h) => h.hostname).sort();
  t.deepEqual(listed, [...hosts].sort(), 'the JSON values are the host names, byte for byte');
});
