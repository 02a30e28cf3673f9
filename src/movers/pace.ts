import { setTimeout as sleep } from 'node:timers/promises';
import { CellsdbError } from '../errors.js';
import { type ImpactController, type PaceDecision, type PaceState, type PaceSummary, type ServerSample } from './impact-controller.js';
import { MoverExit } from './exit.js';

/**
 * The seam where the run decides how hard it pushes the servers. The runner starts up to
 * `concurrency` cells' batch loops; each batch first asks the controller for a turn, so the
 * controller decides how many batches run at once, how long each should take (the batch sizer aims
 * at it, never below `minRows`) and how long to rest after it, holding the turn. It hears every
 * batch's duration and rows.
 */
export interface PaceController {
  /** Waits until the next batch may run, and says how it should. Throws {@link CriticalLoadError} once the run must stop. */
  enter(): Promise<BatchTurn>;
  /** Before the first batch (the monitor's baseline). */
  start?(): Promise<void>;
  /** After the last batch, in `finally`. */
  stop?(): Promise<void>;
  /** The state for the report and the progress display. */
  summary?(): PaceSummary;
}

/** How the batch ran, for its log line: the controller's state when it got its turn. */
export interface TurnPace {
  readonly state: PaceState;
  readonly reason: string | undefined;
  readonly concurrency: number;
  /** Rows per second over the last few seconds, over all cells. */
  readonly rowsPerSecond: number;
}

/** One batch's turn, from {@link PaceController.enter}. */
export interface BatchTurn {
  /** The batch runs below full speed (the batch log's `yielding` and `throttled`). */
  readonly yielding: boolean;
  /** The controller's state, for the batch log; undefined at full speed without a controller. */
  readonly pace?: TurnPace | undefined;
  /** The duration the batch should aim at; undefined: the sizer's own target (`batchTargetMs`). */
  readonly batchTargetMs: number | undefined;
  /** The batch should not be smaller than this (rows); undefined: no floor. */
  readonly minRows?: number | undefined;
  /** The batch is over: rest as long as the controller wants, still holding the turn. */
  finished(batch: { readonly ms: number; readonly rows: number }): Promise<void>;
  /** Gives the turn back: after `finished`, or at once when the batch failed. */
  leave(): void;
}

const FULL_SPEED_TURN: BatchTurn = { yielding: false, batchTargetMs: undefined, finished: () => Promise.resolve(), leave: () => undefined };

/** Every batch at once, at the sizer's target, no rest: `--no-yield`, and dry runs. */
export const FULL_SPEED: PaceController = { enter: () => Promise.resolve(FULL_SPEED_TURN) };

/** `--critical-load` was exceeded: the run stops, exit 2 (rows already migrated are safe). */
export class CriticalLoadError extends CellsdbError {
  constructor(reason: string) {
    super(`${reason}: stopped (rows already migrated are safe; run again once the load is down)`, { exitCode: MoverExit.errors });
  }
}

/** The parts an {@link ImpactPace} works with. */
export interface ImpactPaceParts {
  readonly controller: ImpactController;
  /** Starts sampling: baselines first, then samples until `stop`. */
  readonly monitor: {
    start(onBaseline: (server: string, samplesMs: readonly number[]) => void, onSample: (sample: ServerSample) => void): Promise<void>;
    stop(): Promise<void>;
  };
  /** Told whenever the state or its reason changes (the progress display, the log). */
  readonly onChange?: ((summary: PaceSummary) => void) | undefined;
  /** Milliseconds now. @default performance.now */
  readonly now?: () => number;
  /** Aborted: waiting batches get their turn at once (and start nothing: the run is stopping). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The pace driven by measured impact: a gate of `decision.concurrency` turns, paused while
 * `--max-load` is over, closed for good once `--critical-load` is; each turn rests
 * `restRatio` times its batch's duration before it is given back.
 */
export class ImpactPace implements PaceController {
  private active = 0;
  private waiters: Array<() => void> = [];
  private decision: PaceDecision;
  private readonly now: () => number;
  private lastKey: string;

  constructor(private readonly parts: ImpactPaceParts) {
    this.now = parts.now ?? (() => performance.now());
    this.decision = parts.controller.decision();
    // Full speed at the start is no change worth a line.
    this.lastKey = this.keyOf(this.decision);
    parts.signal?.addEventListener('abort', () => this.wake(), { once: true });
  }

  private keyOf(d: PaceDecision): string {
    return `${d.state}|${d.reason ?? ''}|${d.concurrency}`;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private changed(): void {
    const key = this.keyOf(this.decision);
    if (key !== this.lastKey) {
      this.lastKey = key;
      // Only a change of state or reason is worth a line; a change of concurrency alone is in the batch lines.
      this.parts.onChange?.(this.summary());
    }
    this.wake();
  }

  async start(): Promise<void> {
    await this.parts.monitor.start(
      (server, samples) => this.parts.controller.baseline(server, samples),
      (sample) => {
        this.decision = this.parts.controller.sample(sample, this.now());
        this.changed();
      },
    );
  }

  async stop(): Promise<void> {
    await this.parts.monitor.stop();
    this.wake();
  }

  summary(): PaceSummary {
    return this.parts.controller.summary(this.now());
  }

  async enter(): Promise<BatchTurn> {
    for (;;) {
      const d = this.decision;
      if (d.state === 'stopped') throw new CriticalLoadError(d.reason ?? 'critical load');
      if (this.parts.signal?.aborted) break;
      if (d.state !== 'paused' && this.active < d.concurrency) break;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.active += 1;
    const d = this.decision;
    const s = this.parts.controller.summary(this.now());
    let left = false;
    return {
      yielding: d.state !== 'full',
      pace: { state: d.state, reason: d.reason, concurrency: d.concurrency, rowsPerSecond: s.rowsPerSecond },
      batchTargetMs: d.batchTargetMs,
      minRows: d.state === 'full' ? undefined : d.minRows,
      finished: async ({ ms, rows }) => {
        this.parts.controller.batch(rows, this.now());
        // The rest the decision asks for now (it may have changed while the batch ran).
        const rest = ms * this.decision.restRatio;
        if (rest > 0 && this.decision.state !== 'stopped') await sleep(rest);
      },
      leave: () => {
        if (left) return;
        left = true;
        this.active -= 1;
        this.wake();
      },
    };
  }
}
