// The impact controller's decisions on scripted signals (probe latencies, lock waits, load), with a
// scripted clock: no database, no timing. The CLI tests (live-traffic) run it against real servers.
import test from 'ava';
import { CONTROL, type ControllerSettings, ImpactController, type ServerSample } from '../src/movers/impact-controller.js';
import { CriticalLoadError, ImpactPace } from '../src/movers/pace.js';
import { resolveRunSettings } from '../src/movers/settings.js';
import { parseImpactBudget, parseLoadThresholds } from '../src/movers/thresholds.js';

const S = 'db-1:5432';
const settings = (over: Partial<ControllerSettings> = {}): ControllerSettings => ({
  maxConcurrency: 4,
  batchTargetMs: 100,
  minRows: 50,
  budget: { kind: 'ratio', ratio: 3 },
  maxLoad: [],
  criticalLoad: [],
  ...over,
});
const sample = (probeMs: number, extra: Partial<ServerSample> = {}): ServerSample => ({ server: S, probeMs, threadsRunning: 0, lockWaits: 0, ...extra });

/** A controller with a 2 ms idle p99 on S (a 6 ms budget at 3x), and a clock. */
function controller(over: Partial<ControllerSettings> = {}) {
  const c = new ImpactController(settings(over));
  c.baseline(S, [1.5, 1.8, 2, 1.6, 1.7]);
  let now = 0;
  /** `n` samples of `probeMs`, `stepMs` apart; the last decision. */
  const feed = (n: number, probeMs: number, extra: Partial<ServerSample> = {}, stepMs = 200) => {
    let d = c.decision();
    for (let i = 0; i < n; i++) {
      now += stepMs;
      d = c.sample(sample(probeMs, extra), now);
    }
    return d;
  };
  return { c, feed, at: () => now };
}

test('within the budget: full speed, every cell at once, no rest, the sizer’s own batches', (t) => {
  const { c, feed } = controller();
  const d = feed(30, 3);
  t.is(d.state, 'full');
  t.is(d.reason, undefined);
  t.is(d.concurrency, 4);
  t.is(d.restRatio, 0);
  t.is(d.batchTargetMs, undefined);
  t.is(c.allowedMs(S), 6, 'the budget is 3 times the idle p99');
});

test('over the budget: multiplicative decrease, at most once a second; fewer cells first, then rests, never smaller batches than the floor', (t) => {
  const { feed } = controller();
  let d = feed(CONTROL.minSamples, 20);
  t.is(d.state, 'throttled');
  t.regex(d.reason ?? '', /probe p99 20 ms over 6 ms \(--max-impact\) on db-1:5432/);
  t.is(d.duty, 0.5);
  t.is(d.concurrency, 2);
  t.is(d.restRatio, 0);
  t.is(d.minRows, 50);
  // The window restarts after a decrease: the next judgement needs fresh samples, and a second.
  d = feed(CONTROL.minSamples, 20);
  t.is(d.duty, 0.25, 'a second decrease, a second later');
  t.is(d.concurrency, 1);
  d = feed(CONTROL.minSamples, 20);
  t.is(d.duty, 0.125);
  t.is(d.concurrency, 1);
  t.is(d.restRatio, 1, 'one batch at a time, resting as long as it ran');
  t.true((d.batchTargetMs ?? 0) >= CONTROL.minBatchMs, `batches aim at ${d.batchTargetMs} ms, not below the fixed-cost floor`);
  d = feed(200, 20);
  t.is(d.duty, CONTROL.minDuty, 'never below the minimum duty: the movers always progress');
  t.true(Number.isFinite(d.restRatio) && d.restRatio > 1);
});

test('two samples in a second over the budget decrease once', (t) => {
  const { feed } = controller();
  feed(CONTROL.minSamples, 50, {}, 100);
  const d = feed(CONTROL.minSamples - 1, 50, {}, 100);
  t.is(d.duty, 0.5);
});

