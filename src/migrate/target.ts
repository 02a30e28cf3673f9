import type { Config } from '../config/index.js';
import type { ConnectionRegistry } from '../db/registry.js';
import type { Failpoint } from '../movers/failpoints.js';
import type { DatabaseUrl } from '../url/index.js';
import type { MigrationLine } from './lines.js';

/** Progress a caller may show: waiting for the lock, a migration starting or done. */
export type MigratorEvent =
  | { readonly type: 'lock-wait'; readonly holder: string | undefined; readonly timeoutMs: number }
  | { readonly type: 'migrating'; readonly name: string }
  | { readonly type: 'migrated'; readonly name: string; readonly ms: number };

/** Where and how to run one line against one database. */
export interface LineTarget {
  readonly registry: ConnectionRegistry;
  readonly url: DatabaseUrl;
  readonly line: MigrationLine;
  /** For messages: 'API database', or the cell's name. */
  readonly label: string;
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs'>;
  readonly onEvent?: (event: MigratorEvent) => void;
  /** Crash-test failpoints (`migrate:started`, `migrate:step`). @default NO_FAILPOINTS */
  readonly failpoint?: Failpoint;
  /** Aborted (SIGINT, SIGTERM): `sync` starts no further migration; the running one finishes. */
  readonly signal?: AbortSignal;
}
