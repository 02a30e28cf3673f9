// The movers' progress (issue 13, item 4; docs/progress-and-signals.md): per mover done/total, a
// smoothed rate, an ETA from that rate, and the pace state ("yielding to live traffic").
// On a terminal: a live frame of one line per mover, redrawn in place, with notices printed above
// it (never overwritten, no stale lines), fitted to the width by dropping detail, never counts, and
// a final frame. Elsewhere (a pipe, a file): a summary line every `intervalMs`, not a line per batch.

/**
 * Rows per second, smoothed: the rows of the last `windowMs` over that window (or over the time
 * since the first batch started, while shorter). A pause lowers it as the window moves on.
 */
export class RateMeter {
  private started: number | undefined;
  private total = 0;
  /** (end time, rows so far) per batch, oldest first: the window and the one sample before it. */
  private samples: Array<{ t: number; total: number }> = [];

  constructor(private readonly windowMs = 10_000) {}

  /** `rows` were migrated by a batch that ended at `now` and took `ms`. */
  add(rows: number, now: number, ms: number): void {
    this.started ??= now - ms;
    this.total += rows;
    this.samples.push({ t: now, total: this.total });
    const from = now - this.windowMs;
    while (this.samples.length > 1 && (this.samples[1] as { t: number }).t <= from) this.samples.shift();
  }

  /** The rate at `now`; undefined before the first batch. */
  rate(now: number): number | undefined {
    if (this.started === undefined) return undefined;
    const from = now - this.windowMs;
    let base = 0;
    for (const s of this.samples) if (s.t <= from) base = s.total;
    const span = now - Math.max(from, this.started);
    return span > 0 ? ((this.total - base) * 1000) / span : undefined;
  }
}

/** `1h05m`, `12m30s`, `45s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `412 rows/s`, `0.5 rows/s`, `12.3k rows/s`. */
export function formatRate(rowsPerSecond: number): string {
  if (rowsPerSecond >= 10_000) return `${(rowsPerSecond / 1000).toFixed(1)}k rows/s`;
  if (rowsPerSecond >= 10) return `${Math.round(rowsPerSecond)} rows/s`;
  return `${rowsPerSecond.toFixed(1)} rows/s`;
}

/** How the run ended, for the final frame: ETAs make sense only while it runs. */
export type ProgressEnd = 'finished' | 'max-count' | 'interrupted' | 'failed';

/** One mover's figures at an instant. */
export interface MoverFigures {
  readonly name: string;
  readonly done: number;
  readonly total: number;
  /** Smoothed rows per second; undefined before its first batch. */
  readonly rate: number | undefined;
  /** Seconds left at that rate; undefined without a rate, when finished, or after the run ended. */
  readonly eta: number | undefined;
  /** Seconds it has run (first batch start to its last batch). */
  readonly elapsed: number;
}

/** Where a display writes, and what it knows of the terminal. */
export interface ProgressSink {
  write(text: string): void;
  /** A terminal (a live frame), or not (summary lines). */
  readonly tty: boolean;
  /** The terminal's width; 80 when unknown. */
  columns(): number | undefined;
}

export interface ProgressOptions {
  /** Not a terminal: milliseconds between summary lines; 0 prints one after every batch. @default 10000 */
  readonly intervalMs?: number;
  /** Milliseconds now. @default Date.now */
  readonly now?: () => number;
  /** Redraws of a live frame at most this often, and at least (rates decay). @default 250 */
  readonly redrawMs?: number;
}

const HIDE = '\u001b[?25l\u001b[?7l';
const SHOW = '\u001b[?25h\u001b[?7h';
const ESC = '\u001b[';

interface Track {
  total: number;
  done: number;
  meter: RateMeter;
  firstStarted: number | undefined;
  lastEnded: number | undefined;
}

/** Cuts `text` to `width` columns with an ellipsis (detail only: names, reasons). */
function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, Math.max(width, 0)) : `${text.slice(0, width - 1)}…`;
}

/**
 * One mover's line at `width` columns: counts always; then rate and ETA (or the final state), the
 * percentage, a bar, and the name — detail dropped from the least useful up until it fits.
 */
