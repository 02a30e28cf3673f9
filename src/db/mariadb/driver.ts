import { createRequire } from 'node:module';
import type mysql2Types from 'mysql2';
import type mysqlPromiseTypes from 'mysql2/promise';

// The driver is loaded on first use: a process that only talks to PostgreSQL never loads it.
const require = createRequire(import.meta.url);

/** The `mysql2` module (callback API: Sequelize's driver, and its `escape`). */
export const mysql2 = (): typeof mysql2Types => require('mysql2') as typeof mysql2Types;
/** The `mysql2/promise` module (dedicated sessions). */
export const mysqlPromise = (): typeof mysqlPromiseTypes => require('mysql2/promise') as typeof mysqlPromiseTypes;
