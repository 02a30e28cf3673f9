import type { Runtime } from '../runtime.js';
import { commandGroup } from './group.js';
import { serviceDeleteCommand, serviceDisableCommand, serviceEnableCommand, serviceForceDownCommand } from './service/change.js';
import { serviceListCommand } from './service/list.js';

const SUBCOMMANDS = [serviceListCommand, serviceDisableCommand, serviceEnableCommand, serviceForceDownCommand, serviceDeleteCommand] as const;

/** `cellsdb service …`: services of every cell, through the service-group API. Exit 0, 1 not found, 127 bad input. */
export function serviceCommand(rt: Runtime) {
  return commandGroup(rt, {
    command: 'service <command>',
    describe: 'Services: list, disable, enable, force-down, delete (through the service-group API)',
    subcommands: SUBCOMMANDS,
  });
}
