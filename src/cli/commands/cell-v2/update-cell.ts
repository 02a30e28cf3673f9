import type { Argv } from 'yargs';
import { updateCell } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly cell_uuid: string;
  readonly name?: string | undefined;
  readonly 'transport-url'?: string | undefined;
  readonly database_connection?: string | undefined;
  readonly disable?: boolean | undefined;
  readonly enable?: boolean | undefined;
}

/**
 * `cell_v2 update_cell`, in nova-manage's order: exit 1 not found, 3 URL clash, 4 --disable with
 * --enable, 5 --disable or --enable on cell0, 2 the update failed. Prints nothing on success, as
 * nova-manage. An omitted option leaves the field as it is (Nova copied it from its config file instead).
 */
export function updateCellCommand(rt: Runtime) {
  return {
    command: 'update_cell',
    describe: 'Update a cell mapping (omitted options leave fields as they are)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('cell_uuid', { type: 'string', demandOption: true, describe: 'The cell to update' })
        .option('name', { type: 'string' })
        .option('transport-url', { type: 'string' })
        .option('database_connection', { type: 'string' })
        .option('disable', { type: 'boolean', describe: 'Disable the cell (not cell0: exit 5)' })
        .option('enable', { type: 'boolean', describe: 'Enable the cell (not cell0: exit 5)' }) as Argv<Args>,
    run: async (args: Args) => {
      const cell = await updateCell(await rt.apiDatabase(), args.cell_uuid, {
        name: args.name,
        transportUrl: args['transport-url'],
        databaseConnection: args.database_connection,
        disable: args.disable,
        enable: args.enable,
        onNotice: (line) => rt.output.notice(line),
      });
      if (rt.output.json) rt.output.data({ uuid: cell.uuid, name: cell.name, disabled: cell.disabled });
    },
  } satisfies LeafCommand<Args>;
}
