import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs, Runtime } from '../runtime.js';

/** A command made of subcommands (`cell_v2 …`, `service …`), registered in the order given. */
export function commandGroup(
  rt: Runtime,
  group: { command: string; describe: string; subcommands: ReadonlyArray<(rt: Runtime) => unknown> },
): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: group.command,
    describe: group.describe,
    builder: (y: Argv<GlobalArgs>) => {
      let parser = y;
      // Each module is typed with its own arguments; yargs takes them as one list.
      for (const sub of group.subcommands) parser = parser.command(sub(rt) as CommandModule<GlobalArgs, GlobalArgs>);
      return parser.demandCommand(1, '');
    },
    handler: () => undefined,
  };
}
