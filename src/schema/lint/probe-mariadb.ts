// The MariaDB probe: DDL commits at once there, so the line's statements are replayed on a scratch
// database of their own. Each ALTER TABLE (and CREATE/DROP INDEX, which MariaDB runs as one) is
// first tried with ALGORITHM=INSTANT, then with LOCK=NONE; the server refuses either with
// ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON) when it cannot, saying why, and applies nothing. The
// statement then runs as written, so that the replay stays in step with the migrations.
import type { SessionConnection } from '../../db/dialect.js';
import { driverMessage, isOnlineAlterRefused } from '../../db/translate-error.js';
import type { DialectProbe, ProbeInput, ProbeOutcome } from './probe.js';
import { replayParams } from './probe.js';
import type { ProbeFacts } from './types.js';

type Attempt = { ok: true } | { ok: false; notSupported: boolean; message: string };

async function attempt(session: SessionConnection, sql: string, params: unknown[] | undefined): Promise<Attempt> {
  try {
    await session.query(sql, params);
    return { ok: true };
  } catch (error) {
    return { ok: false, notSupported: isOnlineAlterRefused(error), message: driverMessage(error) };
  }
}

async function probeOnline(session: SessionConnection, s: ProbeInput, params: unknown[] | undefined): Promise<ProbeFacts | undefined> {
  const base = s.sql.replace(/;\s*$/, '');
  if (/\b(ALGORITHM|LOCK)\s*=/i.test(base)) {
    // The statement chose for itself; it either ran as chosen or failed.
    const ran = await attempt(session, base, params);
    if (!ran.ok) throw new Error(ran.message);
    const instant = /\bALGORITHM\s*=\s*INSTANT\b/i.test(base);
    return { online: { instant, lockNone: instant || /\bLOCK\s*=\s*NONE\b/i.test(base), reason: 'the statement sets ALGORITHM/LOCK itself' } };
  }
  // ALGORITHM and LOCK are clauses of ALTER TABLE's list, and trail CREATE/DROP INDEX without a comma.
  const clause = (c: string) => (s.parsed.kind === 'alter-table' ? `${base}, ${c}` : `${base} ${c}`);
  const instant = await attempt(session, clause('ALGORITHM=INSTANT'), params);
  if (instant.ok) return { online: { instant: true, lockNone: true, reason: undefined } };
  if (instant.notSupported) {
    const lockNone = await attempt(session, clause('LOCK=NONE'), params);
    if (lockNone.ok) return { online: { instant: false, lockNone: true, reason: instant.message } };
    if (lockNone.notSupported) {
      const plain = await attempt(session, base, params);
      if (!plain.ok) throw new Error(plain.message);
      return { online: { instant: false, lockNone: false, reason: lockNone.message } };
    }
  }
  // The server did not take the clause at all (a statement form we do not know): no verdict.
  const plain = await attempt(session, base, params);
  if (!plain.ok) throw new Error(plain.message);
  return undefined;
}

export const mariadbProbe: DialectProbe = {
  dialect: 'mysql',
  async replay(session, statements): Promise<ProbeOutcome> {
    const facts: Array<ProbeFacts | undefined> = [];
    for (const [index, s] of statements.entries()) {
      if (s.parsed.kind === 'read') {
        facts.push(undefined);
        continue;
      }
      const params = replayParams(s.bind);
      if (params === false) return { facts, stoppedAt: { index, message: 'a statement with named bind parameters cannot be replayed' } };
      try {
        if (s.parsed.kind === 'alter-table' || s.parsed.kind === 'create-index' || s.parsed.kind === 'drop-index') {
          facts.push(await probeOnline(session, s, params));
        } else {
          const ran = await attempt(session, s.sql, params);
          if (!ran.ok) throw new Error(ran.message);
          facts.push(undefined);
        }
      } catch (error) {
        return { facts, stoppedAt: { index, message: (error as Error).message } };
      }
    }
    return { facts };
  },
};
