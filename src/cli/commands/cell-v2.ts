import type { Runtime } from '../runtime.js';
import { commandGroup } from './group.js';
import { createCellCommand } from './cell-v2/create-cell.js';
import { deleteCellCommand } from './cell-v2/delete-cell.js';
import { discoverHostsCommand } from './cell-v2/discover-hosts.js';
import { listCellsCommand } from './cell-v2/list-cells.js';
import { listHostsCommand } from './cell-v2/list-hosts.js';
import { mapCell0Command } from './cell-v2/map-cell0.js';
import { updateCellCommand } from './cell-v2/update-cell.js';
import { verifyInstanceCommand } from './cell-v2/verify-instance.js';

const SUBCOMMANDS = [
  mapCell0Command,
  createCellCommand,
  listCellsCommand,
  updateCellCommand,
  deleteCellCommand,
  discoverHostsCommand,
  listHostsCommand,
  verifyInstanceCommand,
] as const;

/** `cellsdb cell_v2 …`: cell mappings, with nova-manage's names, arguments and exit codes. */
export function cellV2Command(rt: Runtime) {
  return commandGroup(rt, {
    command: 'cell_v2 <command>',
    describe: 'Cell mappings: map_cell0, create_cell, list_cells, update_cell, delete_cell, discover_hosts, list_hosts, verify_instance',
    subcommands: SUBCOMMANDS,
  });
}
