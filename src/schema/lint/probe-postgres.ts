// The PostgreSQL probe: the line's statements are replayed inside one transaction that is rolled
// back at the end, and the storage (`relfilenode`) of every table is compared before and after each
// statement. A table whose storage changed was rewritten: the server says so, whatever the statement
// looked like (an ALTER COLUMN TYPE to the same type or to a binary-compatible one is not a rewrite;
// int to bigint, or a volatile default, is). CONCURRENTLY is dropped for the replay, which cannot
// run outside the transaction; it builds the same index.
import type { SessionConnection } from '../../db/dialect.js';
import { driverMessage } from '../../db/translate-error.js';
import type { DialectProbe, ProbeInput, ProbeOutcome } from './probe.js';
import { replayParams } from './probe.js';
import type { ProbeFacts } from './types.js';

async function storage(session: SessionConnection): Promise<Map<string, string>> {
  const rows = await session.query<{ relname: string; relfilenode: string | number }>(
    `SELECT c.relname::text AS relname, c.relfilenode FROM pg_class c
      WHERE c.relkind = 'r' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`,
  );
  return new Map(rows.map((r) => [r.relname, String(r.relfilenode)]));
}

const withoutConcurrently = (s: ProbeInput): string =>
  s.parsed.kind === 'create-index' || s.parsed.kind === 'drop-index' ? s.sql.replace(/\bCONCURRENTLY\b/i, '') : s.sql;

export const postgresProbe: DialectProbe = {
  dialect: 'postgres',
  async replay(session, statements): Promise<ProbeOutcome> {
    const facts: Array<ProbeFacts | undefined> = [];
    let stoppedAt: ProbeOutcome['stoppedAt'];
    await session.query('BEGIN');
    try {
      let before = await storage(session);
      for (const [index, s] of statements.entries()) {
        if (s.parsed.kind === 'read') {
          facts.push(undefined);
          continue;
        }
        const params = replayParams(s.bind);
        if (params === false) {
          stoppedAt = { index, message: 'a statement with named bind parameters cannot be replayed' };
          break;
        }
        try {
          await session.query(withoutConcurrently(s), params);
        } catch (error) {
          stoppedAt = { index, message: driverMessage(error) };
          break;
        }
        const after = await storage(session);
        const rewrote = [...before].filter(([table, node]) => after.has(table) && after.get(table) !== node).map(([table]) => table);
        facts.push({ rewrote });
        before = after;
      }
    } finally {
      await session.query('ROLLBACK').catch(() => undefined);
    }
    return stoppedAt ? { facts, stoppedAt } : { facts };
  },
};
