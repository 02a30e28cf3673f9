import type { Argv } from 'yargs';
import { verifyInstance } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly uuid: string;
  readonly quiet?: boolean | undefined;
}

/** `cell_v2 verify_instance`: 0 mapped, 1 no mapping, 2 no cell, 3 deleted, 4 archived (nova-manage's codes). */
export function verifyInstanceCommand(rt: Runtime) {
  return {
    command: 'verify_instance',
    describe: 'Check that an instance is mapped to a cell',
    builder: (y: Argv<GlobalArgs>) =>
      y.option('uuid', { type: 'string', demandOption: true }).option('quiet', { type: 'boolean', describe: 'Print nothing; only the exit code' }) as Argv<Args>,
    run: async (args: Args) => {
      const verdict = await verifyInstance(await rt.apiDatabase(), rt.registry, args.uuid);
      if (rt.output.json) rt.output.data({ uuid: args.uuid, code: verdict.code, message: verdict.message, cell: verdict.cell?.uuid ?? null });
      else if (!args.quiet) rt.output.line(verdict.message);
      return verdict.code;
    },
  } satisfies LeafCommand<Args>;
}
