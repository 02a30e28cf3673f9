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

/**
 * `cell_v2 create_cell`: exit 1 missing URL, 2 a URL already used by another cell. A URL not given
 * comes from the configuration as in nova-manage: `[DEFAULT] transport_url`, and the local cell
 * database (`[database] connection`, `--db`), each announced on stderr.
 */
export function createCellCommand(rt: Runtime) {
  return {
    command: 'create_cell',
    describe: 'Create a cell mapping (URLs not given come from [DEFAULT] transport_url and [database] connection)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('name', { type: 'string', describe: 'Cell name' })
        .option('transport-url', { type: 'string', describe: 'Message-queue URL of the cell [default: [DEFAULT] transport_url]' })
        .option('database_connection', { type: 'string', describe: 'Database URL of the cell [default: [database] connection, --db]' })
        .option('disabled', { type: 'boolean', describe: 'Create it disabled' })
        .option('verbose', { type: 'boolean', describe: 'Print the new cell uuid' }) as Argv<Args>,
    run: async (args: Args) => {
      const config = await rt.config();
      const cell = await createCell(await rt.apiDatabase(), {
        name: args.name,
        transportUrl: args['transport-url'],
        databaseConnection: args.database_connection,
        disabled: args.disabled,
        // Read only when a URL is missing: a bad '$' in transport_url fails only the runs that use it.
        configured: {
          get transportUrl() {
            return config.transportUrl();
          },
          databaseConnection: config.db?.raw,
        },
        onNotice: (line) => rt.output.notice(line),
      });
      if (rt.output.json) rt.output.data({ uuid: cell.uuid, name: cell.name, disabled: cell.disabled });
      else if (args.verbose) rt.output.line(cell.uuid);
    },
  } satisfies LeafCommand<Args>;
}
