// MariaDB hazard: an ALTER TABLE (CREATE/DROP INDEX are ALTER TABLE there) that the server can run
// neither with ALGORITHM=INSTANT nor with LOCK=NONE, so that it copies the table or blocks writes
// for as long as it runs. The server itself is asked (see probe-mariadb.ts), not a table of rules
// that would go stale with the next MariaDB release.
import type { LintRule } from '../types.js';

export const mariadbOnlineAlter: LintRule = {
  id: 'mariadb-online-alter',
  dialects: ['mysql'],
  summary: 'an ALTER TABLE that can run neither with ALGORITHM=INSTANT nor with LOCK=NONE',
  needsProbe: true,
  check(ctx) {
    const online = ctx.statement.facts?.online;
    const s = ctx.statement.parsed;
    const table = s.kind === 'alter-table' || s.kind === 'create-index' ? s.table : s.kind === 'drop-index' ? s.table : undefined;
    if (!online || online.instant || online.lockNone || table === undefined || ctx.newTables.has(table)) return [];
    return [
      `cannot run on ${table} with ALGORITHM=INSTANT or LOCK=NONE${online.reason ? ` (the server says: ${online.reason})` : ''}: ` +
        'it blocks writes to the table while it copies it; split it into online steps (a new column filled by a mover) or schedule it for a maintenance window',
    ];
  },
};
