import { relative } from 'node:path';
import type { Config } from '../../config/index.js';
import { CellsdbError, MigrationFailedError } from '../../errors.js';
import { listMigrationFiles, type MigrationFile, type MigrationLine } from '../../migrate/lines.js';
import type { CapturedStatement } from '../../migrate/capture.js';
import { syncLine } from '../../migrate/migrator.js';
import type { Dialect, DatabaseUrl } from '../../url/index.js';
import { type CheckResult, dialectLabel, exitCodeOf } from '../../report/checks.js';
import { type ScratchOptions, serverIdentity, withScratchDatabase } from '../../db/scratch.js';
import { splitStatements } from '../../sql/tokenizer.js';
import { parseStatement } from './parse.js';
import { migrationSourceText, readDirectives } from './directives.js';
import { DEFAULT_LINT_POLICY, type LintPolicy, linePolicy } from './policy.js';
import type { DialectProbe, ProbeInput, ProbeOutcome } from './probe.js';
import { mariadbProbe } from './probe-mariadb.js';
import { postgresProbe } from './probe-postgres.js';
import { DIRECTIVE_RULE, LINT_RULES } from './rules/index.js';
import type { Finding, LintRule, LintStatement } from './types.js';

const PROBES: Readonly<Record<Dialect, DialectProbe>> = { postgres: postgresProbe, mysql: mariadbProbe };


export interface LintOptions {
  /** A server per dialect to lint on (any database on it: scratch databases are made beside it). */
  readonly servers: readonly DatabaseUrl[];
  readonly lines: readonly MigrationLine[];
  /** @default DEFAULT_LINT_POLICY */
  readonly policy?: LintPolicy | undefined;
  /** Tables to treat as large besides the policy's (`--large-table`). */
  readonly largeTables?: readonly string[] | undefined;
  /** `connectTimeoutMs` is the scratch databases' (`--connect-timeout`). */
  readonly config: Pick<Config, 'migrationLockWaitMs' | 'ddlLockTimeoutMs' | 'statementTimeoutMs' | 'connectTimeoutMs'>;
  /** Progress, and any scratch database that could not be dropped: one line each, for stderr. */
  readonly onProgress?: ((text: string) => void) | undefined;
}

export interface LintReport {
  /** Every hazard found, those allowed (with their reason) included. */
  readonly findings: readonly Finding[];
  /** One per migration and rule (and per migration: that it runs, that its directives are valid). */
  readonly checks: readonly CheckResult[];
  /** 0 nothing to report, 2 hazards (or a migration that fails), 255 something could not be checked. */
  readonly exitCode: number;
}

const scratchOptions = (options: LintOptions): ScratchOptions => ({ onLeftBehind: options.onProgress, connectTimeoutMs: options.config.connectTimeoutMs });

interface CapturedLine {
  readonly ran: readonly MigrationFile[];
  readonly failure: { readonly migration: string | undefined; readonly message: string } | undefined;
  readonly statements: ReadonlyMap<string, CapturedStatement[]>;
  readonly ms: number;
}

/** Runs the line on a scratch database through the migrator itself, recording each migration's SQL. */
async function captureLine(server: DatabaseUrl, line: MigrationLine, files: readonly MigrationFile[], options: LintOptions): Promise<CapturedLine> {
  const statements = new Map<string, CapturedStatement[]>(files.map((f) => [f.name, []]));
  const ran: MigrationFile[] = [];
  const started = Date.now();
  let failure: CapturedLine['failure'];
  await withScratchDatabase(server, `lint_${line.id}`, async (scratch) => {
    try {
      const result = await syncLine(
        { registry: scratch.registry, url: scratch.url, line, label: `scratch ${line.title} database`, config: options.config },
        undefined,
        { onStatement: (migration, statement) => statements.get(migration)?.push(statement) },
      );
      ran.push(...files.filter((f) => result.applied.includes(f.name)));
    } catch (error) {
      const migration = error instanceof MigrationFailedError ? error.migration : undefined;
      failure = { migration, message: (error as Error).message };
      const failedAt = files.findIndex((f) => f.name === migration);
      ran.push(...(failedAt < 0 ? [] : files.slice(0, failedAt)));
    }
  }, scratchOptions(options));
  return { ran, failure, statements, ms: Date.now() - started };
}

