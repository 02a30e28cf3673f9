import type { Argv } from 'yargs';
import { deleteCell } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly cell_uuid: string;
  readonly force?: boolean | undefined;
}

/**
 * `cell_v2 delete_cell`: exit 1 not found, 2 hosts mapped, 3 live instances, 4 stale instance
 * mappings. Prints nothing on success, as nova-manage.
 */
export function deleteCellCommand(rt: Runtime) {
  return {
    command: 'delete_cell',
    describe: 'Delete an empty cell mapping (--force also removes its host and instance mappings)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('cell_uuid', { type: 'string', demandOption: true })
        .option('force', { type: 'boolean', describe: 'Remove host mappings and mappings of deleted instances first' }) as Argv<Args>,
    run: async (args: Args) => {
      const { cell, unchecked } = await deleteCell(await rt.apiDatabase(), rt.registry, args.cell_uuid, args.force === true);
      // A dead cell: deleted as Nova deletes it, and said on stderr, which success otherwise leaves empty.
      if (unchecked !== undefined) rt.output.notice(`cell ${cell.uuid}: its database could not be read (${unchecked}); nothing was mapped to it, so its mapping was deleted without looking for instances`);
      if (rt.output.json) rt.output.data({ deleted: cell.uuid });
    },
  } satisfies LeafCommand<Args>;
}