test('calm again: additive increase back to full speed, step by step, with a margin under the budget', (t) => {
  const { feed } = controller();
  feed(CONTROL.minSamples * 3, 30);
  feed(CONTROL.minSamples * 3, 30);
  let d = feed(CONTROL.minSamples, 5.5);
  const low = d.duty;
  t.true(low < 1);
  d = feed(20, 5.5);
  t.is(d.duty, low, 'within the budget but not under its margin: no increase');
  const steps: number[] = [];
  for (let i = 0; i < 40 && d.duty < 1; i++) {
    d = feed(3, 2);
    steps.push(d.duty);
  }
  t.is(d.state, 'full');
  t.is(d.reason, undefined);
  t.is(d.concurrency, 4);
  t.true(steps.every((s, i) => i === 0 || s - (steps[i - 1] as number) <= CONTROL.increase + 1e-9), `additive steps: ${steps.join(', ')}`);
});

test('lock waits the movers cause decrease at once, whatever the probe says', (t) => {
  const { feed } = controller();
  const d = feed(1, 1, { lockWaits: 2 });
  t.is(d.state, 'throttled');
  t.regex(d.reason ?? '', /2 session\(s\) waiting for the movers' locks on db-1:5432/);
});

test('--max-load pauses while a metric is over and resumes when it is not; the impact state is kept', (t) => {
  const { feed } = controller({ maxLoad: parseLoadThresholds('threads_running=3,probe_ms=500', '--max-load') });
  let d = feed(3, 2, { threadsRunning: 4 });
  t.is(d.state, 'paused');
  t.regex(d.reason ?? '', /threads_running is 4, over --max-load threads_running=3/);
  d = feed(1, 2, { threadsRunning: 3 });
  t.is(d.state, 'full', 'at the limit is not above it');
  d = feed(1, 600, { threadsRunning: 0 });
  t.is(d.state, 'paused');
  t.regex(d.reason ?? '', /probe_ms is 600/);
});

test('--critical-load stops after two samples over, not one', (t) => {
  const { feed } = controller({ criticalLoad: parseLoadThresholds('lock_waits=5', '--critical-load') });
  t.not(feed(1, 2, { lockWaits: 9 }).state, 'stopped');
  t.not(feed(1, 2, { lockWaits: 0 }).state, 'stopped', 'a blip');
  const d = feed(2, 2, { lockWaits: 6 });
  t.is(d.state, 'stopped');
  t.regex(d.reason ?? '', /critical load on db-1:5432: lock_waits is 6, over --critical-load lock_waits=5/);
  t.is(feed(5, 2).state, 'stopped', 'a stopped run stays stopped');
});

test('a budget in milliseconds; a ratio taken against an idle p99 of at least the floor', (t) => {
  t.is(controller({ budget: parseImpactBudget('25ms', '--max-impact') }).c.allowedMs(S), 25);
  const c = new ImpactController(settings({ budget: parseImpactBudget('2x', '--max-impact') }));
  c.baseline(S, [0.1, 0.2]);
  t.is(c.allowedMs(S), 2 * CONTROL.baselineFloorMs);
});

test('--no-yield (no budget): never throttled, the thresholds still apply', (t) => {
  const { feed } = controller({ budget: undefined, maxLoad: parseLoadThresholds('threads_running=0', '--max-load') });
  t.is(feed(30, 500, { lockWaits: 3 }).state, 'full');
  t.is(feed(1, 500, { threadsRunning: 1 }).state, 'paused');
});

test('the summary: state, reason, rate, time throttled', (t) => {
  const { c, feed, at } = controller();
  c.batch(500, at());
  feed(CONTROL.minSamples, 50);
  c.batch(500, at());
  feed(CONTROL.minSamples, 50);
  const s = c.summary(at());
  t.is(s.state, 'throttled');
  t.true(s.throttledSeconds > 0);
  t.is(s.decreases, 2);
  t.true(s.rowsPerSecond > 0);
  t.deepEqual(s.servers.map((x) => x.server), [S]);
  t.is(s.servers[0]?.allowedMs, 6);
});

test('bad values: one clear message each', (t) => {
  for (const bad of ['', 'abc', '0.5', '0ms', '-2x', '2 y']) t.throws(() => parseImpactBudget(bad, '--max-impact'), { message: /--max-impact must be a ratio of at least 1/ });
  for (const bad of ['', 'threads_running', 'nope=3', 'threads_running=-1', 'lock_waits=3,', 'a=b']) {
    t.throws(() => parseLoadThresholds(bad, '--max-load'), { message: /--max-load must be NAME=VALUE/ });
  }
  t.deepEqual(parseLoadThresholds('Active_Backends=4, lock_waits=0', 'x'), [
    { metric: 'threads_running', limit: 4 },
    { metric: 'lock_waits', limit: 0 },
  ]);
});

/** An ImpactPace whose monitor is the test: `push` delivers a sample. */
function scriptedPace(over: Partial<ControllerSettings> = {}) {
  const controller = new ImpactController(settings(over));
  let deliver: (s: ServerSample) => void = () => undefined;
  let now = 0;
  const pace = new ImpactPace({
    controller,
    monitor: {
      start: async (onBaseline, onSample) => {
        onBaseline(S, [2]);
        deliver = onSample;
      },
      stop: async () => undefined,
    },
    now: () => now,
  });
  const push = (s: ServerSample, n = 1) => {
    for (let i = 0; i < n; i++) {
      now += 200;
      deliver(s);
    }
  };
  return { pace, push };
}

/** Whether `p` has settled once every pending callback has run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

test('the pace gate: as many turns as the decision allows; paused admits none until resumed; critical refuses every turn', async (t) => {
  const { pace, push } = scriptedPace({ maxLoad: parseLoadThresholds('threads_running=0', 'x'), criticalLoad: parseLoadThresholds('lock_waits=10', 'x') });
  await pace.start();
  push(sample(50), CONTROL.minSamples);
  // Duty 0.5 of 4: two turns at once.
  const a = await pace.enter();
  const b = await pace.enter();
  t.true(a.yielding && b.yielding);
  t.is(a.pace?.state, 'throttled');
  t.is(a.minRows, 50);
  const third = pace.enter();
  t.false(await settled(third), 'a third batch waits for a turn');
  a.leave();
  t.true(await settled(third), 'and gets the turn given back');
  b.leave();
  (await third).leave();

  push(sample(2, { threadsRunning: 2 }));
  const paused = pace.enter();
  t.false(await settled(paused), 'paused: no turn');
  push(sample(2, { threadsRunning: 0 }));
  t.true(await settled(paused), 'resumed');
  (await paused).leave();

  push(sample(2, { lockWaits: 11 }), 2);
  await t.throwsAsync(pace.enter(), { instanceOf: CriticalLoadError, message: /critical load on db-1:5432: lock_waits is 11.*stopped/ });
  t.is(new CriticalLoadError('x').exitCode, 2);
  await pace.stop();
});

test('a dry run watches nothing: no impact settings, so no monitor (no probe connections), even with thresholds', (t) => {
  const input = { statementTimeoutMs: 1000, maxLoad: parseLoadThresholds('threads_running=5', '--max-load'), criticalLoad: parseLoadThresholds('threads_running=50', '--critical-load') };
  t.is(resolveRunSettings({ ...input, dryRun: true }).impact, undefined);
  t.is(resolveRunSettings({ ...input, dryRun: true, yieldToTraffic: true }).impact, undefined);
  t.not(resolveRunSettings({ ...input, dryRun: false }).impact, undefined, 'a real run does watch');
});

test('nobody else on the server: the probe rising under the movers’ own load does not throttle them; a client that arrives does, and one that leaves lets them speed up', (t) => {
  const { c, feed } = controller();
  let d = feed(30, 20, { activeClients: 0 });
  t.is(d.state, 'full', 'alone: 20 ms against a 6 ms budget is the movers’ own load');
  d = feed(CONTROL.minSamples, 20, { activeClients: 1 });
  t.is(d.state, 'throttled', 'a client is there to feel it');
  t.is(d.duty, 0.5);
  d = feed(1, 20, { activeClients: 0, lockWaits: 1 });
  t.is(d.state, 'throttled', 'a session waiting for the movers’ locks is a client, whatever the count says');
  // The client leaves: additive increases back to full speed, whatever the probe says.
  d = feed(40, 20, { activeClients: 0 });
  t.is(d.state, 'full');
  t.true(c.summary(99_999).servers[0]!.aloneSeconds > 0);
  t.is(feed(CONTROL.minSamples, 20, { activeClients: undefined }).state, 'throttled', 'a server that will not say is taken as busy');
});
