// Nova's banned operations (test_migrations.py, BannedDBSchemaOperations): from the expand cut-off
// on, a migration may not drop or alter a table or a column, because the previous release's code is
// still running against the database while it is upgraded. Tables and columns go in a contract
// migration behind a blocker, with an entry in the allow-list (src/schema/lint/policy.ts) saying why.
import type { LintRule, RuleContext } from '../types.js';

const afterCutoff = (ctx: RuleContext): boolean => ctx.migration.number >= ctx.policy.expandCutoff;
const where = (ctx: RuleContext): string => `after the expand cut-off (the ${ctx.line} line is additive from migration ${ctx.policy.expandCutoff} on)`;

export const bannedDrop: LintRule = {
  id: 'banned-drop',
  dialects: ['postgres', 'mysql'],
  summary: 'drops a table or a column after the expand cut-off',
  needsProbe: false,
  check(ctx) {
    if (!afterCutoff(ctx)) return [];
    const s = ctx.statement.parsed;
    const why = 'code of the previous release still running during the upgrade may read it; drop it in a contract migration behind a blocker';
    if (s.kind === 'drop-table') {
      return s.tables.filter((t) => !ctx.newTables.has(t)).map((t) => `drops table ${t} ${where(ctx)}: ${why}`);
    }
    if (s.kind === 'alter-table' && !ctx.newTables.has(s.table)) {
      return s.actions.flatMap((a) => (a.kind === 'drop-column' ? [`drops column ${s.table}.${a.column} ${where(ctx)}: ${why}`] : []));
    }
    return [];
  },
};

export const bannedAlter: LintRule = {
  id: 'banned-alter',
  dialects: ['postgres', 'mysql'],
  summary: 'alters or renames a table or a column after the expand cut-off',
  needsProbe: false,
  check(ctx) {
    if (!afterCutoff(ctx)) return [];
    const s = ctx.statement.parsed;
    const why = 'code of the previous release still running during the upgrade expects the old definition; add a new column instead and move the data with a mover';
    if (s.kind === 'rename-table') return s.pairs.filter(([from]) => !ctx.newTables.has(from)).map(([from, to]) => `renames table ${from} to ${to} ${where(ctx)}: ${why}`);
    if (s.kind !== 'alter-table' || ctx.newTables.has(s.table)) return [];
    return s.actions.flatMap((a) => {
      if (a.kind === 'alter-column') return [`alters column ${s.table}.${a.column}${a.detail ? ` (${a.detail})` : ''} ${where(ctx)}: ${why}`];
      if (a.kind === 'rename-column') return [`renames column ${s.table}.${a.column} to ${a.to} ${where(ctx)}: ${why}`];
      if (a.kind === 'rename-table') return [`renames table ${s.table} to ${a.to} ${where(ctx)}: ${why}`];
      return [];
    });
  },
};
