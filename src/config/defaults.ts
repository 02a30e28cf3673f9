import { resolve } from 'node:path';

/**
 * Every default of a global option, in one place. `resolveConfig` applies them for the CLI; a
 * library function that takes one of these settings as optional falls back to the same value.
 */
export const DEFAULTS = {
  /** `--lock-timeout`: seconds to wait for another runner's migration lock. */
  migrationLockWaitSeconds: 60,
  /** `--ddl-lock-timeout`: seconds one DDL statement may queue for table locks. */
  ddlLockTimeoutSeconds: 10,
  /** `--statement-timeout`: seconds one migration statement may run. */
  statementTimeoutSeconds: 600,
  /** `--connect-timeout`: seconds to wait for a connection. */
  connectTimeoutSeconds: 10,
  /** `--concurrency`: cells worked on at once. */
  concurrency: 4,
  /**
   * `--max-impact`: how far the movers may push the impact probe's p99 (a ratio of its idle p99,
   * or milliseconds).
   */
  maxImpact: '3x',
  /** `--servicegroup-driver`. */
  servicegroupDriver: 'database',
  /** `--service-down-time`: seconds without a heartbeat before a service is down (Nova's). */
  serviceDownTimeSeconds: 60,
  /** `--report-interval`: seconds between service heartbeats (Nova's). */
  reportIntervalSeconds: 10,
  /** `--table-style`: nova-manage's PrettyTable ASCII. */
  tableStyle: 'ascii',
  /** `CELLSDB_HOME`: where the embedded server and the demo keep their files. */
  home: '.cellsdb',
  /** `CELLSDB_EMBEDDED_PORT`. */
  embeddedPort: 54329,
} as const;

/** The embedded server's data folder under a home folder (`CELLSDB_EMBEDDED_DIR` overrides it). */
export function embeddedDataDir(home: string = DEFAULTS.home): string {
  return resolve(home, 'embedded');
}
