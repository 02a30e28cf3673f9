// Property-based tests of masking THROUGH THE REAL CLI (issue 14, issue 16 item 2): generated URLs of
// every supported scheme (postgresql, postgresql+psycopg2, mysql, mysql+pymysql, rabbit transport,
// multi-host transport), passwords drawn from the whole printable ASCII range plus literal
// percent-encodings, each character spelled raw or percent-encoded. Each case runs `node
// dist/src/cli/main.js` and asserts that the password (raw, as spelled, encoded, decoded, JSON-escaped,
// and any long piece of it) appears in no stream:
//   * `api_db version --api-db URL` (text, --json, --debug) against a refused port (127.0.0.1:1), the
//     real server of the URL's dialect (authentication refused / unknown database) and an unreachable
//     address (192.0.2.1, TEST-NET-1, with a short --connect-timeout);
//   * `cell_v2 map_cell0 --json`, `cell_v2 create_cell`, then `list_cells` (table and --json) and a
//     fan-out `db version` over the created cells, against a real API database on both dialects;
//   * URLs read from a config file (`[api_database] connection`, `[database] connection`).
// Plus a regression test for each defect of issue 14's adversarial run.
//
// Process spawns are slow on a loaded machine: by default about 55 CLI runs in all (the cases are
// drawn with a fixed seed, so CI runs the same ones every time). To run more, or other, cases:
//   CELLSDB_CLI_PROPERTY_RUNS=100 CELLSDB_PROPERTY_SEED=7 node test/run-tests.mjs dist/test/url-cli-property.test.js
// CELLSDB_CLI_PROPERTY_RUNS scales every group below (its default is 6). A failure prints the case.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { type Dialect, pyUnquote } from '../src/url/index.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { eachDialectLimited, useCloud } from './helpers/cells.js';
import { adminUrl } from './helpers/databases.js';

/** Cases per group (api_db version runs twice this many). @default 6 */
const RUNS = Number(process.env.CELLSDB_CLI_PROPERTY_RUNS ?? 6);
/** @default 20240616 */
const SEED = Number(process.env.CELLSDB_PROPERTY_SEED ?? 20240616);

/** The cases of one group: drawn with the fixed seed (offset per group, so that groups differ). */
function cases<T>(arbitrary: fc.Arbitrary<T>, n: number, offset: number): T[] {
  return fc.sample(arbitrary, { numRuns: n, seed: SEED + offset });
}

// ---------------------------------------------------------------------------------------------
// Generated passwords and their spellings

// Every password starts with 'Zq' and holds at least five characters: nothing the CLI prints
// otherwise holds 'Zq', so a leak cannot be a coincidence.
const MARK = 'Zq';
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const literalEncoding = fc.constantFrom('%41', '%2F', '%40', '%25', '%zz', '%2C', '%3A');
const passwordPiece = fc.oneof({ weight: 8, arbitrary: printable }, { weight: 1, arbitrary: literalEncoding });
const password = fc.array(passwordPiece, { minLength: 3, maxLength: 16 }).map((pieces) => MARK + pieces.join(''));

const percent = (c: string): string => Array.from(new TextEncoder().encode(c), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * The password as written in a URL: `mustEncode` characters percent-encoded (always '%', so that
 * the value decodes back to the password), others raw or encoded as `choices` say. With `strict`
 * off, nothing but '%' must be encoded: the URL may then be refused (and must still not leak).
 */
function spell(pw: string, mustEncode: ReadonlySet<string>, choices: readonly boolean[]): string {
  return Array.from(pw)
    .map((c, i) => (i >= MARK.length && (c === '%' || mustEncode.has(c) || (choices[i % choices.length] ?? false)) ? percent(c) : c))
    .join('');
}

const choices = fc.array(fc.boolean(), { minLength: 1, maxLength: 6 });
const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);

