import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { type DatabaseUrl, type Dialect, parseDatabaseUrl } from '../src/url/index.js';

/** How much legacy data one cell holds. */
export interface CellSizes {
  readonly groups: number;
  readonly policiesPerGroup: number;
  readonly membersPerGroup: number;
  readonly computeNodes: number;
}

/** The parts of a benchmark run, selected with --scenario (every one by default). */
export const SCENARIOS = ['idle', 'heartbeats', 'mixed', 'heavy', 'impact-sweep', 'scale4', 'cells8'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Everything a benchmark run needs, resolved once from flags and environment. */
export interface BenchOptions {
  readonly dialect: Dialect;
  /** The server to use (any database on it); undefined for PostgreSQL means the embedded server. */
  readonly serverUrl: DatabaseUrl | undefined;
  readonly scale: number;
  readonly quick: boolean;
  /** Cells holding data (cell0 is mapped too, empty, as in every deployment). */
  readonly cells: number;
  readonly sizes: CellSizes;
  /** A fixed batch size for the headline figures; undefined: the movers' default (adaptive batches). */
  readonly batchSize: number | undefined;
  /** --batch-ms for adaptive batches; undefined: the movers' default. */
  readonly batchMs: number | undefined;
  /** More flags for every `online_data_migrations` run (e.g. `--concurrency 1`). */
  readonly odmArgs: readonly string[];
  /** Extra batch sizes measured on fresh copies (movers only), for the sweep. */
  readonly sweep: readonly number[];
  readonly memory: boolean;
  /** How many times the reference and the movers are measured (alternately, each on a fresh copy); medians are reported. */
  readonly repeat: number;
  /** Also break the movers' batch time down by statement (in-process run on another copy). */
  readonly profile: boolean;
  readonly workload: { readonly connections: number; readonly rate: number };
  /** More runs of the movers under the workload, each with these extra flags (the trade of speed for impact). */
  readonly impactVariants: ReadonlyArray<readonly string[]>;
  /** The heavier mixed workload (scenario `heavy` and the `--max-impact` sweep). */
  readonly heavy: { readonly connections: number; readonly rate: number };
  readonly heartbeats: { readonly services: number; readonly perSession: number; readonly intervalSeconds: number };
  /** The `--max-impact` settings of the sweep under the heavy workload. */
  readonly impactSweep: readonly string[];
  /** Cells of the many-cells run (more than --concurrency), holding the same rows in all as the headline deployment. */
  readonly manyCells: number;
  readonly scenarios: ReadonlySet<Scenario>;
  readonly keep: boolean;
  readonly output: string | undefined;
}

/** The default deployment: per cell, at --scale 1. */
export const BASE_SIZES: CellSizes = Object.freeze({ groups: 50_000, policiesPerGroup: 1, membersPerGroup: 5, computeNodes: 20_000 });
/** --quick divides the sizes by this. */
const QUICK_DIVISOR = 10;
const positive = (flag: string, v: number | undefined, integer: boolean): number | undefined => {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) throw new BenchUsageError(`--${flag} must be a positive ${integer ? 'whole ' : ''}number, got '${String(v)}'`);
  return v;
};

/** A bad command line (exit 127, as the CLI's bad input). */
export class BenchUsageError extends Error {}