async function probeLine(server: DatabaseUrl, line: MigrationLine, inputs: readonly ProbeInput[], options: LintOptions): Promise<ProbeOutcome> {
  const probe = PROBES[server.dialect];
  return withScratchDatabase(server, `probe_${line.id}`, async (scratch) => {
    const session = await scratch.registry.openSession(scratch.url, 'cellsdb lint probe');
    try {
      return await probe.replay(session, inputs);
    } finally {
      await session.close();
    }
  }, scratchOptions(options));
}

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

/** Lints one line on one server: capture, probe, rules. */
async function lintLineOn(server: DatabaseUrl, subjectDialect: string, line: MigrationLine, options: LintOptions): Promise<{ findings: Finding[]; checks: CheckResult[] }> {
  const dialect = server.dialect;
  const files = listMigrationFiles(line);
  options.onProgress?.(`linting the ${line.title} line on ${dialectLabel(dialect)} (${serverIdentity(server)})`);
  const captured = await captureLine(server, line, files, options);

  // Every statement of the migrations that ran, in order, for the probe.
  const perMigration = new Map<string, Array<{ sql: string; input: ProbeInput; index: number }>>();
  const inputs: ProbeInput[] = [];
  for (const f of captured.ran) {
    const list: Array<{ sql: string; input: ProbeInput; index: number }> = [];
    for (const c of captured.statements.get(f.name) ?? []) {
      for (const sql of splitStatements(c.sql, dialect)) {
        const input: ProbeInput = { sql, bind: c.bind, parsed: parseStatement(sql, dialect) };
        list.push({ sql, input, index: inputs.length });
        inputs.push(input);
      }
    }
    perMigration.set(f.name, list);
  }
  const probeStarted = Date.now();
  const probed = await probeLine(server, line, inputs, options);
  const probeMs = Date.now() - probeStarted;

  const policy = linePolicy(options.policy ?? DEFAULT_LINT_POLICY, line.id, options.largeTables);
  const allowList = (options.policy ?? DEFAULT_LINT_POLICY).allowed.filter((a) => a.line === line.id);
  const rules = LINT_RULES.filter((r) => r.dialects.includes(dialect));
  const known = new Set([...LINT_RULES.map((r) => r.id)]);
  const findings: Finding[] = [];
  const checks: CheckResult[] = [];
  const perCaseMs = Math.round((captured.ms + probeMs) / Math.max(1, files.length * (rules.length + 2)));

  for (const f of files) {
    const subject = `cellsdb.lint.${subjectDialect}.${line.id}.${f.name}`;
    const file = shown(f.path);
    const ran = captured.ran.includes(f);
    const failedHere = captured.failure?.migration === f.name;
    if (!ran) {
      checks.push(
        failedHere
          ? { subject, name: 'runs on a scratch database', status: 'failed', summary: captured.failure?.message ?? 'failed', details: [], ms: perCaseMs }
          : { subject, name: 'runs on a scratch database', status: 'skipped', summary: `not reached: ${captured.failure?.message ?? 'an earlier migration failed'}`, details: [], ms: 0 },
      );
      continue;
    }
    checks.push({ subject, name: 'runs on a scratch database', status: 'passed', summary: `${perMigration.get(f.name)?.length ?? 0} statements`, details: [], ms: perCaseMs });

    const { directives, problems } = readDirectives(migrationSourceText(f.path), known);
    const directiveFindings: Finding[] = problems.map((p) => ({
      rule: DIRECTIVE_RULE,
      dialect,
      line: line.id,
      migration: f.name,
      file,
      statement: p.text,
      message: `the directive ${p.message}`,
    }));
    findings.push(...directiveFindings);
    checks.push(caseFor(subject, DIRECTIVE_RULE, directiveFindings, perCaseMs));

    const statements = perMigration.get(f.name) ?? [];
    const stoppedAt = probed.stoppedAt;
    const unprobed = stoppedAt !== undefined && statements.some((s) => s.index >= stoppedAt.index && s.input.parsed.kind !== 'read');
    const newTables = new Set<string>();
    const byRule = new Map<string, Finding[]>(rules.map((r) => [r.id, []]));
    for (const s of statements) {
      const statement: LintStatement = { sql: s.sql, parsed: s.input.parsed, facts: probed.facts[s.index] };
      for (const rule of rules) {
        for (const message of rule.check({ dialect, line: line.id, migration: { name: f.name, number: f.number }, statement, newTables, policy })) {
          const listed = allowList.find((a) => a.migration === f.name && a.rules.includes(rule.id));
          const directive = directives.find((d) => d.rules.includes(rule.id));
          const allowed = listed
            ? { by: 'allow-list' as const, reason: listed.reason }
            : directive
              ? { by: 'directive' as const, reason: directive.reason }
              : undefined;
          const finding: Finding = { rule: rule.id, dialect, line: line.id, migration: f.name, file, statement: s.sql, message, ...(allowed ? { allowed } : {}) };
          byRule.get(rule.id)?.push(finding);
          findings.push(finding);
        }
      }
      if (s.input.parsed.kind === 'create-table') newTables.add(s.input.parsed.table);
    }
    for (const rule of rules) {
      const found = byRule.get(rule.id) ?? [];
      if (rule.needsProbe && unprobed && found.length === 0) {
        checks.push({
          subject,
          name: rule.id,
          status: 'error',
          summary: `could not judge: replaying the line on a scratch ${dialectLabel(dialect)} database stopped at statement ${(stoppedAt?.index ?? 0) + 1}: ${stoppedAt?.message ?? ''}`,
          details: [],
          ms: perCaseMs,
        });
      } else {
        checks.push(caseFor(subject, rule.id, found, perCaseMs));
      }
    }
  }
  if (captured.failure && captured.failure.migration === undefined) {
    checks.push({ subject: `cellsdb.lint.${subjectDialect}.${line.id}`, name: 'runs on a scratch database', status: 'error', summary: captured.failure.message, details: [], ms: captured.ms });
  }
  return { findings, checks };
}

