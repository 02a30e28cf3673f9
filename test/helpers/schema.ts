// Helpers for the schema check, lint, SQL preview and upgrade check suites.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { TableInfo } from '../../src/db/dialect.js';
import { ConnectionRegistry } from '../../src/db/registry.js';
import { Ledger, type LedgerRow } from '../../src/migrate/ledger.js';
import { LINES } from '../../src/migrate/lines.js';
import { type DatabaseUrl, withDatabase } from '../../src/url/index.js';
import type { CliResult } from './cli.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A folder of the test's own holding a copy of compiled migrations, removed after the test. Its
 * parent is an ESM package with node_modules and the compiled src/ linked, so that a migration's
 * imports (`sequelize`, `../src/errors.js`) resolve to the very modules the CLI loads.
 */
export function copyMigrations(t: ExecutionContext<unknown>, compiledDir: string): string {
  const root = mkdtempSync(join(tmpdir(), 'cellsdb-schema-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  symlinkSync(join(ROOT, 'dist', 'src'), join(root, 'src'), 'dir');
  const dir = join(root, 'migrations');
  mkdirSync(dir);
  for (const f of readdirSync(compiledDir).filter((name) => /^\d{4}_[a-z0-9_]+\.js$/.test(name))) copyFileSync(join(compiledDir, f), join(dir, f));
  return dir;
}

/** Runs statements on `url`, outside every cellsdb command. */
export async function execSql(url: DatabaseUrl, ...statements: string[]): Promise<void> {
  const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  try {
    const handle = registry.open(url);
    for (const sql of statements) await handle.sequelize.query(sql);
  } finally {
    await registry.close();
  }
}

/** Tables (with columns, indexes, keys) and both ledgers of a database: to prove a command wrote nothing. */
export async function snapshot(url: DatabaseUrl): Promise<{ tables: readonly TableInfo[]; ledgers: Record<string, readonly LedgerRow[]> }> {
  const registry = new ConnectionRegistry({ max: 1, connectTimeoutMs: 60_000 });
  try {
    const handle = await registry.connect(url);
    const tables = await handle.dialect.describeSchema(handle.sequelize);
    const ledgers: Record<string, readonly LedgerRow[]> = {};
    for (const line of Object.values(LINES)) ledgers[line.id] = await new Ledger(handle.sequelize, line.ledgerTable).rows();
    return { tables, ledgers };
  } finally {
    await registry.close();
  }
}

/** A command's JSON document; fails the test with the command's output when it is not JSON. */
export function parseJson<T>(t: ExecutionContext<unknown>, result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    t.fail(`not JSON: exit ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    throw new Error('not JSON');
  }
}

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly failure?: { readonly type: string; readonly message: string };
  readonly error?: unknown;
  readonly skipped?: unknown;
}

/** Reads a JUnit file with an XML parser of its own (not the writer's library): validates it and returns its test cases. */
export function junitCases(t: ExecutionContext<unknown>, path: string): { tests: number; cases: JunitCase[] } {
  const xml = readFileSync(path, 'utf8');
  const valid = XMLValidator.validate(xml);
  t.true(valid === true, `the JUnit file is well-formed XML: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(xml) as {
    testsuites: { tests: string; testsuite: { tests: string; testcase?: JunitCase[] } };
  };
  const cases = doc.testsuites.testsuite.testcase ?? [];
  t.is(Number(doc.testsuites.tests), cases.length, 'the tests attribute counts the test cases');
  return { tests: Number(doc.testsuites.tests), cases };
}

/** The check results of a `schema check --json` document. */
export interface CheckJson {
  readonly subject: string;
  readonly name: string;
  readonly status: string;
  readonly summary: string;
  readonly details: readonly string[];
}

/** The status of one check, by subject and name. */
export function statusOf(checks: readonly CheckJson[], subject: string, name: string): string | undefined {
  return checks.find((c) => c.subject === subject && c.name === name)?.status;
}

/** A database URL on the same server that names a database that does not exist. */
export function missingDatabase(url: DatabaseUrl): string {
  return withDatabase(url, 'cellsdb_no_such_database_x').raw;
}
