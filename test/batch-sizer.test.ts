// Adaptive batch sizes (`BatchSizer`) and the live-traffic gate (`TrafficGate`), without a database:
// the sizes asked for after batches of given durations, and the turns given for given probe answers.
// The movers' tests run them against real servers; here their rules are pinned down.
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { BatchSizer, FIRST_BATCH_SIZE, MAX_BATCH_SIZE } from '../src/movers/batch-sizer.js';
import { TrafficGate } from '../src/movers/traffic.js';

/** Feeds batches that take `fixedMs + rows * msPerRow` until the size stops changing; returns the sizes asked for. */
function converge(sizer: BatchSizer, fixedMs: number, msPerRow: number, rounds = 12): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const size = sizer.next();
    sizes.push(size);
    sizer.observe(size, size, fixedMs + size * msPerRow);
  }
  return sizes;
}

test('starts at Nova’s 50, or at the mover’s own first size', (t) => {
  t.is(new BatchSizer(undefined, 100).next(), FIRST_BATCH_SIZE);
  t.is(FIRST_BATCH_SIZE, 50);
  t.is(new BatchSizer(undefined, 100, 500).next(), 500);
  t.is(new BatchSizer(undefined, 100, 10 * MAX_BATCH_SIZE).next(), MAX_BATCH_SIZE);
});

test('a fixed --batch-size never moves, whatever the batches take', (t) => {
  const sizer = new BatchSizer(7, 100);
  sizer.observe(7, 7, 10_000);
  sizer.observe(7, 7, 0);
  sizer.shrinkTo(2);
  t.is(sizer.next(), 7);
});

test('grows at most fourfold per batch, then settles where a batch takes about the target', (t) => {
  const sizes = converge(new BatchSizer(undefined, 100), 2, 0.01);
  for (let i = 1; i < sizes.length; i++) t.true((sizes[i] as number) <= 4 * (sizes[i - 1] as number), `step ${i}: ${sizes.join(', ')}`);
  t.deepEqual(sizes.slice(0, 4), [50, 200, 800, 3200]);
  // 2 ms + 0.01 ms per row: a 100 ms batch is 9 800 rows; the per-statement overhead of the small
  // batches first seen fades out, so the size ends within a tenth of it and its batches near 100 ms.
  const last = sizes.at(-1) as number;
  t.true(last >= 8_800 && last <= 9_800, sizes.join(', '));
  t.true(2 + last * 0.01 > 90, sizes.join(', '));
});

test('shrinks at most by half per batch when the rows get slower', (t) => {
  const sizer = new BatchSizer(undefined, 100);
  converge(sizer, 0, 0.01);
  const before = sizer.next();
  sizer.observe(before, before, before * 1); // a hundred times slower
  t.is(sizer.next(), Math.round(before / 2));
  const sizes = converge(sizer, 0, 1);
  const last = sizes.at(-1) as number;
  t.true(last >= 95 && last <= 105, `settles near 100 rows of 1 ms: ${sizes.join(', ')}`);
});

test('the end of a cell (a short batch) and an empty batch teach it nothing; a lock retry’s size is kept', (t) => {
  const sizer = new BatchSizer(undefined, 100);
  sizer.observe(50, 10, 1_000);
  sizer.observe(50, 0, 1_000);
  t.is(sizer.next(), 50);
  sizer.observe(50, 50, 1);
  t.is(sizer.next(), 200);
  sizer.shrinkTo(25);
  t.is(sizer.next(), 25);
  sizer.shrinkTo(400);
  t.is(sizer.next(), 25, 'shrinkTo never grows');
});

test('never past the cap, however fast the rows', (t) => {
  const sizes = converge(new BatchSizer(undefined, 100_000), 0, 0.000_1, 20);
  t.is(Math.max(...sizes), MAX_BATCH_SIZE);
});

test('a shorter target (yielding to live traffic) gives smaller batches at once, within the halving limit', (t) => {
  const sizer = new BatchSizer(undefined, 100);
  converge(sizer, 0, 0.01); // 100 ms is 10 000 rows
  const full = sizer.next();
  t.is(sizer.next(25), Math.round(full / 2), 'at most halved from the last batch');
  t.is(sizer.next(), full, 'asking does not move it: only a finished batch does');
  sizer.observe(full / 2, full / 2, (full / 2) * 0.01);
  t.is(sizer.next(25), 2_500);
});

/** A gate whose probe answers from `sessions`, re-asked every 10 ms. */
function gateOn(sessions: { n: number }) {
  const changes: boolean[] = [];
  const gate = new TrafficGate(async () => sessions.n, (busy) => changes.push(busy), 10);
  return { gate, changes };
}

/** Lets the gate ask twice (two answers in a row change its mind). */
async function askTwice(gate: TrafficGate): Promise<boolean> {
  let yielding = false;
  for (let i = 0; i < 2; i++) {
    const turn = await gate.enter();
    yielding = turn.yielding;
    turn.leave();
    await sleep(15);
  }
  return yielding;
}

test('no other sessions: every batch goes at once, not yielding', async (t) => {
  const { gate, changes } = gateOn({ n: 0 });
  await askTwice(gate);
  const turns = await Promise.all([gate.enter(), gate.enter(), gate.enter()]);
  t.deepEqual(turns.map((turn) => turn.yielding), [false, false, false]);
  t.deepEqual(changes, []);
});

test('one answer alone changes nothing: a blip of traffic (or our own pool growing) is not yielded to', async (t) => {
  const sessions = { n: 3 };
  const { gate, changes } = gateOn(sessions);
  const first = await gate.enter();
  t.false(first.yielding);
  first.leave();
  sessions.n = 0;
  t.false(await askTwice(gate));
  t.deepEqual(changes, []);
});

test('other sessions: one batch at a time, in order, until it leaves; then back to full speed', async (t) => {
  const sessions = { n: 2 };
  const { gate, changes } = gateOn(sessions);
  t.true(await askTwice(gate));
  const first = await gate.enter();
  t.true(first.yielding);
  let secondIn = false;
  const second = gate.enter().then((turn) => {
    secondIn = true;
    return turn;
  });
  await sleep(30);
  t.false(secondIn, 'the second batch waits for the first');
  first.leave();
  const turn = await second;
  t.true(secondIn && turn.yielding);
  turn.leave();
  sessions.n = 0;
  t.false(await askTwice(gate));
  t.deepEqual(changes, [true, false]);
});

test('a probe that fails changes nothing: a yielding run goes on yielding', async (t) => {
  let fail = false;
  const gate = new TrafficGate(async () => {
    if (fail) throw new Error('server gone');
    return 1;
  }, undefined, 0);
  t.true(await askTwice(gate));
  fail = true;
  t.true(await askTwice(gate));
});
