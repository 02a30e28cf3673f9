import type { Argv } from 'yargs';
import { InvalidInputError, MOVERS, requireApiDb, runUpgradeChecks, type UpgradeCheckResult, upgradeExitCode, type UpgradeResult } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import { CHECK_ERROR_EXIT } from '../../check-support.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';
import { summarise, wrapWords } from '../../table.js';
import { lineFor } from '../line-commands.js';

interface Args extends GlobalArgs {
  readonly 'api-version'?: string | undefined;
  readonly 'cell-version'?: string | undefined;
  readonly format?: string | undefined;
  readonly verbose?: boolean | undefined;
}

/** oslo.upgradecheck's codes (`Code`): what `result` holds in its JSON. */
const RESULT_CODE: Record<UpgradeResult, number> = { Success: 0, Warning: 1, Failure: 2 };

/** oslo.upgradecheck's `display_title`: the table's one header and the JSON's `name`. */
export const UPGRADE_CHECK_TITLE = 'Upgrade Check Results';

/**
 * The JSON document of `nova-status upgrade check --json` (oslo.upgradecheck's `_Output`): `name`,
 * and per check its name, its code (0 Success, 1 Warning, 2 Failure) and its details as one string
 * (lines joined with newlines; null when there are none). `exit_code` is ours, beside oslo's keys.
 */
export function upgradeCheckJson(results: readonly UpgradeCheckResult[], exitCode: number) {
  return {
    name: UPGRADE_CHECK_TITLE,
    checks: results.map((r) => ({ check: r.name, result: RESULT_CODE[r.result], details: r.details.length > 0 ? r.details.join('\n') : null })),
    exit_code: exitCode,
  };
}

/**
 * One row of nova-status's table: `Check: NAME`, `Result: WORD`, `Details: …` with the details
 * wrapped at 60 columns and later lines indented by two spaces (oslo's `_get_details`), `None`
 * when there are none. Long lists of details are summarised unless `all` is set.
 */
export function upgradeCheckCell(result: UpgradeCheckResult, all: boolean): string {
  // What to run next is never summarised away: only the findings before it are.
  const isRemedy = (d: string): boolean => /^(Run|A blocker migration) /.test(d);
  const shown = [...summarise(result.details.filter((d) => !isRemedy(d)), { all }), ...result.details.filter(isRemedy)];
  const details = shown.flatMap((d, i) => wrapWords(d, 60, '  ').map((l, j) => (i > 0 && j === 0 ? `  ${l}` : l)));
  return [`Check: ${result.name}`, `Result: ${result.result}`, `Details: ${details.length > 0 ? details.join('\n') : 'None'}`].join('\n');
}

/**
 * `upgrade check` (nova-status upgrade check): nova-status's one-column table, or with `--json` /
 * `--format json` oslo.upgradecheck's JSON; exit 0 every check succeeded, 1 warnings, 2 failures,
 * 255 the checks could not run, 127 bad input.
 */
export function upgradeCheckCommand(rt: Runtime) {
  return {
    command: 'check',
    describe: 'May the upgrade go on? Cells mapped and reachable, hosts mapped, schemas at head (or VERSION), movers complete, ledgers clean',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('api-version', { type: 'string', describe: 'The API schema must be at or past VERSION (name or number) [default: head]' })
        .option('cell-version', { type: 'string', describe: 'Every cell schema must be at or past VERSION (name or number) [default: head]' })
        .option('format', { type: 'string', describe: "table (nova-status's) or json (oslo.upgradecheck's shape; same as --json) [default: table]" })
        .option('verbose', { type: 'boolean', describe: 'List every detail in the table (long lists are summarised otherwise)' }) as Argv<Args>,
    errorExitCode: CHECK_ERROR_EXIT,
    run: async (args: Args) => {
      const format = args.format ?? (rt.output.json ? 'json' : 'table');
      if (format !== 'json' && format !== 'table') throw new InvalidInputError(`unknown --format '${format}': use json or table`);
      if (format === 'table' && rt.output.json) throw new InvalidInputError('--json and --format table disagree: give one');
      const config = await rt.config();
      const apiUrl = requireApiDb(config);
      const lines = { api: lineFor('api', config), cell: lineFor('cell', config) };
      const results = await runUpgradeChecks({
        registry: rt.registry,
        api: await rt.apiDatabase(),
        apiUrl,
        serviceGroup: await rt.serviceGroup(),
        lines,
        apiVersion: args['api-version'],
        cellVersion: args['cell-version'],
        config,
        movers: MOVERS,
        timeouts: { lockWaitMs: config.ddlLockTimeoutMs, statementTimeoutMs: config.statementTimeoutMs },
        concurrency: config.concurrency,
      });
      const exitCode = upgradeExitCode(results);
      if (format === 'json') rt.output.data(upgradeCheckJson(results, exitCode));
      else {
        rt.output.table(
          [UPGRADE_CHECK_TITLE],
          results.map((r) => [upgradeCheckCell(r, args.verbose === true)]),
          { align: 'l', hrules: 'all' },
        );
      }
      return exitCode;
    },
  } satisfies LeafCommand<Args>;
}
