// The toolkit's lint policy: where each line's expand-only rule starts, which tables are large, and
// the explicit allow-list of hazards accepted on purpose, each with its reason — Nova's "Reviewers:
// DO NOT ALLOW THINGS TO BE ADDED HERE" list in test_migrations.py, kept where reviewers see it.
import type { LineId } from '../../migrate/types.js';
import type { LinePolicy } from './types.js';

/** A hazard accepted in one migration, with the reason. */
export interface AllowedHazard {
  readonly line: LineId;
  readonly migration: string;
  readonly rules: readonly string[];
  readonly reason: string;
}

export interface LintPolicy {
  readonly expandCutoff: Readonly<Record<LineId, number>>;
  readonly largeTables: Readonly<Record<LineId, readonly string[]>>;
  readonly allowed: readonly AllowedHazard[];
}

export const DEFAULT_LINT_POLICY: LintPolicy = Object.freeze({
  // Each line's first migration is its baseline schema; everything after it runs while the previous
  // release's code is live and must be additive, unless allowed below.
  expandCutoff: Object.freeze({ api: 2, cell: 2 }),
  // A row per instance (or per instance and group): millions in a big cloud. Services and compute
  // nodes have a row per host: thousands at most.
  largeTables: Object.freeze({ api: Object.freeze(['instance_mappings', 'instance_group_member']), cell: Object.freeze(['instances']) }),
  allowed: Object.freeze([
    {
      line: 'cell',
      migration: '0002_compute_nodes_host_expand',
      rules: ['banned-alter'],
      reason:
        "makes compute_nodes.service_id nullable after dropping its foreign key, as Nova's 278 did (on Nova's own exception list): " +
        'relaxing a constraint cannot break code that still writes service_id, and the mover needs to null it',
    },
    {
      line: 'cell',
      migration: '0005_drop_legacy_instance_groups',
      rules: ['banned-drop'],
      reason:
        'the contract step: blocker 0004 refuses to let a cell reach it until every live legacy group is copied to the API database, ' +
        'and no code of this release reads the legacy tables',
    },
  ] satisfies AllowedHazard[]),
});

/** The policy of one line, with extra large tables (`--large-table`). */
export function linePolicy(policy: LintPolicy, line: LineId, extraLargeTables: readonly string[] = []): LinePolicy {
  return { expandCutoff: policy.expandCutoff[line], largeTables: new Set([...policy.largeTables[line], ...extraLargeTables]) };
}
