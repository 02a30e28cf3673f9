// The parts of `schema check` and `schema lint` that need no database: reading SQL, the rules on
// statements written by hand (each rule's silent cases included), disable directives, the drift
// diff with its artefacts and planned removals, and the JUnit writer.
import test from 'ava';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { TableInfo } from '../src/db/dialect.js';
import type { LineId } from '../src/migrate/types.js';
import { shapeFromDatabase, shapeFromModels } from '../src/schema/artefacts.js';
import { diffSchemas } from '../src/schema/drift.js';
import { junitXml } from '../src/report/junit.js';
import { readDirectives } from '../src/schema/lint/directives.js';
import { DEFAULT_LINT_POLICY, linePolicy } from '../src/schema/lint/policy.js';
import { LINT_RULES } from '../src/schema/lint/rules/index.js';
import type { ProbeFacts } from '../src/schema/lint/types.js';
import { HEAD_MODELS } from '../src/schema/models.js';
import { type CheckResult, exitCodeOf } from '../src/report/checks.js';
import { parseStatement } from '../src/schema/lint/parse.js';
import { displayUrl, type Dialect } from '../src/url/index.js';

test('both dialects’ DDL is read: tables, actions, quoting, schema-qualified names', (t) => {
  t.deepEqual(parseStatement('CREATE TABLE IF NOT EXISTS `cell_mappings` (`id` INTEGER) ENGINE=InnoDB', 'mysql'), { kind: 'create-table', table: 'cell_mappings' });
  t.deepEqual(parseStatement('DROP TABLE IF EXISTS "a", "b"', 'postgres'), { kind: 'drop-table', tables: ['a', 'b'] });
  t.deepEqual(parseStatement('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "i" ON ONLY "public"."instances" ("uuid")', 'postgres'), {
    kind: 'create-index',
    table: 'instances',
    name: 'i',
    unique: true,
    concurrently: true,
  });
  t.deepEqual(parseStatement('DROP INDEX `fk_x` ON `compute_nodes`', 'mysql'), { kind: 'drop-index', name: 'fk_x', table: 'compute_nodes', concurrently: false });
  t.deepEqual(parseStatement('ALTER TABLE "public"."services" ADD COLUMN "last_seen_up" TIMESTAMP WITH TIME ZONE', 'postgres'), {
    kind: 'alter-table',
    table: 'services',
    actions: [{ kind: 'add-column', column: 'last_seen_up', notNull: false, hasDefault: false, references: false, check: false }],
  });
  const mariadb = parseStatement('ALTER TABLE `t` ADD `c` INT NOT NULL DEFAULT 0, DROP `d`, CHANGE `e` `e` BIGINT, CHANGE `f` `g` INT, MODIFY `h` TEXT, RENAME TO `u`', 'mysql');
  t.deepEqual(mariadb.kind === 'alter-table' ? mariadb.actions.map((a) => a.kind) : [], ['add-column', 'drop-column', 'alter-column', 'rename-column', 'alter-column', 'rename-table']);
  const pg = parseStatement(
    'ALTER TABLE ONLY t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES o (id) NOT VALID, DROP CONSTRAINT x, ALTER COLUMN b SET DATA TYPE bigint, RENAME COLUMN c TO d',
    'postgres',
  );
  t.deepEqual(pg.kind === 'alter-table' ? pg.actions.map((a) => a.kind) : [], ['add-constraint', 'drop-constraint', 'alter-column', 'rename-column']);
  t.like(pg.kind === 'alter-table' ? pg.actions[0] : {}, { constraint: 'foreign key', name: 'fk', notValid: true });
  t.like(pg.kind === 'alter-table' ? pg.actions[2] : {}, { typeChange: true });
  t.deepEqual(parseStatement('RENAME TABLE a TO b, c TO d', 'mysql'), { kind: 'rename-table', pairs: [['a', 'b'], ['c', 'd']] });
  t.deepEqual(parseStatement('SELECT COUNT(*) FROM instance_groups', 'postgres'), { kind: 'read' });
  t.deepEqual(parseStatement('INSERT INTO t VALUES (1)', 'mysql'), { kind: 'other' });
});

