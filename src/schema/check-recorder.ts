// What the parts of `schema check` share: the findings of one database, and the recorder that
// turns what was found into checks (one JUnit test case each).
import type { LedgerProblem } from '../migrate/plan.js';
import type { LineId } from '../migrate/types.js';
import type { CheckResult, CheckStatus } from '../report/checks.js';
import type { DriftReport } from './drift.js';

/** What was found in one database. */
export interface DatabaseFindings {
  readonly subject: string;
  readonly line: LineId;
  /** Masked; a scratch database is named by its server. */
  readonly database: string;
  readonly current: string | null;
  readonly head: string | null;
  readonly pending: readonly string[];
  readonly problems: readonly LedgerProblem[];
  /** What the schema was compared with, and the result; absent when it could not be compared. */
  readonly drift?: DriftReport & { readonly expected: string };
}

/** Collects the checks of one subject, each timed from when it started. */
export class Recorder {
  readonly checks: CheckResult[] = [];
  constructor(private readonly subject: string) {}
  add(name: string, status: CheckStatus, summary: string, details: readonly string[], started: number): void {
    this.checks.push({ subject: this.subject, name, status, summary, details, ms: Date.now() - started });
  }
}

function driftDetails(expectedLabel: string, actualLabel: string, report: DriftReport): string[] {
  return [
    `--- expected: ${expectedLabel}`,
    `+++ actual:   ${actualLabel}`,
    ...report.drift.map((d) => d.text),
    ...report.allowed.map((a) => `  ${a.item.text.slice(2)} — allowed, planned removal: ${a.reason}`),
  ];
}

/** The drift check: failed with a diff, or passed (listing the planned removals it allowed). */
export function driftCheck(rec: Recorder, name: string, expectedLabel: string, actualLabel: string, report: DriftReport, started: number): void {
  const details = driftDetails(expectedLabel, actualLabel, report);
  if (report.drift.length > 0) {
    rec.add(name, 'failed', `${report.drift.length} difference${report.drift.length === 1 ? '' : 's'} from ${expectedLabel}`, details, started);
  } else {
    rec.add(name, 'passed', report.allowed.length > 0 ? `matches (${report.allowed.length} planned removal${report.allowed.length === 1 ? '' : 's'} allowed)` : 'matches', report.allowed.length > 0 ? details : [], started);
  }
}

/** The ledger integrity check, from the problems of a database's sync plan. */
export function integrityCheck(rec: Recorder, problems: readonly LedgerProblem[], started: number): void {
  if (problems.length === 0) rec.add('ledger integrity', 'passed', 'the ledger matches the migration files', [], started);
  else rec.add('ledger integrity', 'failed', problems[0]?.message ?? 'ledger problem', problems.map((p) => `${p.kind}: ${p.message}`), started);
}
