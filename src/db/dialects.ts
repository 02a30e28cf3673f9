import type { Dialect } from '../url/index.js';
import type { DialectAdapter } from './dialect.js';
import { mariadbDialect } from './mariadb/index.js';
import { postgresDialect } from './postgres/index.js';

const ADAPTERS: Readonly<Record<Dialect, DialectAdapter>> = { postgres: postgresDialect, mysql: mariadbDialect };

/** The dialect module for a URL's dialect. */
export function dialectFor(dialect: Dialect): DialectAdapter {
  return ADAPTERS[dialect];
}
