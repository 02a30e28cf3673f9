// The service-group API is the only path to service data (spec servicegroup-api-control-plane):
// no module outside src/servicegroup/ may read or write the `services` table, except the few on
// the allow-list below, each with its reason.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * SQL that touches the services table: FROM / JOIN / UPDATE / INTO services (quoted or not), or the
 * table named as a string (a query builder's or helper's table argument: `'services'`).
 */
const SERVICES_SQL = /\b(from|join|update|into)\s+[`"]?services[`"]?(?=[\s,;)`'"]|$)|(['"])services\2/i;

const ALLOWED: Readonly<Record<string, string>> = {
  'src/cells/resolve-compute-node.ts': 'the collision check of resolve_compute_node joins services as the compute-node mover does (nodes that will take their host from their service), in the transaction that sets the host (#15)',
  // Bulk, set-based backfill of compute_nodes.host: one statement per batch reads services.host;
  // going through the API row by row would make the mover thousands of times slower.
  'movers/compute-node-host.ts': 'the compute-node mover reads services.host in its set-based batch SQL',
  // Creates an old cloud's legacy rows in bulk for the demo, the tests and the benchmark.
  'src/demo/seed-legacy.ts': 'the legacy-data seeder writes services rows in bulk',
  // Names the table in the declared head schema that `schema check` compares databases with: a
  // declaration of its columns and keys, no SQL and no access to its rows.
  'src/schema/models.ts': 'the declared models name the services table (schema, not data)',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const scanned = ['src', 'movers'].flatMap((d) => sourceFiles(join(root, d))).map((p) => relative(root, p).split('\\').join('/'));

test('the pattern finds SQL on the services table, and only that', (t) => {
  t.true(SERVICES_SQL.test('SELECT host FROM services WHERE id = 1'));
  t.true(SERVICES_SQL.test('LEFT JOIN services s ON s.id = cn.service_id'));
  t.true(SERVICES_SQL.test('UPDATE `services` SET disabled = 1'));
  t.true(SERVICES_SQL.test('INSERT INTO "services" (host) VALUES (1)'));
  t.false(SERVICES_SQL.test('SELECT * FROM services_history'));
  t.true(SERVICES_SQL.test("insertChunks(db, 'services', columns, rows)"));
  t.false(SERVICES_SQL.test('the service-group API lists services for the cell'));
});

test('no module outside the service-group layer reads or writes the services table', (t) => {
  t.true(scanned.length > 20, 'the scan found the source files');
  const offenders = scanned.filter((file) => !file.startsWith('src/servicegroup/') && !(file in ALLOWED) && SERVICES_SQL.test(readFileSync(join(root, file), 'utf8')));
  t.deepEqual(offenders, [], `go through ServiceGroupApi instead (src/servicegroup/api.ts), or add the file to the allow-list with a reason: ${offenders.join(', ')}`);
});

test('the service-group layer does use the services table, and every allow-list entry still needs its place', (t) => {
  t.true(scanned.some((f) => f.startsWith('src/servicegroup/') && SERVICES_SQL.test(readFileSync(join(root, f), 'utf8'))));
  for (const file of Object.keys(ALLOWED)) {
    t.true(SERVICES_SQL.test(readFileSync(join(root, file), 'utf8')), `${file} no longer touches services: remove it from the allow-list`);
  }
});