export function moverLine(f: MoverFigures, width: number, tail: string): string {
  const counts = `${f.done}/${f.total}`;
  const pct = f.total > 0 ? `${Math.min(100, Math.floor((f.done * 100) / f.total))}%` : '';
  const rate = f.rate === undefined ? '' : formatRate(f.rate);
  const eta = f.eta === undefined ? '' : `ETA ${f.eta < 1 ? '<1s' : formatDuration(f.eta)}`;
  const join = (parts: readonly string[]) => parts.filter((p) => p !== '').join('  ');
  // Detail sets, richest first: a bar (10 columns at least), the percentage, then the whole name
  // (cut, 8 columns at least), the state, the rate; the counts stay.
  const variants: Array<{ parts: string[]; bar?: boolean; cutName?: boolean }> = [
    { parts: [counts, pct, rate, eta, tail], bar: true },
    { parts: [counts, pct, rate, eta, tail] },
    { parts: [counts, rate, eta, tail] },
    { parts: [counts, rate, eta, tail], cutName: true },
    { parts: [counts, rate, eta], cutName: true },
    { parts: [counts, eta], cutName: true },
    { parts: [counts], cutName: true },
  ];
  for (const v of variants) {
    const rest = join(v.parts);
    const room = width - rest.length - 2;
    if (v.bar) {
      const barWidth = Math.min(40, room - f.name.length - 4);
      if (barWidth < 10) continue;
      const filled = f.total > 0 ? Math.min(barWidth, Math.round((Math.min(f.done, f.total) * barWidth) / f.total)) : f.done > 0 ? barWidth : 0;
      return `${f.name}  [${'='.repeat(filled)}${' '.repeat(barWidth - filled)}]  ${rest}`;
    }
    if (!v.cutName && room >= f.name.length) return `${f.name}  ${rest}`;
    if (v.cutName && room >= Math.min(8, f.name.length)) return `${cut(f.name, room)}  ${rest}`;
  }
  return counts;
}

/**
 * The progress of one run of the movers. `estimated` sets a mover's total, `batch` adds a batch,
 * `state` says what the pace is (`undefined`: full speed), `log` prints a line above the frame,
 * `stop` draws the final frame (a terminal: and restores the cursor and line wrap).
 */
