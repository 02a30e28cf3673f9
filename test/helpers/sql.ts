import type { ChildProcess } from 'node:child_process';
import { dialectFor } from '../../src/db/dialects.js';
import type { DatabaseUrl } from '../../src/url/index.js';

/** Runs one statement on a fresh session (outside any pool) and returns its rows. */
export async function query<Row>(url: DatabaseUrl, sql: string): Promise<Row[]> {
  const session = await dialectFor(url.dialect).openSession(url, { connectTimeoutMs: 60_000, applicationName: 'cellsdb tests' });
  try {
    return await session.query<Row>(sql);
  } finally {
    await session.close();
  }
}

/** The tables of a database, sorted. */
export async function tableNames(url: DatabaseUrl): Promise<string[]> {
  const rows = await query<{ name: string }>(
    url,
    url.dialect === 'postgres'
      ? `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`
      : `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`,
  );
  return rows.map((r) => r.name).sort();
}

/** Resolves once `pattern` shows up on the child's stderr; rejects if it exits first or `timeoutMs` passes. */
export function waitForStderr(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) done();
    };
    const onClose = () => done(new Error(`the CLI exited before printing ${pattern}; stderr: ${seen}`));
    const timer = setTimeout(() => done(new Error(`no ${pattern} on stderr within ${timeoutMs} ms; stderr: ${seen}`)), timeoutMs);
    child.stderr?.on('data', onData);
    child.once('close', onClose);
  });
}
