import { randomBytes } from 'node:crypto';
import { CellsdbError, DatabaseConnectionError } from '../errors.js';
import { type DatabaseUrl, withDatabase } from '../url/index.js';
import type { DialectConnection, SessionConnection } from './dialect.js';
import { dialectFor } from './dialects.js';
import { ConnectionRegistry } from './registry.js';
import { driverMessage } from './translate-error.js';

/** Every scratch database's name starts with this, so that one left behind by a killed run is easy to find. */
export const SCRATCH_PREFIX = 'cellsdb_scratch_';

/** A server's identity without its database: two URLs naming databases on one server are the same server. */
export function serverIdentity(url: DatabaseUrl): string {
  return `${url.dialect}://${url.socketPath ?? url.host.toLowerCase()}:${url.port}`;
}

/** The distinct servers among `urls`, in the order given. */
export function distinctServers(urls: ReadonlyArray<DatabaseUrl | undefined>): DatabaseUrl[] {
  const seen = new Map<string, DatabaseUrl>();
  for (const url of urls) if (url && !seen.has(serverIdentity(url))) seen.set(serverIdentity(url), url);
  return [...seen.values()];
}

/** A fresh database name: `cellsdb_scratch_<purpose>_<time>_<random>`, within both dialects' 63-character limit. */
export function scratchName(purpose: string): string {
  const tag = purpose.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 16);
  return `${SCRATCH_PREFIX}${tag}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** The CREATE/DROP DATABASE session: on the URL's database, else the server's maintenance database. */
async function adminSession(registry: ConnectionRegistry, server: DatabaseUrl, connection: DialectConnection): Promise<SessionConnection> {
  try {
    return await registry.openSession(server, 'cellsdb scratch');
  } catch (error) {
    if (!(error instanceof DatabaseConnectionError) || error.reason !== 'unknown-database') throw error;
    return registry.openSession(withDatabase(server, connection.maintenanceDatabase), 'cellsdb scratch');
  }
}

/** A scratch database being used: its URL and a registry of its own, closed before the database is dropped. */
export interface ScratchDatabase {
  readonly url: DatabaseUrl;
  readonly name: string;
  readonly registry: ConnectionRegistry;
}

export interface ScratchOptions {
  /**
   * Told, in one line, when the scratch database could not be dropped: its name, its server and the
   * statement that drops it by hand. The work's result (or error) stands either way.
   */
  readonly onLeftBehind?: ((message: string) => void) | undefined;
  /** The connect timeout of every connection to the scratch database and its server (`--connect-timeout`). @default DEFAULTS.connectTimeoutSeconds × 1000 */
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * Creates a uniquely named database on `server` (same credentials), runs `work` on it, and drops
 * it in `finally`, after closing every connection `work` opened through the scratch registry. The
 * server's other databases are never touched.
 */
export async function withScratchDatabase<T>(
  server: DatabaseUrl,
  purpose: string,
  work: (scratch: ScratchDatabase) => Promise<T>,
  options: ScratchOptions = {},
): Promise<T> {
  const { connectTimeoutMs } = options;
  const admin = new ConnectionRegistry({ max: 1, connectTimeoutMs });
  const connection: DialectConnection = dialectFor(server.dialect);
  const name = scratchName(purpose);
  try {
    const session = await adminSession(admin, server, connection);
    try {
      await connection.createDatabase(session, name);
    } catch (error) {
      throw new CellsdbError(
        `cannot create a scratch database on ${serverIdentity(server)}: ${(error as Error).message}; the user needs the right to create databases there (or pass --scratch URL for another server)`,
        { cause: error },
      );
    }
    const registry = new ConnectionRegistry({ max: 2, connectTimeoutMs });
    try {
      return await work({ url: withDatabase(server, name), name, registry });
    } finally {
      await registry.close();
      await connection.dropDatabase(session, name).catch((error: unknown) => {
        options.onLeftBehind?.(
          `the scratch database ${name} on ${server.masked} was left behind (${driverMessage(error, server)}); drop it by hand: ${connection.dropDatabaseStatement(name)}`,
        );
      });
    }
  } finally {
    await admin.close();
  }
}
