import { Sequelize } from 'sequelize';
import { DEFAULTS } from '../config/defaults.js';
import type { DatabaseUrl } from '../url/index.js';
import type { DialectAdapter, PoolOptions, SessionConnection } from './dialect.js';
import { dialectFor } from './dialects.js';
import { translateDriverError } from './translate-error.js';

/**
 * A pooled handle on one database: the Sequelize instance, its dialect module and its masked URL.
 * A consumer that needs one part of the dialect says so: `DatabaseHandle<DialectSql>`.
 */
export interface DatabaseHandle<Parts = DialectAdapter> {
  readonly sequelize: Sequelize;
  readonly dialect: Parts;
  readonly url: DatabaseUrl;
  /** Runs `work`, translating any driver error into ours with this database's masked URL. */
  run<T>(work: (sequelize: Sequelize) => Promise<T>): Promise<T>;
}

/**
 * Owns every connection the toolkit opens: pooled Sequelize instances (cached per URL and purpose)
 * and dedicated sessions. `close()` ends them all; callers close the registry in `finally`.
 */
export class ConnectionRegistry {
  private readonly handles = new Map<string, DatabaseHandle>();
  private readonly sessions = new Set<SessionConnection>();
  private closed = false;
  /** Server-side ids of the pooled connections open now (to tell our sessions from other clients'). */
  private readonly serverIds = new Set<number>();

  private readonly defaults: PoolOptions & { readonly connectTimeoutMs: number };

  /**
   * @param defaults pool options for every handle. Pools stay small so that many cells do not
   * exhaust the servers' connection limits.
   */
  constructor(defaults: PoolOptions = {}) {
    this.defaults = { ...defaults, connectTimeoutMs: defaults.connectTimeoutMs ?? DEFAULTS.connectTimeoutSeconds * 1000 };
  }

  /** The connect timeout of every connection this registry opens, pooled or dedicated. */
  get connectTimeoutMs(): number {
    return this.defaults.connectTimeoutMs;
  }

  /** A pooled handle on `url`, opened lazily and cached by URL and `purpose`. */
  open(url: DatabaseUrl, options: PoolOptions & { purpose?: string } = {}): DatabaseHandle {
    if (this.closed) throw new Error('connection registry is closed');
    const key = `${options.purpose ?? 'default'}\u0000${url.raw}`;
    const cached = this.handles.get(key);
    if (cached) return cached;
    const pool: PoolOptions = { ...this.defaults, ...options };
    const dialect = dialectFor(url.dialect);
    const sequelize = new Sequelize(dialect.sequelizeOptions(url, pool));
    const statements = dialect.onConnectStatements(pool);
    sequelize.addHook('afterConnect', async (connection: unknown) => {
      const id = dialect.sessionId(connection);
      if (id !== undefined) this.serverIds.add(id);
      const conn = connection as { query: (sql: string, cb: (err: unknown) => void) => void };
      for (const sql of statements) {
        await new Promise<void>((resolve, reject) => conn.query(sql, (err) => (err ? reject(err) : resolve())));
      }
    });
    sequelize.addHook('beforeDisconnect', (connection: unknown) => {
      const id = dialect.sessionId(connection);
      if (id !== undefined) this.serverIds.delete(id);
    });
    const handle: DatabaseHandle = {
      sequelize,
      dialect,
      url,
      async run(work) {
        try {
          return await work(sequelize);
        } catch (error) {
          throw translateDriverError(error, url);
        }
      },
    };
    this.handles.set(key, handle);
    return handle;
  }

  /**
   * The server ids (PostgreSQL backend pids, MariaDB thread ids) of this registry's pooled connections,
   * over every server it talks to (an id of one server may be excluded on another by mistake: harmless).
   */
  ownSessionIds(): number[] {
    return [...this.serverIds];
  }

  /** Opens a pooled handle and proves the database answers (errors translated, URL masked). */
  async connect(url: DatabaseUrl, options: PoolOptions & { purpose?: string } = {}): Promise<DatabaseHandle> {
    const handle = this.open(url, options);
    await handle.run((s) => s.authenticate());
    return handle;
  }

  /** A dedicated connection outside every pool (for locks), closed with the registry. */
  async openSession(url: DatabaseUrl, applicationName: string): Promise<SessionConnection> {
    const dialect = dialectFor(url.dialect);
    let session: SessionConnection;
    try {
      session = await dialect.openSession(url, {
        connectTimeoutMs: this.defaults.connectTimeoutMs,
        applicationName,
      });
    } catch (error) {
      throw translateDriverError(error, url);
    }
    const tracked: SessionConnection = {
      query: async (sql, params) => {
        try {
          return await session.query(sql, params);
        } catch (error) {
          throw translateDriverError(error, url);
        }
      },
      close: async () => {
        this.sessions.delete(tracked);
        await session.close().catch(() => undefined);
      },
    };
    this.sessions.add(tracked);
    return tracked;
  }

  /** Closes every session and pool. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.sessions];
    this.sessions.clear();
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled([
      ...sessions.map((s) => s.close()),
      ...handles.map((h) => h.sequelize.close()),
    ]);
  }
}
