import { describeThreshold, type ImpactBudget, type LoadMetric, type LoadThreshold } from './thresholds.js';

/** One reading of one server by the impact monitor. */
export interface ServerSample {
  /** Which server (`host:port`, no credentials). */
  readonly server: string;
  /** The probe statement's round trip on its own connection, in milliseconds. */
  readonly probeMs: number;
  /** Other clients' statements running now in the run's databases (undefined: the server would not say). */
  readonly threadsRunning: number | undefined;
  /** Sessions waiting for a lock the run's connections hold (undefined: the server would not say). */
  readonly lockWaits: number | undefined;
  /**
   * Other client sessions on the server active within the last two seconds (undefined: the server
   * would not say, taken as some). Zero: nobody is there to feel the movers, so the probe's rise is
   * the movers' own and does not throttle them.
   */
  readonly activeClients?: number | undefined;
}

/** How the movers go: at full speed, throttled toward the impact budget, paused by `--max-load`, or stopped by `--critical-load`. */
export type PaceState = 'full' | 'throttled' | 'paused' | 'stopped';

/** What the controller wants of the next batches. */
export interface PaceDecision {
  readonly state: PaceState;
  /** Why it is not at full speed (undefined when it is). */
  readonly reason: string | undefined;
  /** The share of full speed the movers aim at, 0 < duty ≤ 1 (1: full speed). */
  readonly duty: number;
  /** Batches running at once, over all cells. */
  readonly concurrency: number;
  /** The duration batches should aim at; undefined: the sizer's own target. */
  readonly batchTargetMs: number | undefined;
  /** The rest after a batch, in multiples of its duration (gh-ost's nice ratio), holding its turn. */
  readonly restRatio: number;
  /** Batches never shrink below this many rows while throttled: the movers rest instead. */
  readonly minRows: number;
}

/** The controller's account of a run, for the report and the progress display. */
export interface PaceSummary {
  readonly state: PaceState;
  readonly reason: string | undefined;
  /** Rows per second over the last few seconds. */
  readonly rowsPerSecond: number;
  readonly duty: number;
  readonly concurrency: number;
  /** Time spent below full speed, and paused, in seconds. */
  readonly throttledSeconds: number;
  readonly pausedSeconds: number;
  /** Multiplicative decreases and additive increases of the duty. */
  readonly decreases: number;
  readonly increases: number;
  /**
   * Per server: the probe's idle p99, the latest window's p99, the budget in ms, the most lock waits
   * seen, and the seconds no other client was active there (the budget did not apply).
   */
  readonly servers: ReadonlyArray<{
    readonly server: string;
    readonly baselineMs: number;
    readonly p99Ms: number;
    readonly allowedMs: number | null;
    readonly maxLockWaits: number;
    readonly aloneSeconds: number;
  }>;
}

/** What the controller works toward. */
export interface ControllerSettings {
  /** Cells worked at once at full speed (`--concurrency`). */
  readonly maxConcurrency: number;
  /** The batch duration at full speed (`--batch-ms`). */
  readonly batchTargetMs: number;
  /** Batches are not made smaller than this while throttled (rows); the movers rest instead. */
  readonly minRows: number;
  /** Undefined (`--no-yield`): never throttled, only the thresholds apply. */
  readonly budget: ImpactBudget | undefined;
  readonly maxLoad: readonly LoadThreshold[];
  readonly criticalLoad: readonly LoadThreshold[];
}

/** Tuning of the control loop (exported for the tests and the docs). */
export const CONTROL = Object.freeze({
  /** Probe samples per server the p99 is taken over. */
  window: 20,
  /** Samples needed after a change before the window is judged again. */
  minSamples: 5,
  /** The duty never falls below this: the movers always make some progress (one batch, long rests). */
  minDuty: 1 / 64,
  /** Multiplicative decrease. */
  decrease: 0.5,
  /** Additive increase per step. */
  increase: 0.125,
  /** At most one decrease per this many milliseconds (the window must see its effect). */
  decreaseEveryMs: 1000,
  /** At most one increase per this many milliseconds. */
  increaseEveryMs: 500,
  /** Increase only while the p99 is below this share of the budget (a margin against oscillation). */
  headroom: 0.8,
  /** A ratio budget is taken against an idle p99 of at least this (a probe's round trip is noisy below it). */
  baselineFloorMs: 1,
  /** Throttled batches aim at no less than this (ms): shorter ones are mostly fixed per-batch cost. */
  minBatchMs: 50,
  /** Consecutive samples over `--critical-load` that stop the run (one blip does not). */
  criticalSamples: 2,
  /** The rate is rows over this many milliseconds. */
  rateWindowMs: 5000,
});

