import type { Argv } from 'yargs';
import { cellErrorMessage, CellsdbError, failedCells, printableRows } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly host?: string | undefined;
  readonly binary?: string | undefined;
}

/** `service list [--host H] [--binary B]`: every service of every cell, through the service-group API. */
export function serviceListCommand(rt: Runtime) {
  return {
    command: 'list',
    describe: 'List services of every cell with their status and state',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('host', { type: 'string', describe: 'Only the services on this host' })
        .option('binary', { type: 'string', describe: 'Only the services of this binary, e.g. nova-compute' }) as Argv<Args>,
    run: async (args: Args) => {
      const sg = await rt.serviceGroup();
      const outcomes = await sg.list(await rt.cells(), { host: args.host, binary: args.binary }, (await rt.config()).concurrency);
      const services = outcomes.flatMap((o) => (o.ok ? o.value : []));
      if (rt.output.json) {
        rt.output.data(
          services.map((s) => ({
            host: s.host,
            binary: s.binary,
            cell: s.cell.name ?? s.cell.uuid,
            status: s.disabled ? 'disabled' : 'enabled',
            state: s.up ? 'up' : 'down',
            forced_down: s.forcedDown,
            last_heartbeat: s.lastHeartbeat?.toISOString() ?? null,
            disabled_reason: s.disabledReason,
          })),
        );
      } else {
        rt.output.table(
          ['Host', 'Binary', 'Cell', 'Status', 'State', 'Last heartbeat', 'Disabled reason'],
          printableRows(
            services.map((s) => [s.host, s.binary, s.cell.name ?? s.cell.uuid, s.disabled ? 'disabled' : 'enabled', s.up ? 'up' : 'down', s.lastHeartbeat?.toISOString() ?? '', s.disabledReason ?? '']),
          ),
        );
      }
      const failed = failedCells(outcomes);
      if (failed.length > 0) throw new CellsdbError(`could not list services of ${failed.length} cell(s): ${failed.map(cellErrorMessage).join('; ')}`);
    },
  } satisfies LeafCommand<Args>;
}
