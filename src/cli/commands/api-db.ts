import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs, Runtime } from '../runtime.js';
import { apiStatusCommand, apiSyncCommand, apiVersionCommand } from './line-commands.js';

/** `cellsdb api_db …`: the API database's migration line. */
export function apiDbCommand(rt: Runtime) {
  return {
    command: 'api_db <command>',
    describe: 'The API database: sync, version, status',
    builder: (y: Argv<GlobalArgs>) => y.command(apiSyncCommand(rt)).command(apiVersionCommand(rt)).command(apiStatusCommand(rt)).demandCommand(1, ''),
    handler: () => undefined,
  } satisfies CommandModule<GlobalArgs, GlobalArgs>;
}
