// Every error names its cause (issue 15): the driver errors that arrived with an empty message
// ("failed on cell 'cell1':  (url)") become a message with the server's text or, failing any, the
// error's name and code; an error of the API database met during a cell's work names the API
// database; a migration failure names the line, the database and the migration.
import test from 'ava';
import { DatabaseTimeoutError, MigrationFailedError } from '../src/errors.js';
import { driverMessage, isRetryableConflict, translateDriverError, translateOnDatabase } from '../src/db/translate-error.js';
import { migrationFailure } from '../src/migrate/apply.js';
import { LINES } from '../src/migrate/lines.js';
import { parseDatabaseUrl } from '../src/url/index.js';

/** What Sequelize's UnknownConstraintError looks like on MariaDB: its `original` has no message. */
function emptyOriginal(): Error {
  const original = Object.assign(new Error(''), { errno: 1091, code: 'ER_CANT_DROP_FIELD_OR_KEY' });
  return Object.assign(new Error('Constraint fk_compute_nodes_service_id on table compute_nodes does not exist'), { name: 'SequelizeUnknownConstraintError', original, parent: original });
}

test('an empty driver message takes the nearest message up the chain', (t) => {
  const e = translateDriverError(emptyOriginal(), 'mysql://nova:****@db/cell1');
  t.is(e.message, 'Constraint fk_compute_nodes_service_id on table compute_nodes does not exist (mysql://nova:****@db/cell1)');
  t.is(driverMessage(emptyOriginal()), 'Constraint fk_compute_nodes_service_id on table compute_nodes does not exist');
});

test('mysql2 sqlMessage is used when message is empty; with no text at all, the name and code', (t) => {
  const sql = Object.assign(new Error(''), { sqlMessage: "Duplicate key name 'uniq_cell_mappings0uuid'", errno: 1061 });
  t.regex(translateDriverError(sql, 'X').message, /^Duplicate key name 'uniq_cell_mappings0uuid' \(X\)$/);
  const bare = Object.assign(new Error(''), { code: 'EWHATEVER' });
  t.regex(translateDriverError(bare, 'X').message, /^Error \(code EWHATEVER\) without a message \(X\)$/);
  t.regex(translateDriverError('', 'X').message, /without a message/);
});

test('an error on the API database during a cell batch names the API database; lock conflicts stay retryable', (t) => {
  const api = 'postgresql://nova:****@api-db/nova_api';
  const e = translateOnDatabase(Object.assign(new Error('relation "instance_groups" does not exist'), { code: '42P01' }), 'the API database', api);
  t.is(e.message, `on the API database: relation "instance_groups" does not exist (${api})`);
  const deadlock = translateOnDatabase(Object.assign(new Error('deadlock detected'), { code: '40P01' }), 'the API database', api);
  t.true(isRetryableConflict(deadlock));
  const timeout = translateOnDatabase(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }), 'the API database', api);
  t.true(timeout instanceof DatabaseTimeoutError);
  t.regex(timeout.message, /^on the API database: gave up waiting/);
});

test('a migration failure names the line, the database and the migration, and the reason is never empty', (t) => {
  const url = parseDatabaseUrl('mysql://nova:secret@db/cell1');
  const deps = { target: { line: LINES.cell, label: "cell 'cell1'", url }, handle: { dialect: { transactionalDdl: false } } } as unknown as Parameters<typeof migrationFailure>[0];
  const e = migrationFailure(deps, '0002_compute_nodes_host_expand', emptyOriginal());
  t.true(e instanceof MigrationFailedError);
  t.regex(e.message, /^cell migration 0002_compute_nodes_host_expand failed on cell 'cell1': Constraint fk_compute_nodes_service_id .* does not exist \(mysql:\/\/nova:\*\*\*\*@db\/cell1\)/);
  t.notRegex(e.message, /: {2}/);
  t.false(e.message.includes('secret'));
});
