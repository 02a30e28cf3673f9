import type { DatabaseHandle } from '../db/registry.js';

/**
 * Whether other clients use the servers, asked at most every `everyMs` (two answers in a row change
 * it), and the turn-taking that follows: while they do, one batch at a time over the whole run.
 */
export class TrafficGate {
  private busy = false;
  private lastAnswer = false;
  private answers = 0;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking: Promise<boolean> | undefined;
  /** The end of the queue of yielding batches. */
  private tail: Promise<void> = Promise.resolve();
  /**
   * @param probe how many other clients' sessions are active now
   * @param onChange told when the answer changes (busy, or quiet again)
   * @param everyMs how often to ask once the first decision is made. @default 500
   */
  constructor(
    private readonly probe: () => Promise<number>,
    private readonly onChange: (busy: boolean, sessions: number) => void = () => undefined,
    private readonly everyMs = 500,
  ) {}

  private async isBusy(): Promise<boolean> {
    // The first decision comes quickly (two answers a tenth of a second apart), then one a period.
    const every = this.answers < 2 ? Math.min(this.everyMs, 100) : this.everyMs;
    if (performance.now() - this.checkedAt < every) return this.busy;
    this.checking ??= this.probe()
      .then((sessions) => {
        // Two answers in a row decide a change: one connection of our own pool being opened shows
        // as busy before the registry knows it is ours, and a quiet moment of a live cloud is short.
        const busy = sessions > 0;
        if (busy !== this.busy && busy === this.lastAnswer) {
          this.busy = busy;
          this.onChange(busy, sessions);
        }
        this.lastAnswer = busy;
        this.answers += 1;
        return this.busy;
      })
      // A probe that fails (a server that went away) changes nothing: the batch itself will say.
      .catch(() => this.busy)
      .finally(() => {
        this.checkedAt = performance.now();
        this.checking = undefined;
      });
    return this.checking;
  }

  /** Waits for this batch's turn; `leave()` when the batch is over. `yielding`: other clients are about. */
  async enter(): Promise<{ readonly yielding: boolean; leave(): void }> {
    if (!(await this.isBusy())) return { yielding: false, leave: () => undefined };
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => (leave = resolve));
    const before = this.tail;
    this.tail = before.then(() => mine);
    await before;
    return { yielding: true, leave };
  }
}

/** Other clients' sessions that ran something within this window count as live traffic. */
const TRAFFIC_WINDOW_MS = 1000;

/**
 * A probe for {@link TrafficGate}: how many other clients' sessions are active on the servers of
 * `databases` (each server asked once), leaving out `ownSessionIds()` (the run's own pooled connections).
 */
export function otherSessionsProbe(databases: readonly DatabaseHandle[], ownSessionIds: () => readonly number[]): () => Promise<number> {
  const servers = new Map<string, DatabaseHandle>();
  for (const db of databases) {
    const u = db.url;
    servers.set(`${u.dialect}|${u.socketPath ?? ''}|${u.host ?? ''}|${u.port ?? ''}`, db);
  }
  return async () => {
    const own = [...ownSessionIds()];
    const counts = await Promise.all([...servers.values()].map((db) => db.dialect.otherActiveSessions(db.sequelize, own, TRAFFIC_WINDOW_MS)));
    return counts.reduce((a, b) => a + b, 0);
  };
}
