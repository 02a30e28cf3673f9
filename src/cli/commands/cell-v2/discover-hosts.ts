import type { Argv } from 'yargs';
import { CELL0_UUID, cellErrorMessage, CellsdbError, discoverHosts, escapeControl, failedCells, listCells, quoted } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';

interface Args extends GlobalArgs {
  readonly cell_uuid?: string | undefined;
  readonly 'by-service'?: boolean | undefined;
  readonly strict?: boolean | undefined;
  readonly verbose?: boolean | undefined;
}

/**
 * `cell_v2 discover_hosts`: exit 0; with --strict, 1 when no new host was mapped; 1 when a cell
 * could not be searched. Unlike Nova, two runs at once are safe (Nova exited 2 on the collision).
 */
export function discoverHostsCommand(rt: Runtime) {
  return {
    command: 'discover_hosts',
    describe: 'Map compute hosts found in the cells that have no host mapping yet',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('cell_uuid', { type: 'string', describe: 'Only this cell' })
        .option('by-service', { type: 'boolean', describe: 'Find hosts from nova-compute services instead of compute nodes' })
        .option('strict', { type: 'boolean', describe: 'Exit 1 unless a new host was mapped' })
        .option('verbose', { type: 'boolean', describe: 'Say what was found and mapped' }) as Argv<Args>,
    run: async (args: Args) => {
      const outcomes = await discoverHosts(await rt.apiDatabase(), rt.registry, await rt.serviceGroup(), {
        cellUuid: args.cell_uuid,
        byService: args['by-service'],
        concurrency: (await rt.config()).concurrency,
      });
      const mapped = outcomes.reduce((n, o) => n + (o.ok ? o.value.mapped.length : 0), 0);
      if (rt.output.json) {
        rt.output.data(outcomes.map((o) => ({ cell: o.cell.name, uuid: o.cell.uuid, ...(o.ok ? { found: o.value.found, mapped: o.value.mapped } : { error: o.error.message }) })));
      } else if (args.verbose) {
        // nova-manage's sentences (nova/objects/host_mapping.py), cell by cell once all are done.
        if (args.cell_uuid === undefined) {
          const all = await listCells(await rt.apiDatabase());
          rt.output.line(`Found ${all.length} cell mappings.`);
          if (all.some((c) => c.uuid === CELL0_UUID)) rt.output.line('Skipping cell0 since it does not contain hosts.');
        } else if (args.cell_uuid === CELL0_UUID) rt.output.line('Skipping cell0 since it does not contain hosts.');
        for (const o of outcomes) {
          rt.output.line(o.cell.name ? `Getting computes from cell ${quoted(o.cell.name)}: ${escapeControl(o.cell.uuid)}` : `Getting computes from cell: ${escapeControl(o.cell.uuid)}`);
          if (!o.ok) continue;
          const mapped = new Set(o.value.mapped);
          for (const host of o.value.checked) {
            if (!args['by-service']) rt.output.line(`Checking host mapping for compute host ${quoted(host)}`);
            if (mapped.has(host)) rt.output.line(args['by-service'] ? `Creating host mapping for service ${escapeControl(host)}` : `Creating host mapping for compute host ${quoted(host)}`);
          }
          rt.output.line(`Found ${o.value.mapped.length} unmapped computes in cell: ${escapeControl(o.cell.uuid)}`);
        }
      }
      const failed = failedCells(outcomes);
      if (failed.length > 0) throw new CellsdbError(`could not search ${failed.length} cell(s): ${failed.map(cellErrorMessage).join('; ')}`);
      return args.strict && mapped === 0 ? 1 : 0;
    },
  } satisfies LeafCommand<Args>;
}
