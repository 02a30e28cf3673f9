import type { Argv } from 'yargs';
import { MOVERS, requireApiDb, runUpgradeChecks, upgradeExitCode } from '../../../index.js';
import type { LeafCommand } from '../../command.js';
import { CHECK_ERROR_EXIT, wrap } from '../../check-support.js';
import type { GlobalArgs, Runtime } from '../../runtime.js';
import { lineFor } from '../line-commands.js';

interface Args extends GlobalArgs {
  readonly 'api-version'?: string | undefined;
  readonly 'cell-version'?: string | undefined;
}

/**
 * `upgrade check` (nova-status upgrade check): a table `Check | Result | Details`; exit 0 every
 * check succeeded, 1 warnings, 2 failures, 255 the checks could not run, 127 bad input.
 */
export function upgradeCheckCommand(rt: Runtime) {
  return {
    command: 'check',
    describe: 'May the upgrade go on? Cells mapped and reachable, hosts mapped, schemas at head (or VERSION), movers complete, ledgers clean',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('api-version', { type: 'string', describe: 'The API schema must be at or past VERSION (name or number) [default: head]' })
        .option('cell-version', { type: 'string', describe: 'Every cell schema must be at or past VERSION (name or number) [default: head]' }) as Argv<Args>,
    errorExitCode: CHECK_ERROR_EXIT,
    run: async (args: Args) => {
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
      if (rt.output.json) {
        rt.output.data({ exit_code: exitCode, checks: results.map((r) => ({ check: r.name, result: r.result, details: r.details })) });
      } else {
        rt.output.table(['Check', 'Result', 'Details'], results.map((r) => [r.name, r.result, r.details.map((d) => wrap(d, 80)).join('\n')]));
      }
      return exitCode;
    },
  } satisfies LeafCommand<Args>;
}