/** The messages of one rule on one statement. */
function fire(ruleId: string, sql: string, options: { dialect?: Dialect; line?: LineId; number?: number; newTables?: string[]; facts?: ProbeFacts; largeTables?: string[] } = {}): string[] {
  const rule = LINT_RULES.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  const line = options.line ?? 'cell';
  return rule.check({
    dialect: options.dialect ?? 'postgres',
    line,
    migration: { name: `${String(options.number ?? 7).padStart(4, '0')}_m`, number: options.number ?? 7 },
    statement: { sql, parsed: parseStatement(sql, options.dialect ?? 'postgres'), facts: options.facts },
    newTables: new Set(options.newTables ?? []),
    policy: linePolicy(DEFAULT_LINT_POLICY, line, options.largeTables),
  });
}

test('banned-drop: DROP TABLE and DROP COLUMN after the cut-off; silent before it and on a table made in the same migration', (t) => {
  t.is(fire('banned-drop', 'DROP TABLE IF EXISTS "instance_groups"').length, 1);
  t.is(fire('banned-drop', 'ALTER TABLE `widgets` DROP `legacy`', { dialect: 'mysql' }).length, 1);
  t.deepEqual(fire('banned-drop', 'DROP TABLE "x"', { number: 1 }), [], 'the baseline migration may do anything');
  t.deepEqual(fire('banned-drop', 'DROP TABLE "x"', { newTables: ['x'] }), []);
  t.deepEqual(fire('banned-drop', 'ALTER TABLE "x" DROP CONSTRAINT "fk"'), [], 'a constraint is neither a table nor a column');
  t.deepEqual(fire('banned-drop', 'DROP INDEX "i"'), []);
});

test('banned-alter: ALTER COLUMN, MODIFY, CHANGE and renames after the cut-off; adding is fine', (t) => {
  t.is(fire('banned-alter', 'ALTER TABLE "t" ALTER COLUMN "c" DROP NOT NULL').length, 1);
  t.is(fire('banned-alter', 'ALTER TABLE `t` MODIFY `c` BIGINT', { dialect: 'mysql' }).length, 1);
  t.is(fire('banned-alter', 'ALTER TABLE "t" RENAME TO "u"').length, 1);
  t.is(fire('banned-alter', 'RENAME TABLE a TO b', { dialect: 'mysql' }).length, 1);
  t.deepEqual(fire('banned-alter', 'ALTER TABLE "t" ADD COLUMN "c" INTEGER'), []);
  t.deepEqual(fire('banned-alter', 'ALTER TABLE "t" RENAME CONSTRAINT a TO b'), []);
});

test('pg-index-concurrently: only on large tables, only without CONCURRENTLY, unique constraints count', (t) => {
  t.is(fire('pg-index-concurrently', 'CREATE INDEX "i" ON "instances" ("host")').length, 1);
  t.is(fire('pg-index-concurrently', 'ALTER TABLE "instances" ADD CONSTRAINT "u" UNIQUE ("uuid")').length, 1);
  t.is(fire('pg-index-concurrently', 'CREATE INDEX "i" ON "instance_mappings" ("project_id")', { line: 'api' }).length, 1);
  t.deepEqual(fire('pg-index-concurrently', 'CREATE INDEX CONCURRENTLY "i" ON "instances" ("host")'), []);
  t.deepEqual(fire('pg-index-concurrently', 'ALTER TABLE "instances" ADD CONSTRAINT "u" UNIQUE USING INDEX "i"'), []);
  t.deepEqual(fire('pg-index-concurrently', 'CREATE INDEX "i" ON "compute_nodes" ("host")'), [], 'not a large table');
  t.is(fire('pg-index-concurrently', 'CREATE INDEX "i" ON "compute_nodes" ("host")', { largeTables: ['compute_nodes'] }).length, 1, '--large-table adds one');
  t.deepEqual(fire('pg-index-concurrently', 'CREATE INDEX "i" ON "instances" ("host")', { newTables: ['instances'] }), []);
});

