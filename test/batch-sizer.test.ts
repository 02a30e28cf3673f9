// Adaptive batch sizes (`BatchSizer`), without a database: the sizes asked for after batches of
// given durations. The movers' tests run it against real servers; here its rules are pinned down.
import test from 'ava';
import { BatchSizer, FIRST_BATCH_SIZE, MAX_BATCH_SIZE } from '../src/movers/batch-sizer.js';

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

test('a floor of rows (the pace controller, throttled): a short target never shrinks batches below it', (t) => {
  const sizer = new BatchSizer(undefined, 100);
  // Batches whose fixed cost alone is 40 ms: a 10 ms target would shrink them toward one row.
  for (let i = 0; i < 6; i++) sizer.observe(sizer.next(10, 50), sizer.next(10, 50), 40 + sizer.next(10, 50) * 0.01);
  t.is(sizer.next(10, 50), 50);
  t.true(sizer.next(10) < 50, 'without the floor the same history asks for fewer rows');
  t.is(new BatchSizer(5, 100).next(10, 50), 5, 'a fixed --batch-size stays fixed');
});
