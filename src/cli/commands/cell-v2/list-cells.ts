import type { Argv } from 'yargs';
import { listCells, displayUrl, printableRows } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly verbose?: boolean | undefined;
}

/** `cell_v2 list_cells [--verbose]`: URLs masked unless --verbose. */
export function listCellsCommand(rt: Runtime) {
  return {
    command: 'list_cells',
    describe: 'List cell mappings (URLs masked unless --verbose)',
    builder: (y: Argv<GlobalArgs>) => y.option('verbose', { type: 'boolean', describe: 'Show URLs with their passwords' }) as Argv<Args>,
    run: async (args: Args) => {
      const cells = await listCells(await rt.apiDatabase());
      const reveal = args.verbose === true;
      const url = (u: string) => (reveal ? u : displayUrl(u));
      if (rt.output.json) {
        rt.output.data(
          cells.map((c) => ({ name: c.name, uuid: c.uuid, transport_url: url(c.transportUrl), database_connection: url(c.databaseConnection), disabled: c.disabled })),
          { reveal },
        );
      } else {
        rt.output.table(
          ['Name', 'UUID', 'Transport URL', 'Database Connection', 'Disabled'],
          printableRows(cells.map((c) => [c.name ?? '', c.uuid, url(c.transportUrl), url(c.databaseConnection), c.disabled])),
          { reveal },
        );
      }
    },
  } satisfies LeafCommand<Args>;
}
