import type { Argv } from 'yargs';
import { defaultCell0Url, displayUrl, mapCell0, requireCellDb } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly database_connection?: string | undefined;
}

/** `cell_v2 map_cell0 [--database_connection URL]`: exit 0, silent as nova-manage, or 'Cell0 is already setup'. */
export function mapCell0Command(rt: Runtime) {
  return {
    command: 'map_cell0',
    describe: "Map cell0 (default database: --db's with _cell0 appended to its name)",
    builder: (y: Argv<GlobalArgs>) => y.option('database_connection', { type: 'string', describe: "cell0's database URL" }) as Argv<Args>,
    run: async (args: Args) => {
      const url = args.database_connection ?? defaultCell0Url(requireCellDb(await rt.config())).raw;
      const { created, cell } = await mapCell0(await rt.apiDatabase(), url);
      if (rt.output.json) rt.output.data({ created, uuid: cell.uuid, name: cell.name, database_connection: displayUrl(cell.databaseConnection) });
      else if (!created) rt.output.line('Cell0 is already setup');
    },
  } satisfies LeafCommand<Args>;
}
