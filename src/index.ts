/**
 * cellsdb's library API: everything the CLI uses, for other tools to build on. The CLI
 * (`src/cli/main.ts`, the package's `bin`) imports only this module; importing it loads no
 * argument parser and no command.
 * @packageDocumentation
 */
export {
  type Config,
  ConfigFileError,
  type ConfigFileValues,
  type ConfigInput,
  DEFAULTS,
  embeddedDataDir,
  ENV,
  ENVIRONMENT_ONLY,
  type Environment,
  envNameOf,
  GLOBAL_OPTIONS,
  type GlobalFlag,
  type GlobalFlags,
  type GlobalOption,
  type OptionType,
  readConfigFiles,
  requireApiDb,
  requireCellDb,
  resolveConfig,
  type Source,
} from './config/index.js';
export {
  CellsdbError,
  DatabaseConnectionError,
  DatabaseTimeoutError,
  DirtyLedgerError,
  errorCodeOf,
  ExitCode,
  GroupStillInCellError,
  InterruptedError,
  InvalidInputError,
  LedgerIntegrityError,
  LockTimeoutError,
  MigrationBlockedError,
  ForeignDatabaseError,
  MigrationFailedError,
  ObjectError,
  ServiceNotFoundError,
  secretsOfError,
} from './errors.js';
export { type DatabaseUrl, type Dialect, displayUrl, maskUrl, parseDatabaseUrl, redactSecrets, refusedUrl, SecretRegistry, urlSecrets, withDatabase } from './url/index.js';
export type {
  DialectAdapter,
  DialectConnection,
  DialectInfo,
  DialectIntrospection,
  DialectLocking,
  DialectSql,
  PoolOptions,
  SessionConnection,
  StatementTimeouts,
  TableInfo,
} from './db/dialect.js';
export { dialectFor } from './db/dialects.js';
export { ConnectionRegistry, type DatabaseHandle } from './db/registry.js';
export { type EmbeddedOptions, type EmbeddedServer, startEmbeddedPostgres } from './db/embedded.js';
export { LINES, type MigrationFile, type MigrationLine, lineFromDirectory, listMigrationFiles } from './migrate/lines.js';
export type { LineTarget, MigratorEvent } from './migrate/target.js';
export { BASELINE_MISMATCH_EXIT, BaselineMismatchError, type BaselineOptions, type BaselineResult, baselineLine } from './migrate/baseline.js';
export { baselineCommand, foreignTablesWithoutLedger, requireLineAtHead, requireOwnDatabase, tablesOf } from './migrate/foreign.js';
export {
  type LedgerProblem,
  type LineStatus,
  type MigrationState,
  type PlanAim,
  type SyncPlan,
  decidePlan,
  ledgerProblems,
  planAim,
  planRefusal,
  readPlan,
} from './migrate/plan.js';
export { type SyncOptions, type SyncResult, lineStatus, markMigration, syncLine } from './migrate/migrator.js';
export type { CapturedStatement, StatementListener } from './migrate/capture.js';
export { type LinePreview, type PreviewCache, type PreviewedMigration, type PreviewOptions, previewLine } from './migrate/preview.js';
export type { LineId, MigrationContext, MigrationModule } from './migrate/types.js';
export {
  type ByColumn,
  CELL0_UUID,
  CELL_MAPPING_COLUMNS,
  type CellMappingRow,
  cellLabel,
  HOST_MAPPING_COLUMNS,
  type HostMappingRow,
  INSTANCE_MAPPING_COLUMNS,
  type InstanceMappingRow,
  MappingStore,
} from './cells/mappings.js';
export { CellRecords, type InstanceState } from './cells/cell-records.js';
export {
  type CellOutcome,
  cellDatabaseUrl,
  cellErrorMessage,
  failedCells,
  scatterGather,
  scatterGatherOver,
  targetCell,
  throwIfAnyCellFailed,
} from './cells/targeting.js';
export { type CellScope, type CellScopeRequest, cellScope, cellsOrLocalCell, localCell } from './cells/scope.js';
export {
  computeHostsOf,
  createCell,
  defaultCell0Url,
  deleteCell,
  discoverHosts,
  listCells,
  listHosts,
  mapCell0,
  updateCell,
  verifyInstance,
  type DiscoveredHosts,
  type InstanceVerdict,
} from './cells/cell-v2.js';
export { checkResolveRequest, type ComputeNodeRow, resolveComputeNode, type ResolveComputeNodeRequest, type ResolveComputeNodeResult } from './cells/resolve-compute-node.js';
export { type FanOutOptions, previewCells, selectCells, statusOfCells, syncCells } from './cells/fan-out.js';
export { cellsOfShard, describeShard, JOB_COMPLETION_INDEX, MAX_SHARDS, parseShard, type Shard, shardOfUuid } from './cells/shard.js';
export { type RunnerEvents, type RunnerOptions, runOnlineDataMigrations } from './movers/runner.js';
export { DEFAULT_IMPACT_BUDGET, type ImpactSettings, MOVER_DEFAULTS, type RunSettings, type RunSettingsInput, resolveRunSettings } from './movers/settings.js';
export { MoverExit, type MoverExitCode } from './movers/exit.js';
export type { BlockedRowOf, MoverCellResult, MoverError, MoverTotal, RunReport } from './movers/report.js';
export type { BatchEvent, CellRun, RetryEvent } from './movers/cell-run.js';
export { BatchSizer, FIRST_BATCH_SIZE, MAX_BATCH_SIZE } from './movers/batch-sizer.js';
export { type BatchTurn, CriticalLoadError, FULL_SPEED, ImpactPace, type PaceController, type TurnPace } from './movers/pace.js';
export { CONTROL, type ControllerSettings, ImpactController, type PaceDecision, type PaceState, type PaceSummary, type ServerSample } from './movers/impact-controller.js';
export { ImpactMonitor } from './movers/impact-monitor.js';
export { describeThreshold, type ImpactBudget, LOAD_METRICS, type LoadMetric, type LoadThreshold, parseImpactBudget, parseLoadThresholds } from './movers/thresholds.js';
export { createFailpoints, type Failpoint, type FailpointName, NO_FAILPOINTS } from './movers/failpoints.js';
export type { BlockedRow, Mover, MoverBatch, MoverContext, Readiness } from './movers/types.js';
export { MOVERS } from '../movers/index.js';
export { ServiceGroupApi, type ServiceGroupOptions } from './servicegroup/api.js';
export { effectiveDownTime, isServiceUp } from './servicegroup/liveness.js';
export { type ServiceFilter, ServiceStore } from './servicegroup/store.js';
export type { LivenessDriver, LivenessSettings, ServiceRecord, ServiceState } from './servicegroup/types.js';
export * from './objects/index.js';
export { type LegacySeed, seedLegacyCell } from './demo/seed-legacy.js';
export {
  type DeclaredColumn,
  type DeclaredForeignKey,
  type DeclaredIndex,
  type DeclaredSchema,
  type DeclaredTable,
  HEAD_MODELS,
  PLANNED_REMOVALS,
  type PlannedRemoval,
  type TypeClass,
} from './schema/models.js';
export { type SchemaShape, shapeFromDatabase, shapeFromModels } from './schema/artefacts.js';
export { type AllowedItem, type DriftItem, type DriftReport, diffSchemas } from './schema/drift.js';
export { checkSchema, type SchemaCheckOptions, type SchemaCheckReport } from './schema/check.js';
export type { DatabaseFindings } from './schema/check-recorder.js';
export { type CheckResult, type CheckStatus, CheckExit, dialectLabel, exitCodeOf, tally } from './report/checks.js';
export { junitXml, writeJunit } from './report/junit.js';
export { distinctServers, withScratchDatabase, type ScratchDatabase, type ScratchOptions } from './db/scratch.js';
export { describeRules, type LintOptions, type LintReport, lintMigrations } from './schema/lint/engine.js';
export { type AllowedHazard, DEFAULT_LINT_POLICY, type LintPolicy } from './schema/lint/policy.js';
export type { Finding as LintFinding, LintRule } from './schema/lint/types.js';
export { LINT_RULES } from './schema/lint/rules/index.js';
export { runUpgradeChecks, type UpgradeCheckOptions, type UpgradeCheckResult, UpgradeExit, type UpgradeResult, upgradeExitCode } from './upgrade/checks.js';
export { escapeControl, escapeControlKeepNewlines, escapeJsonText, printableRows, quoted } from './text/escape.js';
