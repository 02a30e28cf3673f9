import type { LineId } from '../../migrate/types.js';
import type { Dialect } from '../../url/index.js';
import type { ParsedStatement } from './parse.js';

/** What replaying a statement on a scratch database of its dialect showed (see the probe modules). */
export interface ProbeFacts {
  /** PostgreSQL: tables whose storage the statement rewrote (their `relfilenode` changed). */
  readonly rewrote?: readonly string[];
  /** MariaDB: whether the server accepted the statement with ALGORITHM=INSTANT, or with LOCK=NONE; its reason when not. */
  readonly online?: { readonly instant: boolean; readonly lockNone: boolean; readonly reason: string | undefined };
}

/** One statement a migration sent, read and probed. */
export interface LintStatement {
  readonly sql: string;
  readonly parsed: ParsedStatement;
  /** Undefined when the statement was not probed (a read, or the replay stopped before it). */
  readonly facts: ProbeFacts | undefined;
}

/** The line-specific part of the policy a rule applies. */
export interface LinePolicy {
  /** Migrations numbered from here on must be additive (Nova's banned operations; Nova's was Kilo's 265). */
  readonly expandCutoff: number;
  /** Tables big enough that a blocking index build or rewrite would stall the cloud. */
  readonly largeTables: ReadonlySet<string>;
}

/** Everything a rule sees about one statement. */
export interface RuleContext {
  readonly dialect: Dialect;
  readonly line: LineId;
  readonly migration: { readonly name: string; readonly number: number };
  readonly statement: LintStatement;
  /** Tables created earlier in the same migration: new and empty, so nothing done to them is a hazard. */
  readonly newTables: ReadonlySet<string>;
  readonly policy: LinePolicy;
}

/** A lint rule: pure, one statement at a time. */
export interface LintRule {
  /** Stable id, used in reports and to disable the rule for one migration. */
  readonly id: string;
  /** The dialects whose captured SQL it reads. */
  readonly dialects: readonly Dialect[];
  readonly summary: string;
  /** Whether it needs the probe's facts (it cannot judge a statement the replay did not reach). */
  readonly needsProbe: boolean;
  /** One message per hazard in the statement; none when it is safe. */
  check(ctx: RuleContext): string[];
}

/** A hazard found in a migration's SQL. */
export interface Finding {
  readonly rule: string;
  readonly dialect: Dialect;
  readonly line: LineId;
  readonly migration: string;
  /** The migration's compiled file. */
  readonly file: string;
  /** The statement, or the directive for `lint-directive`. */
  readonly statement: string;
  readonly message: string;
  /** Set when an allow-list entry or a directive in the migration allows it, with the written reason. */
  readonly allowed?: { readonly by: 'allow-list' | 'directive'; readonly reason: string };
}
