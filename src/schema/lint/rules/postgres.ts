// PostgreSQL hazards: statements that hold an ACCESS EXCLUSIVE (or SHARE) lock for as long as they
// scan or rewrite a table, so that every query on it queues behind them on a live cloud. A table
// created earlier in the same migration is new and empty, and never a hazard.
import type { LintRule } from '../types.js';

export const pgIndexConcurrently: LintRule = {
  id: 'pg-index-concurrently',
  dialects: ['postgres'],
  summary: 'builds an index on a large table without CONCURRENTLY',
  needsProbe: false,
  check(ctx) {
    const s = ctx.statement.parsed;
    const large = (t: string) => ctx.policy.largeTables.has(t) && !ctx.newTables.has(t);
    const fix = "blocks every write to it until the build ends; use CREATE INDEX CONCURRENTLY in a migration that exports transactional = false (for a unique key, then ADD CONSTRAINT … USING INDEX)";
    if (s.kind === 'create-index' && !s.concurrently && large(s.table)) {
      return [`builds ${s.unique ? 'unique index' : 'index'} ${s.name ?? ''} on large table ${s.table} without CONCURRENTLY: ${fix}`.replace('  ', ' ')];
    }
    if (s.kind === 'alter-table' && large(s.table)) {
      return s.actions.flatMap((a) =>
        a.kind === 'add-constraint' && (a.constraint === 'unique' || a.constraint === 'primary key') && !a.usingIndex
          ? [`adds ${a.constraint} ${a.name ?? ''} to large table ${s.table}, which builds its index without CONCURRENTLY: ${fix}`.replace('  ', ' ')]
          : [],
      );
    }
    return [];
  },
};

export const pgAddColumnNotNull: LintRule = {
  id: 'pg-add-column-not-null',
  dialects: ['postgres'],
  summary: 'adds a NOT NULL column without a default',
  needsProbe: false,
  check(ctx) {
    const s = ctx.statement.parsed;
    if (s.kind !== 'alter-table' || ctx.newTables.has(s.table)) return [];
    return s.actions.flatMap((a) =>
      a.kind === 'add-column' && a.notNull && !a.hasDefault
        ? [`adds column ${s.table}.${a.column} NOT NULL without a default: fails on any table that has rows, and old code inserting without it fails too; add it nullable or with a default`]
        : [],
    );
  },
};

export const pgConstraintNotValid: LintRule = {
  id: 'pg-constraint-not-valid',
  dialects: ['postgres'],
  summary: 'adds a foreign key or check constraint without NOT VALID',
  needsProbe: false,
  check(ctx) {
    const s = ctx.statement.parsed;
    if (s.kind !== 'alter-table' || ctx.newTables.has(s.table)) return [];
    const fix = 'add it NOT VALID, then VALIDATE CONSTRAINT in a later migration (which takes only a SHARE UPDATE EXCLUSIVE lock)';
    return s.actions.flatMap((a) => {
      if (a.kind === 'add-constraint' && (a.constraint === 'foreign key' || a.constraint === 'check') && !a.notValid) {
        return [`adds ${a.constraint} ${a.name ?? ''} to ${s.table} without NOT VALID: it scans the whole table while holding a lock that blocks writes; ${fix}`.replace('  ', ' ')];
      }
      if (a.kind === 'add-column' && (a.references || a.check)) {
        return [`adds column ${s.table}.${a.column} with an inline ${a.references ? 'foreign key' : 'check'}, which cannot be NOT VALID: add the column, then the constraint NOT VALID; ${fix}`];
      }
      return [];
    });
  },
};

export const pgTableRewrite: LintRule = {
  id: 'pg-table-rewrite',
  dialects: ['postgres'],
  summary: 'rewrites a table (a type change, a volatile default)',
  needsProbe: true,
  check(ctx) {
    const rewrote = (ctx.statement.facts?.rewrote ?? []).filter((t) => !ctx.newTables.has(t));
    const s = ctx.statement.parsed;
    const typeChange = s.kind === 'alter-table' && s.actions.some((a) => a.kind === 'alter-column' && a.typeChange);
    return rewrote.map(
      (t) =>
        `rewrites table ${t}${typeChange ? ' (a type change that is not binary-compatible)' : ''}, holding an ACCESS EXCLUSIVE lock for the whole copy: ` +
        'add a new column of the new type and move the data with a mover instead',
    );
  },
};
