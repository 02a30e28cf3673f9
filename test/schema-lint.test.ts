// `schema lint` through the real CLI on both dialects: every rule fires on the fixture migration
// made to trigger it (test/fixtures/lint/hazards), and the toolkit's own migrations are silent but
// for the hazards on the allow-list, each reported with its reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DEFAULT_LINT_POLICY } from '../src/schema/lint/policy.js';
import { describeResult } from './helpers/cells.js';
import { runCli } from './helpers/cli.js';
import { adminUrl, eachDialect } from './helpers/databases.js';
import { type CheckJson, junitCases, parseJson, ROOT } from './helpers/schema.js';

interface LintFinding {
  readonly rule: string;
  readonly dialect: string;
  readonly line: string;
  readonly migration: string;
  readonly file: string;
  readonly statement: string;
  readonly message: string;
  readonly allowed?: { readonly by: string; readonly reason: string };
}

interface LintJson {
  readonly exit_code: number;
  readonly findings: readonly LintFinding[];
  readonly allowed: readonly LintFinding[];
  readonly checks: readonly CheckJson[];
}

const FIXTURES = join(ROOT, 'dist', 'test', 'fixtures', 'lint', 'hazards');

/** `migration rule` pairs, sorted and without repeats. */
const pairs = (findings: readonly LintFinding[]): string[] => [...new Set(findings.map((f) => `${f.migration} ${f.rule}`))].sort();

eachDialect(test, "the toolkit's own migrations: exit 0; only the allow-listed hazards, each with its reason; JUnit one case per check", async (t, dialect) => {
  const server = adminUrl(dialect);
  if (!server) return t.fail('no server');
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-lint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const junit = join(dir, 'lint.xml');
  const result = await runCli(['schema', 'lint', '--scratch', server.raw, '--json', '--junit', junit]);
  t.is(result.code, 0, describeResult(result));
  const report = parseJson<LintJson>(t, result);
  t.deepEqual(report.findings, []);
  t.deepEqual(pairs(report.allowed), ['0002_compute_nodes_host_expand banned-alter', '0005_drop_legacy_instance_groups banned-drop']);
  for (const f of report.allowed) {
    const entry = DEFAULT_LINT_POLICY.allowed.find((a) => a.migration === f.migration && a.rules.includes(f.rule));
    t.deepEqual(f.allowed, { by: 'allow-list', reason: entry?.reason });
    t.is(f.line, 'cell');
  }
  // 0005 drops the three legacy tables; 0002 alters compute_nodes.service_id.
  t.deepEqual(
    report.allowed.filter((f) => f.rule === 'banned-drop').map((f) => /instance_group\w*/.exec(f.statement)?.[0]).sort(),
    ['instance_group_member', 'instance_group_policy', 'instance_groups'],
  );
  t.true(report.allowed.filter((f) => f.rule === 'banned-alter').every((f) => f.statement.includes('service_id')));
  const { cases } = junitCases(t, junit);
  t.is(cases.length, report.checks.length);
  t.true(cases.length >= 6 * 3, 'a case per migration and rule');
  t.true(cases.every((c) => c.failure === undefined && c.error === undefined));
  t.is(cases.filter((c) => c.skipped !== undefined).length, 2, 'the two allowed hazards are skipped cases');
});

const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  postgres: [
    '0002_index_without_concurrently pg-index-concurrently',
    '0003_add_not_null_column pg-add-column-not-null',
    '0004_foreign_key_without_not_valid pg-constraint-not-valid',
    '0005_change_column_type pg-table-rewrite',
    '0006_drop_column banned-drop',
    '0007_rename_column banned-alter',
    '0009_directive_without_reason banned-drop',
    '0009_directive_without_reason lint-directive',
  ],
  mysql: [
    '0004_foreign_key_without_not_valid mariadb-online-alter',
    '0005_change_column_type mariadb-online-alter',
    '0006_drop_column banned-drop',
    '0007_rename_column banned-alter',
    '0009_directive_without_reason banned-drop',
    '0009_directive_without_reason lint-directive',
  ],
};

eachDialect(test, 'each rule fires on the fixture migration made to trigger it: exit 2, rule id, file and statement', async (t, dialect) => {
  const server = adminUrl(dialect);
  if (!server) return t.fail('no server');
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-lint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const junit = join(dir, 'lint.xml');
  const result = await runCli(['--cell-migrations-dir', FIXTURES, 'schema', 'lint', '--line', 'cell', '--scratch', server.raw, '--json', '--junit', junit]);
  t.is(result.code, 2, describeResult(result));
  const report = parseJson<LintJson>(t, result);
  t.deepEqual(pairs(report.findings), [...(EXPECTED[dialect] ?? [])].sort());
  const byPair = (pair: string) => report.findings.find((f) => `${f.migration} ${f.rule}` === pair);
  t.true(byPair('0002_index_without_concurrently pg-index-concurrently')?.statement.includes('instances_host_idx') ?? dialect === 'mysql');
  t.true(byPair('0005_change_column_type mariadb-online-alter')?.message.includes('the server says') ?? dialect === 'postgres');
  const drop = byPair('0006_drop_column banned-drop');
  t.regex(drop?.statement ?? '', /DROP\s+(COLUMN\s+)?["`]legacy["`]/);
  t.true(drop?.file.endsWith(join('hazards', '0006_drop_column.js')), drop?.file);
  t.regex(byPair('0009_directive_without_reason lint-directive')?.message ?? '', /without a written reason/);

  // Disabled in the migration with a written reason: reported as allowed, with it.
  t.deepEqual(pairs(report.allowed), ['0005_change_column_type banned-alter', '0008_drop_table_allowed banned-drop']);
  t.true(report.allowed.every((f) => f.allowed?.by === 'directive' && f.allowed.reason.startsWith('fixture: ')));
  // The baseline migration alters only tables it has just created, and 0010 indexes the safe way:
  // nothing fires there, and the probe replayed everything (no check could not judge).
  t.false(report.findings.some((f) => f.migration === '0001_base' || f.migration === '0010_index_concurrently'));
  t.deepEqual(report.checks.filter((c) => c.status === 'error'), []);
  t.is(report.checks.filter((c) => c.subject.endsWith('0010_index_concurrently') && c.status === 'passed').length, report.checks.filter((c) => c.subject.endsWith('0010_index_concurrently')).length);

  const { cases } = junitCases(t, junit);
  t.is(cases.length, report.checks.length);
  const failing = cases.filter((c) => c.failure !== undefined).map((c) => `${c.classname.split('.').at(-1) ?? ''} ${c.name}`);
  t.deepEqual(failing.sort(), [...(EXPECTED[dialect] ?? [])].sort());
});

test('bad input exits 127 with one line; no server at all too', async (t) => {
  for (const args of [['schema', 'lint'], ['schema', 'lint', '--scratch', 'nonsense'], ['schema', 'lint', '--line', 'nope', '--scratch', 'postgresql://u@h/d']]) {
    const result = await runCli(args);
    t.is(result.code, 127, `${args.join(' ')}: ${describeResult(result)}`);
    t.is(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  }
});
