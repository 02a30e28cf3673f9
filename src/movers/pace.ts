import { setTimeout as sleep } from 'node:timers/promises';
import type { TrafficGate } from './traffic.js';

/**
 * The seam where the run decides how hard it pushes the servers. The runner starts up to
 * `concurrency` cells' batch loops; each batch first asks the controller for a turn, so the
 * controller decides how many batches run at once (here: all, or one at a time), how long each
 * should take (the batch sizer aims at it) and how long to rest after it, holding the turn. It hears
 * every batch's duration and rows; a controller driven by measured impact replaces the traffic rule
 * behind this same interface.
 */
export interface PaceController {
  /** Waits until the next batch may run, and says how it should. */
  enter(): Promise<BatchTurn>;
}

/** One batch's turn, from {@link PaceController.enter}. */
export interface BatchTurn {
  /** The batch runs throttled (the batch log's `yielding`). */
  readonly yielding: boolean;
  /** The duration the batch should aim at; undefined: the sizer's own target (`batchTargetMs`). */
  readonly batchTargetMs: number | undefined;
  /** The batch is over: rest as long as the controller wants, still holding the turn. */
  finished(batch: { readonly ms: number; readonly rows: number }): Promise<void>;
  /** Gives the turn back: after `finished`, or at once when the batch failed. */
  leave(): void;
}

const FULL_SPEED_TURN: BatchTurn = { yielding: false, batchTargetMs: undefined, finished: () => Promise.resolve(), leave: () => undefined };

/** Every batch at once, at the sizer's target, no rest: `--no-yield`, and dry runs. */
export const FULL_SPEED: PaceController = { enter: () => Promise.resolve(FULL_SPEED_TURN) };

/** How batches behave while other clients use the servers. */
export interface YieldSettings {
  /** The duration a yielding batch aims at, in milliseconds. */
  readonly batchTargetMs: number;
  /** The rest after a yielding batch, in multiples of its duration (gh-ost's nice ratio); 0: none. */
  readonly niceRatio: number;
}

/**
 * Today's rule: at full speed while `gate` sees no other clients; while it does, one batch at a
 * time over all cells, of `batchTargetMs`, each followed by a rest of `niceRatio` times its duration
 * during which the live cloud has the servers to itself.
 */
export function yieldToTraffic(gate: TrafficGate, settings: YieldSettings): PaceController {
  return {
    async enter() {
      const turn = await gate.enter();
      if (!turn.yielding) return FULL_SPEED_TURN;
      return {
        yielding: true,
        batchTargetMs: settings.batchTargetMs,
        finished: async ({ ms }) => {
          if (settings.niceRatio > 0) await sleep(ms * settings.niceRatio);
        },
        leave: () => turn.leave(),
      };
    },
  };
}
