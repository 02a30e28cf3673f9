import type { Runtime } from '../runtime.js';
import { commandGroup } from './group.js';
import { upgradeCheckCommand } from './upgrade/check.js';

const SUBCOMMANDS = [upgradeCheckCommand] as const;

/** `cellsdb upgrade …`: readiness checks for runbooks (nova-status). */
export function upgradeCommand(rt: Runtime) {
  return commandGroup(rt, {
    command: 'upgrade <command>',
    describe: 'Upgrade readiness: check (like nova-status upgrade check)',
    subcommands: SUBCOMMANDS,
  });
}
