import type { Argv } from 'yargs';
import type { GlobalArgs } from './runtime.js';

/** What a command's `run` returns: the process exit code (nothing for 0). */
export type ExitStatus = number | void;

/**
 * A command that does something: its arguments typed by its builder, its work in `run`, which
 * throws or returns an exit code. Only `main` turns either into the process's exit code.
 */
export interface LeafCommand<Args> {
  readonly command: string;
  readonly describe: string;
  readonly builder?: (y: Argv<GlobalArgs>) => Argv<Args>;
  /**
   * The exit code of every error but invalid input: the check commands' 255, since their 1 and 2
   * carry findings and an error that stops a check must not read as one of them.
   */
  readonly errorExitCode?: number;
  run(args: Args): Promise<ExitStatus>;
}

/** Any {@link LeafCommand}, its arguments erased (a group lists commands of different arguments). */
export interface AnyLeafCommand {
  readonly command: string;
  readonly describe: string;
  readonly builder?: unknown;
  readonly errorExitCode?: number;
  run(args: never): Promise<ExitStatus>;
}

/** A command made of subcommands (`cell_v2 …`, `db …`), registered in the order given. */
export interface CommandGroup {
  readonly command: string;
  readonly describe: string;
  readonly subcommands: readonly Command[];
}

export type Command = AnyLeafCommand | CommandGroup;
