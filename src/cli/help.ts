// What each command's `--help` shows besides its own options: the groups of global options it uses,
// its exit codes and one example (issue #13 item 6). One table, keyed by the command's path, so
// that every command reads alike; a test checks that every leaf command has an entry.
import type { OptionGroup } from '../index.js';

/** A command's exit codes (one line), one example (the command line and what it does), and the global options it uses. */
export interface CommandHelp {
  readonly exits: string;
  readonly example: readonly [command: string, description: string];
  /** The groups of global options beside `database` and `output`, which every command but `demo` uses. */
  readonly uses?: readonly OptionGroup[];
  /** Only these groups (`demo`). */
  readonly only?: readonly OptionGroup[];
}

/** Headings of the global options in `--help`, in order. */
export const GROUP_HEADINGS: Readonly<Record<OptionGroup, string>> = {
  database: 'Database options:',
  output: 'Output options:',
  migration: 'Migration options:',
  movers: 'Mover options (db online_data_migrations):',
  servicegroup: 'Service group options:',
};

/** The groups of global options a command's help shows. */
export function groupsOf(help: CommandHelp | undefined): ReadonlySet<OptionGroup> {
  if (help?.only) return new Set(help.only);
  return new Set<OptionGroup>(['database', 'output', ...(help?.uses ?? [])]);
}