export class ProgressDisplay {
  private readonly tracks = new Map<string, Track>();
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly redrawMs: number;
  private paceState: string | undefined;
  private drawn = 0;
  private hidden = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSummary = '';
  private summaries = 0;
  private stopped = false;
  private dirty = false;
  private lastRender = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sink: ProgressSink,
    options: ProgressOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.redrawMs = options.redrawMs ?? 250;
  }

  /** Whether the cursor is hidden now (a frame drawn, not yet stopped): what a stop at once must undo. */
  get terminalTouched(): boolean {
    return this.hidden;
  }

  /** The sequence that restores the terminal, written if a frame was drawn (a stop at once). */
  restoreTerminal(): void {
    if (!this.hidden) return;
    this.hidden = false;
    this.sink.write(SHOW);
  }

  private track(mover: string): Track {
    let t = this.tracks.get(mover);
    if (!t) {
      t = { total: 0, done: 0, meter: new RateMeter(), firstStarted: undefined, lastEnded: undefined };
      this.tracks.set(mover, t);
    }
    return t;
  }

  /** Rows left for `mover` before the run (its total). */
  estimated(mover: string, remaining: number): void {
    this.track(mover).total = remaining;
    this.changed();
  }

  /** A batch of `mover` ended now, having migrated `done` rows in `ms`. */
  batch(mover: string, done: number, ms: number): void {
    const t = this.track(mover);
    const now = this.now();
    t.firstStarted ??= now - ms;
    t.lastEnded = now;
    t.done += done;
    // More done than estimated (rows added meanwhile): the total grows with it.
    if (t.done > t.total) t.total = t.done;
    const hadRate = t.meter.rate(now) !== undefined && t.done > done;
    t.meter.add(done, now, ms);
    this.changed();
    if (!this.sink.tty && this.intervalMs === 0) this.summary();
    // A terminal: at once when a mover gets its first rate, else at most every `redrawMs`.
    if (this.sink.tty && ((done > 0 && !hadRate) || now - this.lastRender >= this.redrawMs)) this.render();
  }

  /** The pace's state in words ("yielding to live traffic: …"), or undefined at full speed. */
  state(text: string | undefined): void {
    this.paceState = text;
    this.changed();
  }

  /** Figures per mover; `end` set: the run is over (no ETA, the average rate of the run). */
  figures(end?: ProgressEnd): MoverFigures[] {
    const now = this.now();
    return [...this.tracks].map(([name, t]) => {
      const elapsed = t.firstStarted === undefined ? 0 : ((t.lastEnded ?? now) - t.firstStarted) / 1000;
      if (end !== undefined) {
        return { name, done: t.done, total: t.total, rate: elapsed > 0 ? t.done / elapsed : undefined, eta: undefined, elapsed };
      }
      const rate = t.meter.rate(now);
      const left = Math.max(0, t.total - t.done);
      const eta = rate !== undefined && rate > 0 && left > 0 ? left / rate : undefined;
      return { name, done: t.done, total: t.total, rate, eta, elapsed };
    });
  }

  private tail(f: MoverFigures, end: ProgressEnd | undefined): string {
    if (end === undefined) return f.done >= f.total && f.total > 0 ? 'done' : '';
    if (f.done >= f.total) return f.total > 0 ? `done in ${formatDuration(f.elapsed)}` : 'nothing to do';
    return end === 'max-count' ? 'stopped at --max-count' : end === 'interrupted' ? 'interrupted' : end === 'failed' ? 'stopped' : 'left for later';
  }

  /** The lines of a frame at `width` columns. */
  frame(width: number, end?: ProgressEnd): string[] {
    const lines = this.figures(end).map((f) => moverLine(f, width, this.tail(f, end)));
    if (end === undefined && this.paceState) lines.push(cut(this.paceState, width));
    return lines;
  }

  private width(): number {
    // One column short of the edge: a full line would move some terminals' cursor to the next.
    return Math.max(20, (this.sink.columns() || 80) - 1);
  }

  private changed(): void {
    this.dirty = true;
    this.ensureTimer();
  }

  private ensureTimer(): void {
    if (this.timer || this.stopped) return;
    const every = this.sink.tty ? this.redrawMs : this.intervalMs;
    if (every <= 0) return;
    this.timer = setInterval(() => (this.sink.tty ? this.render() : this.summary()), every);
    this.timer.unref();
  }

  private erase(): string {
    return this.drawn > 0 ? `\r${ESC}${this.drawn}A${ESC}J` : '';
  }

  /** Redraws the live frame (a terminal only). */
  render(): void {
    if (!this.sink.tty || this.stopped) return;
    const lines = this.frame(this.width());
    if (lines.length === 0 && this.drawn === 0) return;
    const prefix = this.hidden ? '' : HIDE;
    this.hidden = true;
    this.sink.write(`${prefix}${this.erase()}${lines.map((l) => `${l}\n`).join('')}`);
    this.drawn = lines.length;
    this.dirty = false;
    this.lastRender = this.now();
  }

  /** A line (or lines) above the frame: notices, pace changes, `--log-batches` lines. */
  log(text: string): void {
    const body = text.endsWith('\n') ? text : `${text}\n`;
    if (!this.sink.tty || this.stopped || this.drawn === 0) {
      this.sink.write(body);
      return;
    }
    const lines = this.frame(this.width());
    // Line wrap on for the notice (it is printed whole, however long), off again for the frame.
    this.sink.write(`${this.erase()}${ESC}?7h${body}${ESC}?7l${lines.map((l) => `${l}\n`).join('')}`);
    this.drawn = lines.length;
  }

  /** One summary line (not a terminal): per mover done/total, rate, ETA, and the pace state. */
  summaryLine(end?: ProgressEnd): string {
    const parts = this.figures(end).map((f) => {
      const detail = [f.rate === undefined ? '' : formatRate(f.rate), f.eta === undefined ? '' : `ETA ${formatDuration(f.eta)}`, this.tail(f, end)].filter((p) => p !== '');
      return `${f.name} ${f.done}/${f.total}${detail.length ? ` ${detail.join(' ')}` : ''}`;
    });
    if (end === undefined && this.paceState) parts.push(this.paceState);
    return `progress: ${parts.join('; ')}`;
  }

  private summary(): void {
    if (this.stopped || !this.dirty) return;
    const line = this.summaryLine();
    this.dirty = false;
    if (line === this.lastSummary) return;
    this.lastSummary = line;
    this.summaries += 1;
    this.sink.write(`${line}\n`);
  }

  /** The final frame (a terminal), or a final summary line when summaries were printed; restores the terminal. */
  stop(end: ProgressEnd): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.sink.tty) {
      if (this.drawn > 0 || this.hidden) {
        const lines = this.frame(this.width(), end);
        this.sink.write(`${this.erase()}${lines.map((l) => `${l}\n`).join('')}`);
        this.drawn = 0;
      }
      this.restoreTerminal();
    } else if (this.summaries > 0) {
      this.sink.write(`${this.summaryLine(end)}\n`);
    }
    this.stopped = true;
  }
}
