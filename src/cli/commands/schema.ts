import type { Runtime } from '../runtime.js';
import { commandGroup } from './group.js';
import { schemaCheckCommand } from './schema/check.js';
import { schemaLintCommand } from './schema/lint.js';

const SUBCOMMANDS = [schemaCheckCommand, schemaLintCommand] as const;

/** `cellsdb schema …`: CI checks of the migration lines and of live schemas. */
export function schemaCommand(rt: Runtime) {
  return commandGroup(rt, {
    command: 'schema <command>',
    describe: 'CI checks: check (pending, ledger integrity, drift from the models), lint (hazardous DDL)',
    subcommands: SUBCOMMANDS,
  });
}
