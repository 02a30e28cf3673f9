import type { DialectAdapter } from '../dialect.js';
import { postgresConnection } from './connection.js';
import { postgresIntrospection } from './introspection.js';
import { postgresLocking } from './locking.js';
import { postgresSql } from './sql.js';

/** PostgreSQL: transactional DDL, session advisory locks, `SET LOCAL` timeouts. */
export const postgresDialect: DialectAdapter = {
  name: 'postgres',
  label: 'postgres',
  transactionalDdl: true,
  ...postgresConnection,
  ...postgresLocking,
  ...postgresIntrospection,
  ...postgresSql,
};
