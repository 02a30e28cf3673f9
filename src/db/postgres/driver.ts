import { createRequire } from 'node:module';
import type pgTypes from 'pg';

// The driver is loaded on first use: a process that only talks to MariaDB never loads it.
const require = createRequire(import.meta.url);
let pgModule: typeof pgTypes | undefined;

/** The `pg` module. */
export const pg = (): typeof pgTypes => (pgModule ??= require('pg') as typeof pgTypes);
