import type { Runtime } from '../runtime.js';
import { apiBaselineCommand } from './baseline.js';
import { commandGroup } from './group.js';
import { apiStatusCommand, apiSyncCommand, apiVersionCommand } from './line-commands.js';

/** `cellsdb api_db …`: the API database's migration line. */
export function apiDbCommand(rt: Runtime) {
  return commandGroup(rt, {
    command: 'api_db <command>',
    describe: 'The API database: sync, version, status, baseline',
    subcommands: [apiSyncCommand, apiVersionCommand, apiStatusCommand, apiBaselineCommand],
  });
}
