import type { Argv } from 'yargs';
import { checkSchema, InvalidInputError, type SchemaCheckReport, tally, writeJunit } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import { CHECK_ERROR_EXIT, countsLine, junitTarget, scratchServers, urlOption, wrap } from '../../check-support.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';
import { lineFor } from '../line-commands.js';

interface Args extends GlobalArgs {
  readonly 'against-api'?: string | undefined;
  readonly 'against-db'?: string | undefined;
  readonly scratch?: string[] | undefined;
  readonly cell?: string[] | undefined;
  readonly junit?: string | undefined;
}

const RESULT = { passed: 'Passed', pending: 'Pending', failed: 'FAILED', error: 'ERROR', skipped: 'Skipped' } as const;

function print(rt: Runtime, report: SchemaCheckReport): void {
  const counts = tally(report.checks);
  if (rt.output.json) {
    rt.output.data({ mode: report.mode, exit_code: report.exitCode, summary: counts, checks: report.checks, databases: report.databases });
    return;
  }
  rt.output.table(
    ['Database', 'Check', 'Result', 'Details'],
    report.checks.map((c) => [c.subject, c.name, RESULT[c.status], wrap(c.summary, 70)]),
  );
  for (const c of report.checks.filter((x) => x.details.length > 0 && x.status !== 'passed')) {
    rt.output.line(`\n${c.subject}: ${c.name} (${RESULT[c.status]})`);
    for (const d of c.details) rt.output.line(`  ${d}`);
  }
  rt.output.line(`\nschema check: ${countsLine(counts)} (exit ${report.exitCode})`);
}

/**
 * `schema check`: exit 0 clean, 1 migrations pending (nothing worse), 2 drift or a ledger integrity
 * failure, 255 a check could not run, 127 bad input.
 */
export function schemaCheckCommand(rt: Runtime) {
  return {
    command: 'check',
    describe: 'CI check: pending migrations, ledger integrity and drift from the declared models (scratch databases, or a live database read-only)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('against-api', { type: 'string', describe: 'Check this live API database (read-only) and every cell it maps' })
        .option('against-db', { type: 'string', describe: 'Check this live cell database (read-only)' })
        .option('scratch', { type: 'string', array: true, describe: 'A server for scratch databases (repeat: one PostgreSQL and one MariaDB to check both) [default: the servers of --api-db and --db]' })
        .option('cell', { type: 'string', array: true, describe: 'With --against-api: only these cells (name or uuid)' })
        .option('junit', { type: 'string', describe: 'Also write a JUnit XML report (one test case per check) to FILE' }) as Argv<Args>,
    errorExitCode: CHECK_ERROR_EXIT,
    run: async (args: Args) => {
      const againstApi = urlOption(args['against-api']);
      const againstDb = urlOption(args['against-db']);
      const junit = junitTarget(args.junit);
      if (args.cell?.length && !againstApi) throw new InvalidInputError('--cell needs --against-api: the cells come from its cell mappings');
      const config = await rt.config();
      const servers = await scratchServers(rt, args.scratch);
      if (!againstApi && !againstDb) {
        if (servers.length === 0) {
          throw new InvalidInputError(
            'schema check builds scratch databases: pass --scratch URL (repeat it for PostgreSQL and MariaDB), --api-db/--db, or --embedded; or check a live database with --against-api URL / --against-db URL',
          );
        }
        rt.output.notice(`checking the migrations on scratch databases (${servers.map((s) => s.masked).join(', ')}); pass --against-api / --against-db to check a live database`);
      }
      const report = await checkSchema({
        lines: { api: lineFor('api', config), cell: lineFor('cell', config) },
        config,
        registry: rt.registry,
        scratchServers: servers,
        againstApi,
        againstDb,
        cells: args.cell,
        concurrency: config.concurrency,
        onProgress: (text) => rt.output.notice(text),
      });
      if (junit) writeJunit(junit, 'cellsdb schema check', report.checks);
      print(rt, report);
      return report.exitCode;
    },
  } satisfies LeafCommand<Args>;
}
