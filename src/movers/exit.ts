/** Exit codes of `online_data_migrations` (Nova's, plus 3). */
export const MoverExit = {
  /** Nothing (more) to do. */
  done: 0,
  /** Some rows migrated: run again. */
  more: 1,
  /** Errors and no progress. */
  errors: 2,
  /** Only rows an operator must unblock remain. */
  blocked: 3,
} as const;

export type MoverExitCode = (typeof MoverExit)[keyof typeof MoverExit];

/**
 * A run's exit code. `migrated` counts rows migrated in one `--max-count` run (`limited`); without
 * it the run went on until a pass did nothing, so "run again" never applies and errors always win.
 * `blocked`: rows only an operator can unblock.
 */
export function runExitCode(outcome: { readonly limited: boolean; readonly migrated: number; readonly errors: number; readonly blocked: number }): MoverExitCode {
  if (outcome.errors > 0 && (!outcome.limited || outcome.migrated === 0)) return MoverExit.errors;
  if (outcome.migrated > 0) return MoverExit.more;
  if (outcome.blocked > 0) return MoverExit.blocked;
  return MoverExit.done;
}

/** A dry run's exit code: what a run would say, from the rows `remaining` (of which `blocked`). */
export function dryRunExitCode(estimate: { readonly errors: number; readonly remaining: number; readonly blocked: number }): MoverExitCode {
  if (estimate.errors > 0) return MoverExit.errors;
  if (estimate.remaining === 0) return MoverExit.done;
  return estimate.remaining === estimate.blocked ? MoverExit.blocked : MoverExit.more;
}
