import type { Argv } from 'yargs';
import { createCell } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly name?: string | undefined;
  readonly 'transport-url'?: string | undefined;
  readonly database_connection?: string | undefined;
  readonly disabled?: boolean | undefined;
  readonly verbose?: boolean | undefined;
}

/** `cell_v2 create_cell`: exit 1 missing URL, 2 a URL already used by another cell. */
export function createCellCommand(rt: Runtime) {
  return {
    command: 'create_cell',
    describe: 'Create a cell mapping',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('name', { type: 'string', describe: 'Cell name' })
        .option('transport-url', { type: 'string', describe: 'Message-queue URL of the cell' })
        .option('database_connection', { type: 'string', describe: 'Database URL of the cell' })
        .option('disabled', { type: 'boolean', describe: 'Create it disabled' })
        .option('verbose', { type: 'boolean', describe: 'Print the new cell uuid' }) as Argv<Args>,
    run: async (args: Args) => {
      const cell = await createCell(await rt.apiDatabase(), {
        name: args.name,
        transportUrl: args['transport-url'],
        databaseConnection: args.database_connection,
        disabled: args.disabled,
      });
      if (rt.output.json) rt.output.data({ uuid: cell.uuid, name: cell.name, disabled: cell.disabled });
      else if (args.verbose) rt.output.line(cell.uuid);
    },
  } satisfies LeafCommand<Args>;
}