/** Parses `npm run bench -- …` into frozen options. */
export function parseOptions(argv: readonly string[] = hideBin(process.argv), env: Readonly<Record<string, string | undefined>> = process.env): BenchOptions {
  const args = yargs([...argv])
    .scriptName('npm run bench --')
    .usage('$0 [options]\n\nBenchmarks the movers against the server\'s bulk path and prints one JSON document.')
    .option('dialect', { choices: ['postgres', 'postgresql', 'mariadb', 'mysql'] as const, default: 'postgres', describe: 'Server to benchmark' })
    .option('pg-url', { type: 'string', describe: 'PostgreSQL server (any database; or CELLSDB_BENCH_PG_URL). Without one: an embedded PostgreSQL' })
    .option('mysql-url', { type: 'string', describe: 'MariaDB server (any database; or CELLSDB_BENCH_MYSQL_URL)' })
    .option('scale', { type: 'number', default: 1, describe: 'Multiply the deployment sizes' })
    .option('quick', { type: 'boolean', default: false, describe: `Smoke run: sizes divided by ${QUICK_DIVISOR}` })
    .option('cells', { type: 'number', default: 2, describe: 'Cells holding data' })
    .option('batch-size', { type: 'number', describe: 'A fixed batch size for the headline run (--batch-size of online_data_migrations) [default: adaptive]' })
    .option('batch-ms', { type: 'number', describe: 'Target batch duration of adaptive batches (--batch-ms of online_data_migrations) [default: its default]' })
    .option('odm-args', { type: 'string', describe: "More flags for every 'db online_data_migrations' run, space-separated (e.g. '--concurrency 1')" })
    .option('sweep', { type: 'string', describe: 'Comma-separated extra batch sizes to measure (movers only, on fresh copies), e.g. 50,500,5000' })
    .option('repeat', { type: 'number', default: 1, describe: 'Measure the reference and the movers this many times (alternately, fresh copies); report medians' })
    .option('profile', { type: 'boolean', default: false, describe: "Also break the movers' batch time down by SQL statement (in-process, on another copy)" })
    .option('skip-scale4', { type: 'boolean', default: false, describe: 'Skip the 4x deployment (memory figure)' })
    .option('workload-connections', { type: 'number', default: 4, describe: 'Connections (and workers) of the live workload, per database' })
    .option('workload-rate', { type: 'number', default: 100, describe: 'Operations per second the live workload aims at' })
    .option('impact-variants', {
      type: 'string',
      default: '--no-yield',
      describe: "Also run the movers under the workload with these flags, ';' between runs (e.g. '--no-yield;--max-impact 6x'); '' for none",
    })
    .option('scenario', { type: 'string', describe: `Comma-separated parts to run: ${SCENARIOS.join(', ')} [default: all]` })
    .option('heavy-rate', { type: 'number', default: 400, describe: "Operations per second of the heavy mixed workload (scenarios 'heavy', 'impact-sweep')" })
    .option('heavy-connections', { type: 'number', default: 8, describe: 'Connections of the heavy mixed workload, per database' })
    .option('heartbeat-services', { type: 'number', default: 1000, describe: "Compute services heartbeating (scenario 'heartbeats')" })
    .option('heartbeat-per-session', { type: 'number', default: 50, describe: 'Services per heartbeating session' })
    .option('heartbeat-interval', { type: 'number', default: 10, describe: 'Seconds between two heartbeats of a service' })
    .option('max-impact-sweep', { type: 'string', default: '2x,3x,6x', describe: "--max-impact settings measured under the heavy workload (scenario 'impact-sweep')" })
    .option('many-cells', { type: 'number', default: 8, describe: "Cells of the many-cells run (scenario 'cells8'), the same rows in all as the headline deployment" })
    .option('keep', { type: 'boolean', default: false, describe: 'Keep the benchmark databases' })
    .option('output', { type: 'string', describe: 'Also write the JSON document to this file' })
    .strict()
    .help()
    .version(false)
    // Bad input: one line and exit 127 (yargs would print the whole help and exit 0 from this script).
    .fail((message, error) => {
      throw new BenchUsageError(message ?? error?.message ?? 'bad arguments');
    })
    .parseSync();

  const dialect: Dialect = args.dialect === 'mariadb' || args.dialect === 'mysql' ? 'mysql' : 'postgres';
  const raw = dialect === 'postgres' ? (args['pg-url'] ?? env.CELLSDB_BENCH_PG_URL) : (args['mysql-url'] ?? env.CELLSDB_BENCH_MYSQL_URL);
  if (dialect === 'mysql' && !raw) throw new BenchUsageError('--dialect mariadb needs a server: pass --mysql-url URL or set CELLSDB_BENCH_MYSQL_URL');
  const serverUrl = raw ? parseDatabaseUrl(raw) : undefined;
  if (serverUrl && serverUrl.dialect !== dialect) throw new BenchUsageError(`the server URL is for ${serverUrl.dialect}, not ${dialect}`);

  const scale = positive('scale', args.scale, false) as number;
  const quick = args.quick;
  const per = (n: number) => Math.max(1, Math.round((n * scale) / (quick ? QUICK_DIVISOR : 1)));
  const scenarioList = (args.scenario ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = scenarioList.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0 || scenarioList.length === 0) throw new BenchUsageError(`--scenario takes a comma-separated list of ${SCENARIOS.join(', ')}, got '${args.scenario ?? ''}'`);
  const scenarios = new Set(scenarioList as Scenario[]);
  if (args['skip-scale4']) scenarios.delete('scale4');
  const sweep = (args.sweep ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => positive('sweep', Number(s), true) as number);
  return Object.freeze({
    dialect,
    serverUrl,
    scale,
    quick,
    cells: positive('cells', args.cells, true) as number,
    sizes: Object.freeze({ groups: per(BASE_SIZES.groups), policiesPerGroup: BASE_SIZES.policiesPerGroup, membersPerGroup: BASE_SIZES.membersPerGroup, computeNodes: per(BASE_SIZES.computeNodes) }),
    batchSize: positive('batch-size', args['batch-size'], true),
    batchMs: positive('batch-ms', args['batch-ms'], true),
    odmArgs: Object.freeze((args['odm-args'] ?? '').split(/\s+/).filter((a) => a !== '')),
    sweep: Object.freeze(sweep.filter((b) => b !== args['batch-size'])),
    memory: scenarios.has('scale4'),
    profile: args.profile,
    repeat: positive('repeat', args.repeat, true) as number,
    workload: Object.freeze({
      connections: positive('workload-connections', args['workload-connections'], true) as number,
      rate: positive('workload-rate', args['workload-rate'], false) as number,
    }),
    impactVariants: Object.freeze(
      args['impact-variants']
        .split(';')
        .map((v) => Object.freeze(v.split(/\s+/).filter((a) => a !== '')))
        .filter((v) => v.length > 0),
    ),
    heavy: Object.freeze({
      connections: positive('heavy-connections', args['heavy-connections'], true) as number,
      rate: positive('heavy-rate', args['heavy-rate'], false) as number,
    }),
    heartbeats: Object.freeze({
      services: positive('heartbeat-services', args['heartbeat-services'], true) as number,
      perSession: positive('heartbeat-per-session', args['heartbeat-per-session'], true) as number,
      intervalSeconds: positive('heartbeat-interval', args['heartbeat-interval'], false) as number,
    }),
    impactSweep: Object.freeze(args['max-impact-sweep'].split(',').map((s) => s.trim()).filter((s) => s !== '')),
    manyCells: positive('many-cells', args['many-cells'], true) as number,
    scenarios,
    keep: args.keep,
    output: args.output,
  });
}

/** The same deployment, `factor` times bigger. */
export function scaled(sizes: CellSizes, factor: number): CellSizes {
  return Object.freeze({ ...sizes, groups: sizes.groups * factor, computeNodes: sizes.computeNodes * factor });
}
