// `npm test`: runs ava on the compiled tests. Uses the servers named by CELLSDB_TEST_PG_URL and
// CELLSDB_TEST_MYSQL_URL; without a PostgreSQL URL it starts an embedded PostgreSQL for the run,
// and without a MariaDB URL it says that the MariaDB tests are skipped.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = { ...process.env };
let embedded;
let dataDir;
if (!env.CELLSDB_TEST_PG_URL) {
  const { startEmbeddedPostgres } = await import('../dist/src/db/embedded.js');
  dataDir = mkdtempSync(join(tmpdir(), 'cellsdb-test-pg-'));
  const port = 56000 + Math.floor(Math.random() * 2000);
  process.stderr.write(`CELLSDB_TEST_PG_URL is not set: starting an embedded PostgreSQL on port ${port}\n`);
  embedded = await startEmbeddedPostgres({ dataDir, port, ephemeral: true });
  env.CELLSDB_TEST_PG_URL = embedded.urlFor('postgres').raw;
}
if (!env.CELLSDB_TEST_MYSQL_URL) {
  process.stderr.write('CELLSDB_TEST_MYSQL_URL is not set: the MariaDB tests are skipped\n');
}
// ava's package exports do not include its CLI entry point: run it by path.
const ava = fileURLToPath(new URL('../node_modules/ava/entrypoints/cli.mjs', import.meta.url));
const child = spawn(process.execPath, [ava, ...process.argv.slice(2)], { env, stdio: 'inherit' });
const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
if (embedded) {
  await embedded.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