function caseFor(subject: string, rule: string, found: readonly Finding[], ms: number): CheckResult {
  const open = found.filter((f) => !f.allowed);
  const detail = (f: Finding) => `${f.file}: ${f.statement}\n  ${f.message}${f.allowed ? `\n  allowed (${f.allowed.by}): ${f.allowed.reason}` : ''}`;
  if (open.length > 0) {
    return { subject, name: rule, status: 'failed', summary: open[0]?.message ?? rule, details: found.map(detail), ms };
  }
  if (found.length > 0) {
    return { subject, name: rule, status: 'skipped', summary: `allowed: ${found[0]?.allowed?.reason ?? ''}`, details: found.map(detail), ms };
  }
  return { subject, name: rule, status: 'passed', summary: 'no hazard', details: [], ms };
}

/**
 * `schema lint`: runs every migration of the lines on a scratch database of each server's dialect
 * (through the migrator, exactly as `sync` runs it), captures the SQL each one sends, replays it on
 * a second scratch database where the server shows what each statement does (PostgreSQL: which
 * tables it rewrote, inside a transaction rolled back at the end; MariaDB: whether it runs with
 * ALGORITHM=INSTANT or LOCK=NONE), and applies the rules. The scratch databases are dropped.
 */
export async function lintMigrations(options: LintOptions): Promise<LintReport> {
  if (options.servers.length === 0) throw new CellsdbError('schema lint needs at least one database server for its scratch databases');
  const perDialect = new Map<Dialect, number>();
  const runs = options.servers.map((server) => {
    const n = (perDialect.get(server.dialect) ?? 0) + 1;
    perDialect.set(server.dialect, n);
    return { server, subjectDialect: n === 1 ? dialectLabel(server.dialect) : `${dialectLabel(server.dialect)}_${n}` };
  });
  // Servers in parallel (they are different machines), the lines of one server one after the other.
  const results = await Promise.all(
    runs.map(async ({ server, subjectDialect }) => {
      const out: { findings: Finding[]; checks: CheckResult[] } = { findings: [], checks: [] };
      for (const line of options.lines) {
        const r = await lintLineOn(server, subjectDialect, line, options);
        out.findings.push(...r.findings);
        out.checks.push(...r.checks);
      }
      return out;
    }),
  );
  const findings = results.flatMap((r) => r.findings);
  const checks = results.flatMap((r) => r.checks);
  return { findings, checks, exitCode: exitCodeOf(checks) };
}

/** Every rule, for reports and `--help`. */
export function describeRules(): Array<Pick<LintRule, 'id' | 'dialects' | 'summary'>> {
  return [
    ...LINT_RULES.map((r) => ({ id: r.id, dialects: r.dialects, summary: r.summary })),
    { id: DIRECTIVE_RULE, dialects: ['postgres', 'mysql'], summary: 'a cellsdb-lint-disable directive without a reason, or naming an unknown rule' },
  ];
}