/** Every spelling of a secret that must not appear in any stream. */
function forms(pw: string, spelled: string): string[] {
  const out = new Set([pw, spelled, pyUnquote(spelled), encodeURIComponent(pw)]);
  for (const s of [...out]) out.add(JSON.stringify(s).slice(1, -1));
  // A long piece of it (the part after a ',' or a space, which a text masker once left visible).
  for (const piece of pw.split(/[,@/?#: ;"'\\]/)) if (piece.length >= 6) out.add(piece);
  return [...out].filter((s) => s.length >= MARK.length);
}

interface Generated {
  readonly url: string;
  /** Every form of every password it holds. */
  readonly secrets: readonly string[];
}

const DB_SCHEMES: Readonly<Record<Dialect, readonly string[]>> = { postgres: ['postgresql', 'postgresql+psycopg2'], mysql: ['mysql', 'mysql+pymysql'] };
// A password SQLAlchemy reads back whole: '@' and '?' encoded (the rest may stay raw).
const DB_MUST = new Set(['@', '?']);

/** A database URL of `dialect` at `hostPort` with a generated password (strict: parses back as generated). */
function dbUrl(dialect: Dialect, hostPort: fc.Arbitrary<string>, database: string): fc.Arbitrary<Generated> {
  return fc
    .record({ scheme: fc.constantFrom(...DB_SCHEMES[dialect]), user, password, choices, strict: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), hostPort })
    .map((g) => {
      const spelled = spell(g.password, g.strict ? DB_MUST : new Set(), g.choices);
      return { url: `${g.scheme}://${g.user}:${spelled}@${g.hostPort}/${database}`, secrets: forms(g.password, spelled) };
    });
}

// oslo.messaging splits the host list at ',' and ends it at '/', '?', '#'.
const TRANSPORT_MUST = new Set([',', '/', '?', '#', '[', ']']);
const transportEntry = fc.record({ user, password, choices, host: fc.constantFrom('mq1', 'mq2.example', '10.0.0.7'), port: fc.constantFrom('', ':5672') });

/** A rabbit transport URL, single- or multi-host. */
const transportUrl: fc.Arbitrary<Generated> = fc
  .record({ entries: fc.array(transportEntry, { minLength: 1, maxLength: 3 }), strict: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), vhost: fc.constantFrom('', 'nova', 'cell%2F1') })
  .map((g) => {
    const spelled = g.entries.map((e) => spell(e.password, g.strict ? TRANSPORT_MUST : new Set(), e.choices));
    return {
      url: `rabbit://${g.entries.map((e, i) => `${e.user}:${spelled[i]}@${e.host}${e.port}`).join(',')}/${g.vhost}`,
      secrets: g.entries.flatMap((e, i) => forms(e.password, spelled[i] as string)),
    };
  });

/** The server of a dialect's tests, as `host:port`. */
function serverOf(dialect: Dialect): string {
  const admin = adminUrl(dialect);
  return admin ? `${admin.host}:${admin.port}` : dialect === 'postgres' ? '127.0.0.1:5432' : '127.0.0.1:3306';
}

// ---------------------------------------------------------------------------------------------
// Running the CLI and looking for leaks

let spawns = 0;
let generated = 0;

async function cli(args: readonly string[]): Promise<CliResult> {
  spawns++;
  return runCli(args, { timeoutMs: 180_000 });
}

/** Fails the test if any stream of `result` holds any of `secrets`; says which case and where. */
function assertNoLeak(t: ExecutionContext, what: string, result: CliResult, secrets: readonly string[]): void {
  for (const [stream, text] of [
    ['stdout', result.stdout],
    ['stderr', result.stderr],
  ] as const) {
    const leaked = secrets.find((s) => text.includes(s));
    if (leaked !== undefined) t.fail(`${what}: ${stream} shows ${JSON.stringify(leaked)}:\n${text}`);
  }
}

test.after.always('generated cases run through the CLI', () => {
  // Read by people and CI logs: the figure the issue's closing note asks for.
  console.log(`url-cli-property: ${generated} generated cases, ${spawns} CLI runs (seed ${SEED}, CELLSDB_CLI_PROPERTY_RUNS=${RUNS})`);
});

// ---------------------------------------------------------------------------------------------
// api_db version against refused, real and unreachable servers

type Target = 'refused' | 'server' | 'unreachable';
const errorCase = fc
  .record({
    dialect: fc.constantFrom<Dialect>('postgres', 'mysql'),
    target: fc.oneof({ weight: 3, arbitrary: fc.constant<Target>('refused') }, { weight: 3, arbitrary: fc.constant<Target>('server') }, { weight: 1, arbitrary: fc.constant<Target>('unreachable') }),
    mode: fc.constantFrom('text', '--json', '--debug'),
  })
  .chain((g) => {
    const hostPort = g.target === 'refused' ? '127.0.0.1:1' : g.target === 'unreachable' ? '192.0.2.1:5432' : serverOf(g.dialect);
    return dbUrl(g.dialect, fc.constant(hostPort), 'cellsdb_no_such_db').map((url) => ({ ...g, ...url }));
  });

test.serial('api_db version: a generated URL against refused, real and unreachable servers leaks its password in no stream', async (t) => {
  for (const c of cases(errorCase, 2 * RUNS, 1)) {
    generated++;
    const r = await cli(['api_db', 'version', '--api-db', c.url, '--connect-timeout', '2', ...(c.mode === 'text' ? [] : [c.mode])]);
    t.not(r.code, 0, `${c.url} (${c.target}) exited 0`);
    assertNoLeak(t, `api_db version (${c.target}, ${c.mode}) ${JSON.stringify(c.url)}`, r, c.secrets);
  }
});

// ---------------------------------------------------------------------------------------------
// Config-file URLs

const configCase = fc.record({ api: dbUrl('postgres', fc.constant('127.0.0.1:1'), 'nova_api'), db: dbUrl('mysql', fc.constant('127.0.0.1:1'), 'nova'), mq: transportUrl });

test.serial('config-file URLs ([api_database], [database], [DEFAULT] transport_url) leak no password', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-url-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [i, c] of cases(configCase, RUNS, 2).entries()) {
    generated++;
    const file = join(dir, `nova-${i}.conf`);
    // oslo.config: '$' is escaped as '$$'; a '#' or ';' inside a value is no comment.
    const value = (url: string) => url.replaceAll('$', '$$$$');
    writeFileSync(file, `[DEFAULT]\ntransport_url = ${value(c.mq.url)}\n\n[api_database]\nconnection = ${value(c.api.url)}\n\n[database]\nconnection = ${value(c.db.url)}\n`);
    const args = i % 2 === 0 ? ['api_db', 'version', '--config-file', file, '--connect-timeout', '2'] : ['db', 'version', '--local-cell', '--config-file', file, '--connect-timeout', '2', '--json'];
    const r = await cli(args);
    t.not(r.code, 0, `${args.join(' ')} exited 0`);
    assertNoLeak(t, `${args.slice(0, 2).join(' ')} with ${JSON.stringify([c.api.url, c.db.url, c.mq.url])}`, r, [...c.api.secrets, ...c.db.secrets, ...c.mq.secrets]);
  }
});