test('pg-add-column-not-null: NOT NULL without a default only', (t) => {
  t.is(fire('pg-add-column-not-null', 'ALTER TABLE "w" ADD COLUMN "s" INTEGER NOT NULL').length, 1);
  t.deepEqual(fire('pg-add-column-not-null', 'ALTER TABLE "w" ADD COLUMN "s" INTEGER NOT NULL DEFAULT 0'), []);
  t.deepEqual(fire('pg-add-column-not-null', 'ALTER TABLE "w" ADD COLUMN "s" INTEGER DEFAULT NULL'), []);
  t.deepEqual(fire('pg-add-column-not-null', 'ALTER TABLE "w" ADD COLUMN "s" BIGSERIAL NOT NULL'), []);
  t.deepEqual(fire('pg-add-column-not-null', 'ALTER TABLE "w" ADD COLUMN "s" INTEGER NOT NULL', { newTables: ['w'] }), []);
});

test('pg-constraint-not-valid: foreign keys and checks without NOT VALID, inline ones too', (t) => {
  t.is(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD CONSTRAINT "fk" FOREIGN KEY ("o") REFERENCES "o" ("id")').length, 1);
  t.is(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD CONSTRAINT "ck" CHECK (weight >= 0)').length, 1);
  t.is(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD COLUMN "o" INTEGER REFERENCES "o" ("id")').length, 1);
  t.deepEqual(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD CONSTRAINT "fk" FOREIGN KEY ("o") REFERENCES "o" ("id") NOT VALID'), []);
  t.deepEqual(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD CONSTRAINT "ck" CHECK (weight >= 0) NOT VALID'), []);
  t.deepEqual(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD CONSTRAINT "u" UNIQUE ("a")'), []);
  t.deepEqual(fire('pg-constraint-not-valid', 'ALTER TABLE "w" ADD CONSTRAINT "fk" FOREIGN KEY ("o") REFERENCES "o" ("id")', { newTables: ['w'] }), []);
});

test('pg-table-rewrite and mariadb-online-alter go by what the server showed', (t) => {
  const sql = 'ALTER TABLE "w" ALTER COLUMN "weight" TYPE BIGINT';
  t.is(fire('pg-table-rewrite', sql, { facts: { rewrote: ['w'] } }).length, 1);
  t.deepEqual(fire('pg-table-rewrite', sql, { facts: { rewrote: [] } }), [], 'a same-type ALTER COLUMN TYPE rewrites nothing');
  t.deepEqual(fire('pg-table-rewrite', sql, { facts: undefined }), []);
  const my = 'ALTER TABLE `w` CHANGE `weight` `weight` BIGINT';
  const reason = 'LOCK=NONE is not supported. Reason: Cannot change column type. Try LOCK=SHARED';
  const fired = fire('mariadb-online-alter', my, { dialect: 'mysql', facts: { online: { instant: false, lockNone: false, reason } } });
  t.is(fired.length, 1);
  t.true(fired[0]?.includes(reason));
  t.deepEqual(fire('mariadb-online-alter', my, { dialect: 'mysql', facts: { online: { instant: false, lockNone: true, reason } } }), []);
  t.deepEqual(fire('mariadb-online-alter', my, { dialect: 'mysql', facts: { online: { instant: false, lockNone: false, reason } }, newTables: ['w'] }), []);
});

test('every rule names the dialects it reads, and ids are unique', (t) => {
  const ids = LINT_RULES.map((r) => r.id);
  t.is(new Set(ids).size, ids.length);
  t.deepEqual(LINT_RULES.filter((r) => r.id.startsWith('pg-')).flatMap((r) => r.dialects), ['postgres', 'postgres', 'postgres', 'postgres']);
  t.deepEqual(LINT_RULES.find((r) => r.id === 'mariadb-online-alter')?.dialects, ['mysql']);
});

test('disable directives need a known rule and a written reason', (t) => {
  const known = new Set(LINT_RULES.map((r) => r.id));
  const { directives, problems } = readDirectives(
    [
      '// cellsdb-lint-disable banned-drop, banned-alter: the table was never read by any release',
      '// cellsdb-lint-disable pg-index-concurrently',
      '// cellsdb-lint-disable no-such-rule: because I said so, at length',
      '// cellsdb-lint-disable banned-drop: ok',
      '// mention of cellsdb-lint-disable in prose is not a directive',
    ].join('\n'),
    known,
  );
  t.deepEqual(directives, [{ rules: ['banned-drop', 'banned-alter'], reason: 'the table was never read by any release', text: '// cellsdb-lint-disable banned-drop, banned-alter: the table was never read by any release' }]);
  t.is(problems.length, 3);
  t.regex(problems[0]?.message ?? '', /without a written reason/);
  t.regex(problems[1]?.message ?? '', /unknown rule no-such-rule/);
  t.regex(problems[2]?.message ?? '', /without a written reason/);
});

const pk = (table: string) => ({ name: table === 'x' ? 'PRIMARY' : `${table}_pkey`, columns: ['id'], unique: true, primary: true });

test('drift: dialect artefacts are not drift; a leftover FK index, a changed column and extras are', (t) => {
  const hostMappings: TableInfo = {
    name: 'host_mappings',
    columns: [
      { name: 'id', type: 'integer', nullable: false },
      { name: 'cell_id', type: 'integer', nullable: false },
      { name: 'host', type: 'string', nullable: false },
      { name: 'created_at', type: 'timestamp', nullable: true },
      { name: 'updated_at', type: 'timestamp', nullable: true },
    ],
    indexes: [
      { ...pk('x') },
      { name: 'uniq_host_mappings0host', columns: ['host'], unique: true, primary: false },
      // MariaDB's implicit index for the foreign key below.
      { name: 'fk_host_mappings_cell_id', columns: ['cell_id'], unique: false, primary: false },
    ],
    foreignKeys: [{ name: 'fk_host_mappings_cell_id', columns: ['cell_id'], referencedTable: 'cell_mappings', referencedColumns: ['id'] }],
  };
  const ledger: TableInfo = { name: 'cellsdb_migrations_api', columns: [{ name: 'name', type: 'string', nullable: false }], indexes: [], foreignKeys: [] };
  const declared = new Map([...shapeFromModels(HEAD_MODELS.api)].filter(([name]) => name === 'host_mappings'));

  t.deepEqual(diffSchemas('api', declared, shapeFromDatabase([hostMappings, ledger], 'mysql')).drift, [], 'MariaDB: implicit FK index and ledger table are artefacts');
  const onPostgres = diffSchemas('api', declared, shapeFromDatabase([hostMappings], 'postgres')).drift;
  t.deepEqual(onPostgres.map((d) => d.text), ['+ host_mappings.fk_host_mappings_cell_id: index (cell_id) (in the database, not expected)'], 'PostgreSQL never makes one');

  const drifted: TableInfo = {
    ...hostMappings,
    columns: hostMappings.columns.map((c) => (c.name === 'host' ? { ...c, type: 'text', nullable: true } : c)).concat([{ name: 'extra', type: 'integer', nullable: true }]),
    // The FK is gone but MariaDB's index stayed behind: that is drift (migration 0002 drops it for this reason).
    foreignKeys: [],
  };
  const texts = diffSchemas('api', declared, shapeFromDatabase([drifted], 'mysql')).drift.map((d) => d.text);
  t.deepEqual(texts, [
    '+ host_mappings.extra: column integer NULL (in the database, not expected)',
    '~ host_mappings.host: column expected string NOT NULL, the database has text NULL',
    '+ host_mappings.fk_host_mappings_cell_id: index (cell_id) (in the database, not expected)',
    '- host_mappings.fk_host_mappings_cell_id: foreign key (cell_id) → cell_mappings(id) (expected, missing from the database)',
  ]);
});

test('drift: a planned removal is reported as allowed, with its reason, and only for its line', (t) => {
  const declared = new Map([...shapeFromModels(HEAD_MODELS.cell)].filter(([name]) => name === 'instances'));
  const instances = declared.get('instances');
  if (!instances) throw new Error('instances is declared');
  const actual = new Map([
    ['instances', { ...instances, columns: new Map([...instances.columns, ['old_flag', { type: 'boolean', nullable: true }]]) }],
    ['legacy_stuff', { ...instances, name: 'legacy_stuff' }],
  ]);
  const removals = [
    { line: 'cell' as const, table: 'instances', column: 'old_flag', reason: 'dropped by 0009 once no peer reads it' },
    { line: 'cell' as const, table: 'legacy_stuff', reason: 'contract step 0010' },
  ];
  const report = diffSchemas('cell', declared, actual, removals);
  t.deepEqual(report.drift, []);
  t.deepEqual(report.allowed.map((a) => [a.item.text, a.reason]), [
    ['+ instances.old_flag: column boolean NULL (in the database, not expected)', 'dropped by 0009 once no peer reads it'],
    ['+ legacy_stuff: table with 10 columns (in the database, not expected)', 'contract step 0010'],
  ]);
  t.is(diffSchemas('api', declared, actual, removals).drift.length, 2, 'a removal planned on another line allows nothing');
});

test('JUnit: well-formed XML, one test case per check, statuses mapped, control characters and passwords kept out', (t) => {
  const checks: CheckResult[] = [
    { subject: "cell 'a'", name: 'pending migrations', status: 'pending', summary: '2 pending', details: ['0004', '0005'], ms: 5 },
    { subject: "cell 'a'", name: 'schema drift', status: 'failed', summary: 'bad <drift> & "quotes"\u0001', details: ['+ t.c'], ms: 7 },
    // Checks name URLs through displayUrl where they are built (issue 14): JUnit keeps them so.
    { subject: "cell 'b'", name: 'reachable', status: 'error', summary: `cannot reach ${displayUrl('mysql://nova:s3cret@db/nova')}`, details: [], ms: 1 },
    { subject: "cell 'b'", name: 'schema drift', status: 'skipped', summary: 'unreachable', details: [], ms: 0 },
    { subject: 'API database', name: 'ledger integrity', status: 'passed', summary: 'ok', details: [], ms: 2 },
  ];
  const xml = junitXml('cellsdb schema check', checks);
  t.true(XMLValidator.validate(xml) === true);
  t.false(xml.includes('s3cret'));
  t.true(xml.includes('mysql://nova:****@db/nova'));
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
    testsuites: { tests: string; failures: string; errors: string; skipped: string; testsuite: { testcase: Array<Record<string, unknown>> } };
  };
  t.like(doc.testsuites, { tests: '5', failures: '2', errors: '1', skipped: '1' });
  const cases = doc.testsuites.testsuite.testcase;
  t.is(cases.length, 5);
  t.like(cases[0], { classname: "cell 'a'", name: 'pending migrations', failure: { type: 'pending' } });
  t.truthy(cases[2]?.error);
  t.true('skipped' in (cases[3] ?? {}));
  t.false('failure' in (cases[4] ?? {}));
});

test('exit codes: failure over error over pending', (t) => {
  const c = (status: CheckResult['status']): CheckResult => ({ subject: 's', name: 'n', status, summary: '', details: [], ms: 0 });
  t.is(exitCodeOf([c('passed'), c('skipped')]), 0);
  t.is(exitCodeOf([c('passed'), c('pending')]), 1);
  t.is(exitCodeOf([c('pending'), c('error')]), 255);
  t.is(exitCodeOf([c('error'), c('failed'), c('pending')]), 2);
});
