// `db resolve_compute_node --id N (--host H | --delete) [--dry-run]` on one cell (src/cells/resolve-compute-node.ts).
// Exit 0 resolved, 1 not found / would collide / not blocked, 127 bad input.
import type { Argv } from 'yargs';
import { cellDatabaseUrl, cellLabel, cellScope, checkResolveRequest, InvalidInputError, displayUrl, resolveComputeNode, type ResolveComputeNodeResult } from '../../index.js';
import type { LeafCommand } from '../command.js';
import type { GlobalArgs, Runtime } from '../runtime.js';

interface Args extends GlobalArgs {
  readonly id?: string | undefined;
  readonly host?: string | undefined;
  readonly delete?: boolean | undefined;
  readonly 'dry-run'?: boolean | undefined;
  readonly 'local-cell'?: boolean | undefined;
  readonly cell?: string[] | undefined;
}

function describe(label: string, r: ResolveComputeNodeResult): string {
  const node = `compute node ${r.before.id} ('${r.before.hypervisorHostname ?? ''}')`;
  const verb = r.dryRun ? 'would' : '';
  return r.action === 'set-host'
    ? `${label}: ${node} ${verb ? 'would get' : 'now has'} host '${r.host ?? ''}'${r.before.serviceId !== null ? ` (service_id ${r.before.serviceId} ${verb ? 'would be' : ''} cleared)`.replace('  ', ' ') : ''}`
    : `${label}: ${node} ${verb ? 'would be' : 'was'} soft-deleted`;
}

export function resolveComputeNodeCommand(rt: Runtime) {
  return {
    command: 'resolve_compute_node',
    describe: 'Resolve a compute node the movers report as blocked: give it its host (--host) or soft-delete it (--delete), in one cell',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('id', { type: 'string', describe: "The compute node's id (as the movers' blocked list shows it)" })
        .option('host', { type: 'string', describe: 'Set this host and clear service_id (refused if it would collide)' })
        .option('delete', { type: 'boolean', describe: 'Soft-delete the node (deleted = id)' })
        .option('dry-run', { type: 'boolean', describe: 'Check and print what would change; change nothing' })
        .option('cell', { type: 'string', array: true, describe: 'The mapped cell (name or uuid) that holds the node' })
        .option('local-cell', { type: 'boolean', describe: 'The cell database given by --db' })
        .conflicts('local-cell', 'cell')
        .conflicts('host', 'delete') as unknown as Argv<Args>,
    run: async (args: Args) => {
      const request = checkResolveRequest({ id: args.id, host: args.host, delete: args.delete });
      const config = await rt.config();
      const where = await cellScope(rt.registry, config, { localCell: args['local-cell'], cells: args.cell });
      let handle;
      let label: string;
      if (where.kind === 'local') {
        handle = await rt.registry.connect(where.url);
        label = `cell database (${where.url.masked})`;
      } else {
        const cell = where.cells.length === 1 ? where.cells[0] : undefined;
        if (!cell || !args.cell?.length) throw new InvalidInputError('compute node ids are per cell: name the cell with --cell NAME (or --local-cell)');
        handle = await rt.registry.connect(cellDatabaseUrl(cell));
        label = `cell '${cellLabel(cell)}' (${displayUrl(cell.databaseConnection)})`;
      }
      const result = await resolveComputeNode(handle, label, { ...request, dryRun: args['dry-run'] });
      if (rt.output.json) rt.output.data({ ...result, database: handle.url.masked });
      else rt.output.line(describe(label, result));
      return 0;
    },
  } satisfies LeafCommand<Args>;
}