// ---------------------------------------------------------------------------------------------
// map_cell0, create_cell, list_cells and a fan-out against a real API database

eachDialectLimited(test, 'map_cell0 --json, create_cell, list_cells (table and --json) and a fan-out db version leak no generated password', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const all: string[] = [];
  const offset = dialect === 'postgres' ? 10 : 20;
  // map_cell0: the first run maps cell0 (a refused port), later ones print the existing mapping.
  for (const c of cases(dbUrl(dialect, fc.constant('127.0.0.1:1'), 'nova_cell0'), Math.max(1, Math.ceil(RUNS / 4)), offset)) {
    generated++;
    all.push(...c.secrets);
    const r = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'map_cell0', '--json', '--database_connection', c.url]);
    assertNoLeak(t, `map_cell0 --json ${JSON.stringify(c.url)}`, r, all);
  }
  // create_cell: cells on a refused port and on the real server (an unknown database there).
  const cellCase = fc.record({
    db: fc.constantFrom('127.0.0.1:1', serverOf(dialect)).chain((hostPort) => dbUrl(dialect, fc.constant(hostPort), 'cellsdb_no_such_cell')),
    mq: transportUrl,
  });
  let created = 0;
  for (const [i, c] of cases(cellCase, RUNS, offset + 1).entries()) {
    generated++;
    all.push(...c.db.secrets, ...c.mq.secrets);
    const r = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'create_cell', '--name', `gen${i}`, '--transport-url', c.mq.url, '--database_connection', c.db.url, ...(i % 2 ? ['--json'] : [])]);
    if (r.code === 0) created++;
    assertNoLeak(t, `create_cell ${JSON.stringify([c.db.url, c.mq.url])}`, r, all);
  }
  t.true(created > 0, 'no generated cell was accepted: the listing would test nothing');
  for (const args of [['cell_v2', 'list_cells'], ['cell_v2', 'list_cells', '--json'], ['db', 'version', '--connect-timeout', '2']]) {
    const r = await cli(['--api-db', cloud.api.raw, ...args]);
    if (args[0] === 'cell_v2') t.is(r.code, 0, r.stderr);
    assertNoLeak(t, args.join(' '), r, all);
  }
});

