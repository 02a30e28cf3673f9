import type { Argv, CommandModule } from 'yargs';
import { requireApiDb } from '../../../config.js';
import { MOVERS } from '../../../../movers/index.js';
import { runUpgradeChecks, upgradeExitCode } from '../../../upgrade/checks.js';
import { asCheckCommand, wrap } from '../../check-support.js';
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
    handler: (args: Args) =>
      asCheckCommand(async () => {
        const config = await rt.config();
        const apiUrl = requireApiDb(config);
        const lines = { api: lineFor('api', rt.globals), cell: lineFor('cell', rt.globals) };
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
          timeouts: { lockTimeoutMs: config.ddlLockTimeoutMs, statementTimeoutMs: config.statementTimeoutMs },
          concurrency: rt.globals.concurrency,
        });
        const exitCode = upgradeExitCode(results);
        if (rt.output.json) {
          rt.output.data({ exit_code: exitCode, checks: results.map((r) => ({ check: r.name, result: r.result, details: r.details })) });
        } else {
          rt.output.table(['Check', 'Result', 'Details'], results.map((r) => [r.name, r.result, r.details.map((d) => wrap(d, 80)).join('\n')]));
        }
        rt.exitCode = exitCode;
      }),
  } satisfies CommandModule<GlobalArgs, Args>;
}