const COMMON = '127 invalid input, 255 unexpected error';
const LINE = `0 done, 1 failed (a database unreachable, the lock not got, a migration failed or blocked), ${COMMON}`;
const CHECK = '0 all passed, 1 warnings, 2 failures, 127 invalid input, 255 the check could not run';

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  'api_db sync': { exits: LINE, uses: ['migration'], example: ['$0 api_db sync --config-file /etc/nova/nova.conf', 'Bring the API database to the newest migration'] },
  'api_db version': { exits: `0 printed, 1 unreachable, ${COMMON}`, example: ['$0 api_db version', "The API database's current migration"] },
  'api_db status': { exits: `0 ledger sound, 1 a ledger problem or unreachable, ${COMMON}`, example: ['$0 api_db status --json', 'Applied and pending API migrations, as JSON'] },
  'api_db baseline': { exits: `0 adopted, 1 the schema differs or unreachable, ${COMMON}`, uses: ['migration'], example: ['$0 api_db baseline 1', 'Adopt an API database built by nova-manage at migration 1'] },
  'db sync': { exits: LINE, uses: ['migration'], example: ['$0 db sync', 'Migrate cell0, then every mapped cell, to the newest migration'] },
  'db version': { exits: `0 printed, 1 a cell unreachable, ${COMMON}`, example: ['$0 db version --json', 'Each cell database\'s migration, as JSON'] },
  'db status': { exits: `0 ledgers sound, 1 a ledger problem or a cell unreachable, ${COMMON}`, example: ['$0 db status --cell cell1', "cell1's applied and pending migrations"] },
  'db online_data_migrations': {
    exits: `0 nothing (more) to do, 1 rows migrated: run again, 2 errors and no progress, 3 only rows an operator must unblock remain, ${COMMON}, 130/143 interrupted`,
    uses: ['migration', 'movers'], example: ['$0 db online_data_migrations --max-count 1000', 'Migrate up to 1000 rows in this run; repeat while it exits 1 (docs/runbook-loop.sh)'],
  },
  'db baseline': { exits: `0 adopted, 1 the schema differs or unreachable, ${COMMON}`, uses: ['migration'], example: ['$0 db baseline 2 --cell cell1', "Adopt cell1's database, built by nova-manage, at migration 2"] },
  'db resolve_compute_node': { exits: `0 resolved, 1 no such node or it would collide, ${COMMON}`, example: ['$0 db resolve_compute_node --cell cell1 --id 42 --host compute-7 --dry-run', 'Show how node 42 would get its host'] },
  'cell_v2 map_cell0': { exits: `0 mapped (or already), ${COMMON}`, example: ['$0 cell_v2 map_cell0 --database_connection mysql+pymysql://nova:PASS@db/nova_cell0', 'Map cell0'] },
  'cell_v2 create_cell': { exits: `0 created, 1 a URL missing, 2 a cell with those URLs exists, ${COMMON}`, example: ['$0 cell_v2 create_cell --name cell1 --transport-url rabbit://nova:PASS@mq:5672/ --database_connection mysql+pymysql://nova:PASS@db/nova_cell1', 'Map a new cell'] },
  'cell_v2 list_cells': { exits: `0 listed, ${COMMON}`, example: ['$0 cell_v2 list_cells --verbose', 'Every cell, URLs unmasked'] },
  'cell_v2 update_cell': { exits: `0 updated, 1 not found, 2 could not update, 3 URLs taken, 4 --disable with --enable, 5 cell0 disabled, ${COMMON}`, example: ['$0 cell_v2 update_cell --cell_uuid UUID --disable', 'Stop scheduling to a cell'] },
  'cell_v2 delete_cell': { exits: `0 deleted, 1 not found, 2 hosts mapped, 3 live instances, 4 mappings of deleted instances, ${COMMON}`, example: ['$0 cell_v2 delete_cell --cell_uuid UUID --force', 'Delete a cell and its host mappings'] },
  'cell_v2 discover_hosts': { exits: `0 done, 1 a cell could not be read, ${COMMON}`, uses: ['servicegroup'], example: ['$0 cell_v2 discover_hosts --verbose', 'Map every new compute host, and say which'] },
  'cell_v2 list_hosts': { exits: `0 listed, 1 no such cell, ${COMMON}`, example: ['$0 cell_v2 list_hosts --cell_uuid UUID', "One cell's hosts"] },
  'cell_v2 verify_instance': { exits: `0 mapped, 1 no mapping, 2 mapped to no cell, 3 deleted, 4 archived, ${COMMON}`, example: ['$0 cell_v2 verify_instance --uuid UUID', 'Where an instance is mapped'] },
  'service list': { exits: `0 listed, 1 a cell could not be read, ${COMMON}`, uses: ['servicegroup'], example: ['$0 service list --binary nova-compute', 'Every compute service, up or down'] },
  'service disable': { exits: `0 disabled, 1 not found, ${COMMON}`, uses: ['servicegroup'], example: ["$0 service disable --host compute-7 --binary nova-compute --reason 'disk failing'", 'Stop scheduling to a host'] },
  'service enable': { exits: `0 enabled, 1 not found, ${COMMON}`, uses: ['servicegroup'], example: ['$0 service enable --host compute-7 --binary nova-compute', 'Schedule to a host again'] },
  'service force-down': { exits: `0 forced down, 1 not found, ${COMMON}`, uses: ['servicegroup'], example: ['$0 service force-down --host compute-7 --binary nova-compute', 'Mark a dead host down at once (evacuation)'] },
  'service delete': { exits: `0 deleted, 1 not found, ${COMMON}`, uses: ['servicegroup'], example: ['$0 service delete --host compute-7 --binary nova-compute', 'Remove a decommissioned service'] },
  'schema check': { exits: CHECK, example: ['$0 schema check --junit report.xml', 'CI: pending migrations, ledger integrity and drift, with a JUnit report'] },
  'schema lint': { exits: CHECK, example: ['$0 schema lint --json', 'CI: hazardous DDL in the migrations, as JSON'] },
  'upgrade check': { exits: CHECK, uses: ['servicegroup'], example: ['$0 upgrade check --format json', 'Upgrade readiness, in oslo.upgradecheck JSON'] },
  demo: { only: ['output', 'movers'], exits: `0 the demo ran, ${COMMON}`, example: ['$0 demo', 'A demo upgrade on an embedded PostgreSQL'] },
};

/** The epilogue of a command's help: its exit codes. */
export const epilogueOf = (help: CommandHelp): string => `Exit codes: ${help.exits}.`;