// ---------------------------------------------------------------------------------------------
// Regressions: the defects of issue 14's adversarial run, each through the CLI

test.serial('regression: a comma in a password (api_db version, text and --json) is masked', async (t) => {
  const url = 'postgresql://nova:Zq9,SecretPw77@127.0.0.1:1/nova';
  for (const extra of [[], ['--json']]) {
    const r = await cli(['api_db', 'version', '--api-db', url, ...extra]);
    t.is(r.code, 1);
    assertNoLeak(t, `api_db version ${extra.join(' ')}`, r, ['Zq9,SecretPw77', 'SecretPw77']);
    t.regex(r.stderr + r.stdout, /postgresql:\/\/nova:\*\*\*\*@127\.0\.0\.1:1\/nova/);
  }
});

test.serial('regression: yargs echoing a URL ("Unknown argument", "Invalid values") shows it masked', async (t) => {
  const url = 'postgresql://nova:Zq9,SecretPw77@127.0.0.1:1/nova';
  const unknown = await cli(['api_db', 'version', url]);
  t.is(unknown.code, 127);
  assertNoLeak(t, 'Unknown argument', unknown, ['SecretPw77']);
  t.regex(unknown.stderr, /Unknown argument: postgresql:\/\/nova:\*\*\*\*@127\.0\.0\.1:1\/nova/);
  const invalid = await cli(['db', 'online_data_migrations', '--log-format', url]);
  t.is(invalid.code, 127);
  assertNoLeak(t, 'Invalid values', invalid, ['SecretPw77']);
  t.regex(invalid.stderr, /Invalid values/);
});

eachDialectLimited(test, 'regression: map_cell0 --json with a space in the password; create_cell with a comma and a quote; a template is shown as stored; the fan-out error line is not mangled', async (t, dialect) => {
  const cloud = await useCloud(t, dialect);
  const scheme = dialect === 'postgres' ? 'postgresql' : 'mysql+pymysql';
  const map = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'map_cell0', '--json', '--database_connection', `${scheme}://postgres:Zq9 SecretPw77@127.0.0.1:1/x`]);
  t.is(map.code, 0, map.stderr);
  t.is(JSON.parse(map.stdout).database_connection, `${scheme}://postgres:****@127.0.0.1:1/x`);
  const comma = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'create_cell', '--name', 'c1', '--transport-url', 'rabbit://nova:Sec,ret"Pw@mq7:5672/', '--database_connection', `${scheme}://nova@127.0.0.1:1/c1`]);
  // oslo.messaging reads the comma as a host separator: refused (127), or accepted: never shown.
  assertNoLeak(t, 'create_cell', comma, ['Sec,ret"Pw', 'ret"Pw', 'ret\\"Pw']);
  const template = '{scheme}://{username}:{password}@{hostname}:{port}/';
  const created = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'create_cell', '--name', 'c2', '--transport-url', template, '--database_connection', `${scheme}://nova:Zq-Pw-c2@127.0.0.1:1/c2`]);
  t.is(created.code, 0, created.stderr);
  const table = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'list_cells']);
  const json = await cli(['--api-db', cloud.api.raw, 'cell_v2', 'list_cells', '--json']);
  for (const r of [table, json, map]) assertNoLeak(t, 'list_cells', r, ['SecretPw77', 'Sec,ret"Pw', 'ret"Pw', 'ret\\"Pw', 'Zq-Pw-c2']);
  t.true(table.stdout.includes(template), table.stdout);
  t.is((JSON.parse(json.stdout) as Array<{ name: string; transport_url: string }>).find((c) => c.name === 'c2')?.transport_url, template);
  const fanOut = await cli(['--api-db', cloud.api.raw, 'db', 'version', '--connect-timeout', '2']);
  assertNoLeak(t, 'db version', fanOut, ['SecretPw77', 'Zq-Pw-c2']);
  // Each cell named once, through displayUrl: no '****@host' spliced into another URL.
  t.false(/\*\*\*\*@[^ )]*\*\*\*\*@/.test(fanOut.stdout + fanOut.stderr), fanOut.stderr);
  t.false(/@127\.0\.0\.1:[^ )]*@/.test(fanOut.stdout + fanOut.stderr), fanOut.stderr);
});
