import { type Config, requireApiDb, resolveConfig } from '../config.js';
import type { DatabaseHandle } from '../db/registry.js';
import { selectCells } from '../cells/fan-out.js';
import type { CellMappingRow } from '../cells/mappings.js';
import { InvalidInputError } from '../errors.js';
import { ServiceGroupApi } from '../servicegroup/api.js';
import { ConnectionRegistry } from '../db/registry.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../db/embedded.js';
import { parseDatabaseUrl } from '../url.js';
import { type Output, createOutput, type Writers } from './output.js';

/** Options every command accepts (see main.ts). */
export interface GlobalArgs {
  readonly 'api-db'?: string | undefined;
  readonly db?: string | undefined;
  readonly 'config-file'?: string | undefined;
  readonly embedded?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly debug?: boolean | undefined;
  readonly 'lock-timeout'?: number | undefined;
  readonly 'ddl-lock-timeout'?: number | undefined;
  readonly 'statement-timeout'?: number | undefined;
  readonly 'connect-timeout'?: number | undefined;
  readonly concurrency?: number | undefined;
  readonly 'servicegroup-driver'?: string | undefined;
  readonly 'redis-url'?: string | undefined;
  readonly 'service-down-time'?: number | undefined;
  readonly 'report-interval'?: number | undefined;
  readonly 'api-migrations-dir'?: string | undefined;
  readonly 'cell-migrations-dir'?: string | undefined;
}

/**
 * What a command handler works with: the configuration (resolved once, on first use, so that
 * `--help` connects to nothing), the connection registry, the output, and the exit code it sets.
 * `main` creates one per process and closes it in `finally`.
 */
export class Runtime {
  readonly registry: ConnectionRegistry;
  exitCode = 0;
  private config_: Promise<Config> | undefined;
  private embedded: EmbeddedServer | undefined;
  private output_: Output | undefined;
  private serviceGroup_: Promise<ServiceGroupApi> | undefined;

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly writers: Writers,
    private args: GlobalArgs = {},
  ) {
    this.registry = new ConnectionRegistry({ max: 4, connectTimeoutMs: 10_000 });
  }

  /** Called by main once yargs has parsed the global options. */
  useArgs(args: GlobalArgs): void {
    this.args = args;
    this.output_ = undefined;
  }

  get output(): Output {
    this.output_ ??= createOutput(this.args.json === true, this.writers);
    return this.output_;
  }

  get globals(): GlobalArgs {
    return this.args;
  }

  /** The resolved configuration; with `--embedded`, starts the local server and points both URLs at it. */
  config(): Promise<Config> {
    this.config_ ??= this.resolve();
    return this.config_;
  }

  /** A connected handle on the API database (one-line error when none is configured). */
  async apiDatabase(): Promise<DatabaseHandle> {
    return this.registry.connect(requireApiDb(await this.config()));
  }

  /**
   * The cells a command works on: the mapped cells (or those named), else — with no API database —
   * the local cell database (`--db`) as a cell named 'local'.
   */
  async cells(names: readonly string[] = []): Promise<CellMappingRow[]> {
    const config = await this.config();
    if (config.apiDb) return selectCells(await this.apiDatabase(), names);
    if (config.db) return [{ id: 0, uuid: 'local', name: 'local', transportUrl: 'none:///', databaseConnection: config.db.raw, disabled: false }];
    throw new InvalidInputError('no API database or cell database configured: pass --api-db URL (or --db URL), set CELLSDB_API_DATABASE_URL, give --config-file, or use --embedded');
  }

  /** The service-group API with the driver chosen by --servicegroup-driver (closed with the runtime). */
  serviceGroup(): Promise<ServiceGroupApi> {
    this.serviceGroup_ ??= (async () => {
      const a = this.args;
      const driver = a['servicegroup-driver'] ?? 'database';
      if (driver !== 'database' && driver !== 'redis') throw new InvalidInputError(`unknown --servicegroup-driver '${driver}': use database or redis`);
      for (const flag of ['service-down-time', 'report-interval'] as const) {
        const v = a[flag];
        if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new InvalidInputError(`--${flag} must be a positive number of seconds, got '${String(v)}'`);
      }
      return ServiceGroupApi.open({
        registry: this.registry,
        driver,
        redisUrl: a['redis-url'] ?? this.env.CELLSDB_REDIS_URL,
        liveness: {
          ...(a['service-down-time'] !== undefined ? { serviceDownTime: a['service-down-time'] } : {}),
          ...(a['report-interval'] !== undefined ? { reportInterval: a['report-interval'] } : {}),
        },
      });
    })();
    return this.serviceGroup_;
  }

  /** Starts (or joins) the embedded server; used by `--embedded` and `demo`. */
  async embeddedServer(): Promise<EmbeddedServer> {
    this.embedded ??= await startEmbeddedPostgres({ dataDir: this.env.CELLSDB_EMBEDDED_DIR, port: numberOr(this.env.CELLSDB_EMBEDDED_PORT) });
    return this.embedded;
  }

  private async resolve(): Promise<Config> {
    const a = this.args;
    const base = {
      configFile: a['config-file'],
      env: this.env,
      lockTimeoutSeconds: a['lock-timeout'],
      ddlLockTimeoutSeconds: a['ddl-lock-timeout'],
      statementTimeoutSeconds: a['statement-timeout'],
      connectTimeoutSeconds: a['connect-timeout'],
    };
    // Validate everything given before starting anything.
    const config = resolveConfig({ ...base, apiDb: a['api-db'], db: a.db });
    if (!a.embedded) return config;
    const server = await this.embeddedServer();
    const apiDb = await server.ensureDatabase('cellsdb_api');
    const db = await server.ensureDatabase('cellsdb_cell');
    return Object.freeze({
      ...config,
      apiDb: parseDatabaseUrl(apiDb.raw),
      db: parseDatabaseUrl(db.raw),
      sources: Object.freeze({ apiDb: 'embedded' as const, db: 'embedded' as const }),
    });
  }

  /** Closes every connection, then stops the embedded server if this process started it. */
  async close(): Promise<void> {
    await this.serviceGroup_?.then((sg) => sg.close()).catch(() => undefined);
    await this.registry.close();
    await this.embedded?.stop();
  }
}

function numberOr(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