interface ServerState {
  baselineMs: number;
  samples: number[];
  p99Ms: number;
  maxLockWaits: number;
  /** The latest sample saw no other active client (and no lock wait). */
  alone: boolean;
  /** When that sample was taken, and the time alone so far (ms). */
  lastSampleAt: number | undefined;
  aloneMs: number;
  over: Map<LoadMetric, number>;
  criticalOver: number;
}

function p99(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Additive increase, multiplicative decrease of the movers' duty toward the impact budget. Fed the
 * monitor's samples and the batches' rows (with the time, so that tests script both), it decides how
 * many batches run at once, how long they aim to take and how long each rests after. It never makes
 * batches smaller than `minRows`: below full speed it first runs fewer cells at once, then rests.
 * `--max-load` pauses while a metric is above its limit; `--critical-load` stops the run.
 */
export class ImpactController {
  private readonly servers = new Map<string, ServerState>();
  private duty = 1;
  private paused: string | undefined;
  private stopped: string | undefined;
  private throttleReason: string | undefined;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private lastIncrease = Number.NEGATIVE_INFINITY;
  private decreases = 0;
  private increases = 0;
  private readonly batches: Array<{ at: number; rows: number }> = [];
  private since: number | undefined;
  private throttledMs = 0;
  private pausedMs = 0;

  constructor(private readonly settings: ControllerSettings) {}

  /** The probe's idle round trips on `server`, taken before the first batch. */
  baseline(server: string, samplesMs: readonly number[]): void {
    this.servers.set(server, { baselineMs: p99(samplesMs), samples: [], p99Ms: 0, maxLockWaits: 0, alone: false, lastSampleAt: undefined, aloneMs: 0, over: new Map(), criticalOver: 0 });
  }

  /** The budget on `server`, in milliseconds of probe p99. */
  allowedMs(server: string): number {
    const budget = this.settings.budget;
    if (budget === undefined) return Number.POSITIVE_INFINITY;
    if (budget.kind === 'ms') return budget.ms;
    const base = Math.max(this.servers.get(server)?.baselineMs ?? 0, CONTROL.baselineFloorMs);
    return base * budget.ratio;
  }

  private account(now: number): void {
    if (this.since !== undefined) {
      const elapsed = Math.max(0, now - this.since);
      if (this.paused || this.stopped) this.pausedMs += elapsed;
      if (this.paused || this.stopped || this.duty < 1) this.throttledMs += elapsed;
    }
    this.since = now;
  }

  /** One sample of one server, at `now` (ms); returns the decision that follows. */
  sample(s: ServerSample, now: number): PaceDecision {
    this.account(now);
    let server = this.servers.get(s.server);
    if (!server) {
      this.baseline(s.server, []);
      server = this.servers.get(s.server) as ServerState;
    }
    server.samples.push(s.probeMs);
    if (server.samples.length > CONTROL.window) server.samples.shift();
    server.p99Ms = p99(server.samples);
    server.maxLockWaits = Math.max(server.maxLockWaits, s.lockWaits ?? 0);
    const values: Record<LoadMetric, number | undefined> = { threads_running: s.threadsRunning, lock_waits: s.lockWaits, probe_ms: s.probeMs };
    const overOf = (list: readonly LoadThreshold[]) => list.find((t) => (values[t.metric] ?? Number.NEGATIVE_INFINITY) > t.limit);

    const critical = overOf(this.settings.criticalLoad);
    server.criticalOver = critical ? server.criticalOver + 1 : 0;
    if (critical && server.criticalOver >= CONTROL.criticalSamples && !this.stopped) {
      this.stopped = `critical load on ${s.server}: ${critical.metric} is ${values[critical.metric]}, over --critical-load ${describeThreshold(critical)}`;
    }
    // A pause is decided by the server that caused it, and lifted by it.
    const load = overOf(this.settings.maxLoad);
    const pausedHere = this.paused?.includes(` on ${s.server}:`) ?? false;
    if (load) this.paused = `load on ${s.server}: ${load.metric} is ${values[load.metric]}, over --max-load ${describeThreshold(load)}`;
    else if (pausedHere) this.paused = undefined;

    const allowed = this.allowedMs(s.server);
    const lockWaits = s.lockWaits ?? 0;
    const judged = server.samples.length >= CONTROL.minSamples;
    // Impact needs someone to feel it: with no other client on the server, the probe's rise is the
    // movers' own load, and a client that arrives is seen within a sample or two.
    if (server.alone && server.lastSampleAt !== undefined) server.aloneMs += Math.max(0, now - server.lastSampleAt);
    server.alone = s.activeClients === 0 && lockWaits === 0;
    server.lastSampleAt = now;
    const over = this.settings.budget !== undefined && !server.alone && (lockWaits > 0 || (judged && server.p99Ms > allowed));
    if (over && now - this.lastDecrease >= CONTROL.decreaseEveryMs) {
      this.duty = Math.max(CONTROL.minDuty, this.duty * CONTROL.decrease);
      this.lastDecrease = now;
      this.decreases += 1;
      this.throttleReason =
        lockWaits > 0
          ? `${lockWaits} session(s) waiting for the movers' locks on ${s.server}`
          : `probe p99 ${round1(server.p99Ms)} ms over ${round1(allowed)} ms (--max-impact) on ${s.server}`;
      // The next judgement looks at samples taken after this change only.
      server.samples = [];
    } else if (!over && (server.alone || (judged && server.p99Ms <= allowed * CONTROL.headroom)) && this.duty < 1 && now - this.lastIncrease >= CONTROL.increaseEveryMs && now - this.lastDecrease >= CONTROL.increaseEveryMs) {
      // Every server must have room (or nobody on it to feel the movers) before the movers speed up.
      const everyServerCalm = [...this.servers.entries()].every(([name, st]) => st.alone || st.samples.length === 0 || st.p99Ms <= this.allowedMs(name) * CONTROL.headroom);
      if (everyServerCalm) {
        this.duty = Math.min(1, this.duty + CONTROL.increase);
        this.lastIncrease = now;
        this.increases += 1;
        if (this.duty >= 1) this.throttleReason = undefined;
      }
    }
    return this.decision();
  }

  /** A batch finished at `now` having moved `rows` (for the rate). */
  batch(rows: number, now: number): void {
    this.batches.push({ at: now, rows });
    while (this.batches.length > 0 && (this.batches[0] as { at: number }).at < now - CONTROL.rateWindowMs) this.batches.shift();
  }

  /** What the next batches should do. */
  decision(): PaceDecision {
    const { maxConcurrency, batchTargetMs, minRows } = this.settings;
    const state: PaceState = this.stopped ? 'stopped' : this.paused ? 'paused' : this.duty < 1 ? 'throttled' : 'full';
    const reason = this.stopped ?? this.paused ?? (this.duty < 1 ? this.throttleReason : undefined);
    if (this.duty >= 1) return { state, reason, duty: 1, concurrency: maxConcurrency, batchTargetMs: undefined, restRatio: 0, minRows: 1 };
    // Fewer cells at once first; below one, rest between batches (never smaller batches than minRows).
    const slots = this.duty * maxConcurrency;
    const concurrency = Math.max(1, Math.floor(slots));
    const restRatio = slots < 1 ? 1 / slots - 1 : 0;
    const floor = Math.min(CONTROL.minBatchMs, batchTargetMs);
    return { state, reason, duty: this.duty, concurrency, batchTargetMs: Math.max(floor, Math.round(batchTargetMs * this.duty)), restRatio, minRows };
  }

  /** The run so far, at `now`. */
  summary(now: number): PaceSummary {
    this.account(now);
    const recent = this.batches.filter((b) => b.at >= now - CONTROL.rateWindowMs);
    const span = recent.length > 0 ? Math.max(1000, now - (recent[0] as { at: number }).at) : 1;
    const d = this.decision();
    return {
      state: d.state,
      reason: d.reason,
      rowsPerSecond: Math.round((recent.reduce((n, b) => n + b.rows, 0) * 1000) / span),
      duty: Math.round(d.duty * 1000) / 1000,
      concurrency: d.concurrency,
      throttledSeconds: Math.round(this.throttledMs / 100) / 10,
      pausedSeconds: Math.round(this.pausedMs / 100) / 10,
      decreases: this.decreases,
      increases: this.increases,
      servers: [...this.servers.entries()].map(([server, st]) => ({
        server,
        baselineMs: Math.round(st.baselineMs * 100) / 100,
        p99Ms: Math.round(st.p99Ms * 100) / 100,
        allowedMs: Number.isFinite(this.allowedMs(server)) ? Math.round(this.allowedMs(server) * 100) / 100 : null,
        maxLockWaits: st.maxLockWaits,
        aloneSeconds: Math.round(st.aloneMs / 100) / 10,
      })),
    };
  }
}
