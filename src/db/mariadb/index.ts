import type { DialectAdapter } from '../dialect.js';
import { mariadbConnection } from './connection.js';
import { mariadbIntrospection } from './introspection.js';
import { mariadbLocking } from './locking.js';
import { mariadbSql } from './sql.js';

/** MariaDB (also MySQL) through mysql2: DDL commits at once, `GET_LOCK` named locks. */
export const mariadbDialect: DialectAdapter = {
  name: 'mysql',
  label: 'mariadb',
  transactionalDdl: false,
  ...mariadbConnection,
  ...mariadbLocking,
  ...mariadbIntrospection,
  ...mariadbSql,
};
