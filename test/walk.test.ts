// The walk: every migration of both lines applied one at a time, on both dialects, each followed
// by the check that proves it (test/migration-checks.ts). A migration without a check fails.
import test from 'ava';
import { ConnectionRegistry } from '../src/db/registry.js';
import { LINES, listMigrationFiles } from '../src/migrate/lines.js';
import { lineStatus, syncLine } from '../src/migrate/migrator.js';
import type { LineId } from '../src/migrate/types.js';
import { eachDialect, useDatabase } from './helpers/databases.js';
import { SchemaView, migrationChecks } from './migration-checks.js';

const config = { migrationLockWaitMs: 10_000, ddlLockTimeoutMs: 10_000, statementTimeoutMs: 60_000 };

for (const id of ['api', 'cell'] as const satisfies readonly LineId[]) {
  test(`${id} line: every migration has a check`, (t) => {
    const files = listMigrationFiles(LINES[id]);
    t.true(files.length > 0);
    const missing = files.filter((f) => !migrationChecks[id][f.name]).map((f) => f.name);
    t.deepEqual(missing, [], `migrations without a check in test/migration-checks.ts: ${missing.join(', ')}`);
    const stale = Object.keys(migrationChecks[id]).filter((name) => !files.some((f) => f.name === name));
    t.deepEqual(stale, [], `checks for migrations that do not exist: ${stale.join(', ')}`);
  });

  eachDialect(test, `${id} line: walk every migration one at a time and check the schema after each`, async (t, dialect) => {
    const url = await useDatabase(t, dialect, `walk_${id}`);
    const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs: 60_000 });
    try {
      const target = { registry, url, line: LINES[id], label: `walk ${id}`, config };
      const files = listMigrationFiles(LINES[id]);
      for (const file of files) {
        const result = await syncLine(target, file.name);
        t.deepEqual(result.applied, [file.name], `sync to ${file.name} applies exactly it`);
        const check = migrationChecks[id][file.name];
        if (!check) {
          t.fail(`no check for ${file.name}`);
          continue;
        }
        const handle = registry.open(url);
        const tables = await handle.dialect.describeSchema(handle.sequelize);
        t.notThrows(() => check(new SchemaView(tables)), `${dialect}: check after ${file.name}`);
      }
      const status = await lineStatus(target);
      t.is(status.current, status.head);
      t.deepEqual(status.problems, []);
      t.true(status.migrations.every((m) => m.state === 'applied'));
      // A second sync at head does nothing.
      t.deepEqual((await syncLine(target)).applied, []);
    } finally {
      await registry.close();
    }
  });
}
