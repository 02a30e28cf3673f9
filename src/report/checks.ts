// Reports of the check commands, apart from what they check: the outcome of one check, the exit
// code of a set of them, and (junit.ts) the JUnit XML that CI test reporters read.
import { dialectFor } from '../db/dialects.js';
import type { Dialect } from '../url/index.js';

/**
 * The outcome of one check, shared by `schema check` and `schema lint` (and their JUnit reports).
 * `pending` is `schema check`'s "migrations are waiting": not broken, not clean either.
 */
export type CheckStatus = 'passed' | 'pending' | 'failed' | 'error' | 'skipped';

/** One check: a test case in the JUnit report, a row in the table, an entry in the JSON. */
export interface CheckResult {
  /** What it is about (`postgres scratch: API line`, `cell 'cell1'`): the JUnit class name. */
  readonly subject: string;
  /** What was checked (`schema drift`): the JUnit test name. */
  readonly name: string;
  readonly status: CheckStatus;
  /** One line, for people. */
  readonly summary: string;
  /** More lines (a diff, a list of problems), for people. */
  readonly details: readonly string[];
  readonly ms: number;
}

/** Exit codes of `schema check` and `schema lint`. */
export const CheckExit = {
  clean: 0,
  pending: 1,
  failed: 2,
  /** A check could not run (a database unreachable, a replay that could not go on). */
  error: 255,
} as const;

/**
 * The exit code of a set of checks: a failure wins (a definite finding), then an error (something
 * could not be checked), then pending migrations; 0 only when every check passed or was skipped.
 */
export function exitCodeOf(checks: readonly CheckResult[]): number {
  if (checks.some((c) => c.status === 'failed')) return CheckExit.failed;
  if (checks.some((c) => c.status === 'error')) return CheckExit.error;
  if (checks.some((c) => c.status === 'pending')) return CheckExit.pending;
  return CheckExit.clean;
}

/** Counts per status. */
export function tally(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const out: Record<CheckStatus, number> = { passed: 0, pending: 0, failed: 0, error: 0, skipped: 0 };
  for (const c of checks) out[c.status]++;
  return out;
}

/** How dialects are named in reports (`mysql` is the driver's name; the servers are MariaDB). */
export const dialectLabel = (d: Dialect): string => dialectFor(d).label;
