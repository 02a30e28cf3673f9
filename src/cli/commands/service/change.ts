import { escapeControl } from '../../../index.js';
import type { Argv } from 'yargs';
import type { ServiceState } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly host: string;
  readonly binary: string;
  readonly reason?: string | undefined;
  readonly unset?: boolean | undefined;
}

const hostAndBinary = (y: Argv<GlobalArgs>) =>
  y.option('host', { type: 'string', demandOption: true, describe: 'Service host' }).option('binary', { type: 'string', demandOption: true, describe: 'Service binary, e.g. nova-compute' });

function printStates(rt: Runtime, states: readonly ServiceState[], what: string): void {
  if (rt.output.json) {
    rt.output.data(states.map((s) => ({ host: s.host, binary: s.binary, cell: s.cell.name ?? s.cell.uuid, status: s.disabled ? 'disabled' : 'enabled', state: s.up ? 'up' : 'down', forced_down: s.forcedDown, disabled_reason: s.disabledReason })));
  } else {
    for (const s of states) rt.output.line(escapeControl(`${s.binary} on ${s.host} (cell ${s.cell.name ?? s.cell.uuid}): ${what}`));
  }
}

/** `service disable --host H --binary B [--reason R]`: exit 0, 1 not found. */
export function serviceDisableCommand(rt: Runtime) {
  return {
    command: 'disable',
    describe: 'Disable a service (with a reason)',
    builder: (y: Argv<GlobalArgs>) => hostAndBinary(y).option('reason', { type: 'string', describe: 'Why (shown in service list)' }) as Argv<Args>,
    run: async (args: Args) => printStates(rt, await (await rt.serviceGroup()).disable(await rt.cells(), args.host, args.binary, args.reason), 'disabled'),
  } satisfies LeafCommand<Args>;
}

/** `service enable --host H --binary B`: exit 0, 1 not found. */
export function serviceEnableCommand(rt: Runtime) {
  return {
    command: 'enable',
    describe: 'Enable a service',
    builder: (y: Argv<GlobalArgs>) => hostAndBinary(y) as Argv<Args>,
    run: async (args: Args) => printStates(rt, await (await rt.serviceGroup()).enable(await rt.cells(), args.host, args.binary), 'enabled'),
  } satisfies LeafCommand<Args>;
}

/** `service force-down --host H --binary B [--unset]`: exit 0, 1 not found. */
export function serviceForceDownCommand(rt: Runtime) {
  return {
    command: 'force-down',
    describe: 'Mark a service down at once (fencing); --unset lifts it',
    builder: (y: Argv<GlobalArgs>) => hostAndBinary(y).option('unset', { type: 'boolean', describe: 'Lift the forced-down mark' }) as Argv<Args>,
    run: async (args: Args) =>
      printStates(rt, await (await rt.serviceGroup()).forceDown(await rt.cells(), args.host, args.binary, args.unset === true), args.unset ? 'no longer forced down' : 'forced down'),
  } satisfies LeafCommand<Args>;
}

/** `service delete --host H --binary B`: exit 0, 1 not found. */
export function serviceDeleteCommand(rt: Runtime) {
  return {
    command: 'delete',
    describe: 'Delete a service record (soft delete)',
    builder: (y: Argv<GlobalArgs>) => hostAndBinary(y) as Argv<Args>,
    run: async (args: Args) => {
      const deleted = await (await rt.serviceGroup()).delete(await rt.cells(), args.host, args.binary);
      if (rt.output.json) rt.output.data(deleted);
      else for (const d of deleted) rt.output.line(escapeControl(`${args.binary} on ${args.host} (cell ${d.cell}): deleted`));
    },
  } satisfies LeafCommand<Args>;
}
