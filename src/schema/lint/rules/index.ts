import type { LintRule } from '../types.js';
import { bannedAlter, bannedDrop } from './banned-ops.js';
import { mariadbOnlineAlter } from './mariadb.js';
import { pgAddColumnNotNull, pgConstraintNotValid, pgIndexConcurrently, pgTableRewrite } from './postgres.js';

/** Every lint rule, in report order. */
export const LINT_RULES: readonly LintRule[] = Object.freeze([
  bannedDrop,
  bannedAlter,
  pgIndexConcurrently,
  pgAddColumnNotNull,
  pgConstraintNotValid,
  pgTableRewrite,
  mariadbOnlineAlter,
]);

/** The rule that reports a disable directive it cannot honour (no reason, unknown rule). It cannot be disabled. */
export const DIRECTIVE_RULE = 'lint-directive';
