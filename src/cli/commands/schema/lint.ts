import type { Argv } from 'yargs';
import { describeRules, dialectLabel, InvalidInputError, lintMigrations, type LintReport, tally, writeJunit } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import { CHECK_ERROR_EXIT, countsLine, junitTarget, scratchServers, wrap, wrapPath } from '../../check-support.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';
import { lineFor } from '../line-commands.js';

interface Args extends GlobalArgs {
  readonly scratch?: string[] | undefined;
  readonly line?: string[] | undefined;
  readonly 'large-table'?: string[] | undefined;
  readonly junit?: string | undefined;
}

const shorten = (sql: string, max = 90): string => {
  const flat = sql.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function print(rt: Runtime, report: LintReport, servers: readonly string[]): void {
  const open = report.findings.filter((f) => !f.allowed);
  const allowed = report.findings.filter((f) => f.allowed);
  if (rt.output.json) {
    rt.output.data({
      exit_code: report.exitCode,
      servers,
      rules: describeRules(),
      summary: tally(report.checks),
      findings: open,
      allowed,
      checks: report.checks,
    });
    return;
  }
  if (open.length > 0) {
    rt.output.table(
      ['Rule', 'Dialect', 'Migration file', 'Statement', 'Problem'],
      open.map((f) => [f.rule, dialectLabel(f.dialect), wrapPath(f.file), wrap(shorten(f.statement, 120), 48), wrap(f.message, 60)]),
    );
  }
  if (allowed.length > 0) {
    // One row per rule, dialect and migration: the reason is the same for each statement.
    const seen = new Map<string, (typeof allowed)[number] & { count: number }>();
    for (const f of allowed) {
      const key = `${f.rule}|${f.dialect}|${f.line}|${f.migration}`;
      const entry = seen.get(key);
      if (entry) entry.count++;
      else seen.set(key, { ...f, count: 1 });
    }
    rt.output.line('Allowed hazards:');
    rt.output.table(
      ['Rule', 'Dialect', 'Migration', 'Statements', 'Allowed by', 'Reason'],
      [...seen.values()].map((f) => [f.rule, dialectLabel(f.dialect), `${f.line}/${f.migration}`, f.count, f.allowed?.by, wrap(f.allowed?.reason ?? '', 60)]),
    );
  }
  for (const c of report.checks.filter((x) => x.status === 'error' || (x.status === 'failed' && x.name === 'runs on a scratch database'))) {
    rt.output.line(`${c.subject}: ${c.name}: ${c.summary}`);
  }
  rt.output.line(`schema lint: ${open.length} hazard${open.length === 1 ? '' : 's'}, ${allowed.length} allowed; checks: ${countsLine(tally(report.checks))} (exit ${report.exitCode})`);
}

/** `schema lint`: exit 0 no hazard, 2 hazards (or a migration that does not run), 255 could not lint, 127 bad input. */
export function schemaLintCommand(rt: Runtime) {
  return {
    command: 'lint',
    describe: 'Lint the SQL each migration sends, on a scratch database of each dialect: banned operations, locking and rewriting DDL',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('scratch', { type: 'string', array: true, describe: 'A server to lint on (repeat: one PostgreSQL and one MariaDB) [default: the servers of --api-db and --db]' })
        .option('line', { type: 'string', array: true, choices: ['api', 'cell'], describe: 'Only these lines [default: both]' })
        .option('large-table', { type: 'string', array: true, describe: 'Also treat TABLE as large (index builds must be CONCURRENTLY)' })
        .option('junit', { type: 'string', describe: 'Also write a JUnit XML report (one test case per migration and rule) to FILE' }) as Argv<Args>,
    errorExitCode: CHECK_ERROR_EXIT,
    run: async (args: Args) => {
      const junit = junitTarget(args.junit);
      const config = await rt.config();
      const servers = await scratchServers(rt, args.scratch);
      if (servers.length === 0) {
        throw new InvalidInputError('schema lint runs the migrations on scratch databases: pass --scratch URL (repeat it for PostgreSQL and MariaDB), --api-db/--db, or --embedded');
      }
      const dialects = new Set(servers.map((s) => s.dialect));
      for (const missing of (['postgres', 'mysql'] as const).filter((d) => !dialects.has(d))) {
        rt.output.notice(`no ${dialectLabel(missing)} server given: the ${dialectLabel(missing)} rules are not run (add --scratch URL for one)`);
      }
      const ids = args.line?.length ? (args.line as Array<'api' | 'cell'>) : (['api', 'cell'] as const);
      const report = await lintMigrations({
        servers,
        lines: ids.map((id) => lineFor(id, config)),
        largeTables: args['large-table'],
        config,
        onProgress: (text) => rt.output.notice(text),
      });
      if (junit) writeJunit(junit, 'cellsdb schema lint', report.checks);
      print(rt, report, servers.map((s) => s.masked));
      return report.exitCode;
    },
  } satisfies LeafCommand<Args>;
}
