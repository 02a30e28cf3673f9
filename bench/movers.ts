import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, type Deployment } from './deployment.js';
import { percentile } from './stats.js';

/** The compiled CLI, as an operator runs it. */
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const GNU_TIME = '/usr/bin/time';

/** One mover's batches, read from the batch log. */
export interface MoverFigures {
  readonly mover: string;
  /** Rows the mover reported done (groups for the instance-group mover, nodes for the other). */
  readonly rows: number;
  /** From the start of its first batch that did work to the end of its last, over all cells. */
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** Batches that found or did something. */
  readonly batches: number;
  readonly longestBatchMs: number;
  readonly p50BatchMs: number;
  readonly p99BatchMs: number;
  /** Batches retried smaller after a lock timeout or deadlock. */
  readonly retries: number;
  /** Batches run while yielding to other clients (one at a time, short, with a rest after). */
  readonly yieldingBatches: number;
}

export interface MoverRun {
  readonly exitCode: number | null;
  /** The whole command: Node start-up, readiness checks, every pass (the last one finds nothing). */
  readonly commandSeconds: number;
  /** Peak resident set size of the command, MiB (undefined where it cannot be measured). */
  readonly peakRssMb: number | undefined;
  readonly movers: readonly MoverFigures[];
  /** The command's `--json` report. */
  readonly report: unknown;
  readonly stderr: string;
}

interface BatchLine {
  event?: string;
  mover?: string;
  cell?: string;
  found?: number;
  done?: number;
  ms?: number;
  yielding?: boolean;
  time?: string;
  level?: number;
  msg?: string;
}

/** Reads /proc/PID/status VmHWM (kB), where there is a /proc. */
function highWaterMark(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function summarise(lines: readonly BatchLine[]): MoverFigures[] {
  const byMover = new Map<string, BatchLine[]>();
  for (const l of lines) {
    if (l.event !== 'batch' || !l.mover) continue;
    const list = byMover.get(l.mover) ?? [];
    list.push(l);
    byMover.set(l.mover, list);
  }
  const retries = new Map<string, number>();
  for (const l of lines) {
    if (l.event === 'batch' || !l.msg) continue;
    const m = /for (\S+) on cell/.exec(l.msg);
    if (m?.[1]) retries.set(m[1], (retries.get(m[1]) ?? 0) + 1);
  }
  return [...byMover.entries()].map(([mover, batches]) => {
    const working = batches.filter((b) => (b.found ?? 0) > 0 || (b.done ?? 0) > 0);
    const ends = working.map((b) => Date.parse(b.time ?? ''));
    const starts = working.map((b, i) => (ends[i] as number) - (b.ms ?? 0));
    const seconds = working.length > 0 ? (Math.max(...ends) - Math.min(...starts)) / 1000 : 0;
    const rows = working.reduce((n, b) => n + (b.done ?? 0), 0);
    const ms = working.map((b) => b.ms ?? 0).sort((a, b) => a - b);
    return {
      mover,
      rows,
      seconds,
      rowsPerSecond: seconds > 0 ? Math.round(rows / seconds) : 0,
      batches: working.length,
      longestBatchMs: ms.at(-1) ?? 0,
      p50BatchMs: percentile(ms, 0.5),
      p99BatchMs: percentile(ms, 0.99),
      retries: retries.get(mover) ?? 0,
      yieldingBatches: working.filter((b) => b.yielding === true).length,
    };
  });
}

/**
 * Runs `cellsdb db online_data_migrations` on a deployment as a child process, with a JSON batch log,
 * and measures its peak RSS (GNU time where installed, else /proc VmHWM polled).
 */
export async function runMovers(
  d: Deployment,
  batching: { readonly batchSize?: number | undefined; readonly batchMs?: number | undefined; readonly odmArgs?: readonly string[] },
): Promise<MoverRun> {
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-bench-movers-'));
  const logFile = join(dir, 'batches.jsonl');
  const rssFile = join(dir, 'rss');
  const cliArgs = [CLI, '--api-db', d.api.raw, '--json', 'db', 'online_data_migrations', ...(batching.batchSize === undefined ? [] : ['--batch-size', String(batching.batchSize)]), ...(batching.batchMs === undefined ? [] : ['--batch-ms', String(batching.batchMs)]), '--log-file', logFile, '--log-format', 'json', ...(batching.odmArgs ?? [])];
  const useTime = existsSync(GNU_TIME);
  const [command, args] = useTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...cliArgs]] : [process.execPath, cliArgs];
  try {
    const started = performance.now();
    const child = spawn(command, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => void (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
    let polledKb: number | undefined;
    const poll = useTime
      ? undefined
      : setInterval(() => {
          const kb = child.pid === undefined ? undefined : highWaterMark(child.pid);
          if (kb !== undefined) polledKb = Math.max(polledKb ?? 0, kb);
        }, 25);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    if (poll) clearInterval(poll);
    const commandSeconds = (performance.now() - started) / 1000;
    let peakKb = polledKb;
    if (useTime && existsSync(rssFile)) {
      const m = /(\d+)\s*$/.exec(readFileSync(rssFile, 'utf8').trim());
      if (m) peakKb = Number(m[1]);
    }
    const lines = existsSync(logFile)
      ? readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as BatchLine)
      : [];
    let report: unknown;
    try {
      report = JSON.parse(stdout);
    } catch {
      report = stdout;
    }
    return {
      exitCode,
      commandSeconds,
      peakRssMb: peakKb === undefined ? undefined : Math.round((peakKb / 1024) * 10) / 10,
      movers: summarise(lines),
      report,
      stderr: stderr.trim(), // the CLI's own stderr: URLs already put through displayUrl
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
