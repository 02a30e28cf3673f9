import type { Command, CommandGroup } from '../command.js';
import type { Runtime } from '../runtime.js';

/** A command made of subcommands (`cell_v2 …`, `service …`), registered in the order given. */
export function commandGroup(rt: Runtime, group: { command: string; describe: string; subcommands: ReadonlyArray<(rt: Runtime) => Command> }): CommandGroup {
  return { command: group.command, describe: group.describe, subcommands: group.subcommands.map((sub) => sub(rt)) };
}
