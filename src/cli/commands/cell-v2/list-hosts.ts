import type { Argv } from 'yargs';
import { listHosts, printableRows } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly cell_uuid?: string | undefined;
}

/** `cell_v2 list_hosts [--cell_uuid U]`: exit 1 when the cell is not found. */
export function listHostsCommand(rt: Runtime) {
  return {
    command: 'list_hosts',
    describe: 'List host mappings',
    builder: (y: Argv<GlobalArgs>) => y.option('cell_uuid', { type: 'string', describe: 'Only this cell' }) as Argv<Args>,
    run: async (args: Args) => {
      const hosts = await listHosts(await rt.apiDatabase(), args.cell_uuid);
      if (rt.output.json) rt.output.data(hosts.map((h) => ({ cell_name: h.cell.name, cell_uuid: h.cell.uuid, hostname: h.host })));
      else rt.output.table(['Cell Name', 'Cell UUID', 'Hostname'], printableRows(hosts.map((h) => [h.cell.name ?? '', h.cell.uuid, h.host])));
    },
  } satisfies LeafCommand<Args>;
}
