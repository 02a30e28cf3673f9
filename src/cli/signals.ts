// SIGINT and SIGTERM, for every command, in one place (issue 13, item 3; docs/progress-and-signals.md).
//
// A command that can stop between units of work (the movers between batches, `sync` between
// migrations) asks for the run's AbortSignal (`Interrupts.cooperate`): the first signal aborts it,
// the command starts no new unit, lets the one in flight finish or roll back, says in one line what
// was done, and returns; `main` then exits 130 (SIGINT) or 143 (SIGTERM). Any other command has
// nothing worth finishing, and a second signal always means "now": both stop at once, after the
// terminal is restored (cursor shown, line wrap back on) and the embedded server stopped (bounded).

/** The signals an operator or a supervisor sends to stop a command. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const SIGNAL_EXIT_CODES: Readonly<Record<InterruptSignal, number>> = Object.freeze({ SIGINT: 130, SIGTERM: 143 });

/** What restores the terminal: show the cursor, turn line wrap back on. */
export const TERMINAL_RESTORE = '\u001b[?25h\u001b[?7h';

/** How long an immediate stop waits for its cleanups (the embedded server) before it exits regardless. */
const FORCED_CLEANUP_MS = 5000;

/** What a stop at once does besides cleaning up: say so on stderr and end the process with the code. */
export interface StopAtOnce {
  readonly stderr: (text: string) => void;
  readonly exit: (code: number) => void;
}

/**
 * The run's interrupts: which signal came (if any), the AbortSignal cooperating commands watch, and
 * what must happen before a stop at once (terminal restore, synchronous; cleanups, bounded).
 */
export class Interrupts {
  private readonly controller = new AbortController();
  private received_: InterruptSignal | undefined;
  private cooperating = false;
  private stopping = false;
  private readonly restorers = new Set<() => void>();
  private readonly cleanups = new Set<() => Promise<void>>();

  constructor(private readonly stop: StopAtOnce) {}

  /** Aborted at the first signal; its `reason` is the signal's name. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first signal received, if any. */
  get received(): InterruptSignal | undefined {
    return this.received_;
  }

  /** The exit code the run ends with once a signal came: 130 or 143. */
  get exitCode(): number | undefined {
    return this.received_ === undefined ? undefined : SIGNAL_EXIT_CODES[this.received_];
  }

  /** The command stops by itself at the first signal (between batches, between migrations). */
  cooperate(): AbortSignal {
    this.cooperating = true;
    return this.signal;
  }

  /** Runs `restore` (synchronous: it writes to a terminal) before any stop at once; returns its removal. */
  onStopAtOnce(restore: () => void): () => void {
    this.restorers.add(restore);
    return () => void this.restorers.delete(restore);
  }

  /** Runs `cleanup` (bounded) before a stop at once: the embedded server. Returns its removal. */
  onCleanup(cleanup: () => Promise<void>): () => void {
    this.cleanups.add(cleanup);
    return () => void this.cleanups.delete(cleanup);
  }

  /** A signal arrived. */
  receive(signal: InterruptSignal): void {
    if (this.received_ === undefined) {
      this.received_ = signal;
      this.controller.abort(signal);
      if (this.cooperating) return;
    }
    void this.stopAtOnce(signal);
  }

  private async stopAtOnce(signal: InterruptSignal): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const restore of this.restorers) {
      try {
        restore();
      } catch {
        // The terminal may be gone; nothing else to restore then.
      }
    }
    const first = this.received_ ?? signal;
    this.stop.stderr(`cellsdb: stopped at once by ${signal}: work in flight was not finished (the database rolls back what was not committed); it is safe to run again\n`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.cleanups].map((c) => c())),
      new Promise((resolve) => {
        timer = setTimeout(resolve, FORCED_CLEANUP_MS);
      }),
    ]);
    clearTimeout(timer);
    this.stop.exit(SIGNAL_EXIT_CODES[first]);
  }

  /** Handles SIGINT and SIGTERM in this process (the CLI's entry point only); returns the removal. */
  install(proc: NodeJS.Process = process): () => void {
    const onInt = () => this.receive('SIGINT');
    const onTerm = () => this.receive('SIGTERM');
    proc.on('SIGINT', onInt);
    proc.on('SIGTERM', onTerm);
    return () => {
      proc.off('SIGINT', onInt);
      proc.off('SIGTERM', onTerm);
    };
  }
}

/** An AbortSignal never aborted: commands run in-process (tests, library use) have no interrupts. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
