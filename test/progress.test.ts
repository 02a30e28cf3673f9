// The movers' progress (issue 13, item 4). The display itself, fed events (no database): rate, ETA,
// the pace state, notices above the frame, widths, the final frame, summary lines. Then the real
// command: frames in a pseudo-terminal at 80 and 140 columns show counts, rate and ETA; a piped run
// prints summary lines and no per-batch lines; `--log-batches` brings the per-batch lines back.
import test from 'ava';
import { formatDuration, moverLine, ProgressDisplay, RateMeter } from '../src/cli/progress.js';
import { type Cell } from './helpers/cells.js';
import { eachDialect } from './helpers/databases.js';
import { odm, seed, show, useLegacyDeployment } from './helpers/movers.js';
import { inPty } from './helpers/pty.js';

const GROUPS = 'migrate_instance_groups_to_api_db';
const NODES = 'migrate_compute_node_host';

/** A display on a fake terminal (or pipe), with a clock the test moves. */
function fake(tty: boolean, columns = 80, intervalMs = 10_000) {
  let out = '';
  let now = 1_000_000;
  const display = new ProgressDisplay({ write: (t) => void (out += t), tty, columns: () => columns }, { now: () => now, intervalMs, redrawMs: 0 });
  return {
    display,
    advance: (ms: number) => void (now += ms),
    get out() {
      return out;
    },
  };
}

/** What a terminal shows, escapes removed, one entry per line. */
const screenLines = (out: string): string[] =>
  out
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .split('\n')
    .map((l) => l.replace(/\r/g, ''))
    .filter((l) => l !== '');

test('rate: none before the first batch, then rows over the window; the ETA follows it', (t) => {
  const meter = new RateMeter(10_000);
  t.is(meter.rate(0), undefined);
  meter.add(100, 1000, 1000);
  t.is(meter.rate(1000), 100);
  meter.add(100, 2000, 1000);
  t.is(meter.rate(2000), 100);
  // Nothing for 20 s (yielding): the window holds no rows, the rate falls to 0.
  t.is(meter.rate(22_000), 0);
  t.is(formatDuration(75), '1m15s');
  t.is(formatDuration(3 * 3600 + 120), '3h02m');
});

test('a terminal frame: counts, rate, ETA; the pace state; notices above it; the final frame after --max-count has no ETA', (t) => {
  const f = fake(true, 80);
  f.display.estimated(GROUPS, 1000);
  f.display.estimated(NODES, 50);
  f.display.render();
  t.notRegex(f.out, /ETA/, 'no ETA before a rate exists');
  f.advance(1000);
  f.display.batch(GROUPS, 100, 1000);
  const lines = screenLines(f.out);
  t.regex(lines.at(-2) ?? '', new RegExp(`^${GROUPS}\\s+100/1000\\s+10%\\s+100 rows/s\\s+ETA 9s$`), lines.join('\n'));
  f.display.state('yielding to live traffic: throttled to 1 cell(s) at once (impact 40 ms over 25 ms)');
  f.display.log('movers throttled: impact 40 ms over 25 ms');
  const after = screenLines(f.out);
  t.is(after.at(-4), 'movers throttled: impact 40 ms over 25 ms', after.join('\n'));
  t.regex(after.at(-1) ?? '', /^yielding to live traffic: throttled/);
  for (const l of after) t.true(l.length <= 79, `fits 80 columns: ${l}`);
  f.display.stop('max-count');
  const final = f.out.slice(f.out.lastIndexOf('\u001b[J'));
  t.notRegex(final, /ETA/, 'no ETA after a --max-count stop');
  t.regex(final, new RegExp(`${GROUPS}.*100/1000.*stopped at --max-count`));
  t.true(f.out.endsWith('\u001b[?25h\u001b[?7h'), 'cursor and line wrap restored');
});

test('narrow terminals drop the bar, then the percentage, then shorten the name, never the counts', (t) => {
  const figures = { name: GROUPS, done: 123_456, total: 7_654_321, rate: 2345, eta: 3200, elapsed: 50 };
  const wide = moverLine(figures, 139, '');
  t.regex(wide, /\[=*\s*\]/);
  t.regex(wide, /123456\/7654321.*2345 rows\/s.*ETA 53m20s/);
  const at80 = moverLine(figures, 79, '');
  t.true(at80.length <= 79, at80);
  t.regex(at80, /123456\/7654321.*2345 rows\/s.*ETA 53m20s/);
  const at40 = moverLine(figures, 39, '');
  t.true(at40.length <= 39, at40);
  t.regex(at40, /123456\/7654321/);
});

test('not a terminal: summary lines (done/total, rate, ETA), one per interval, and a final one', (t) => {
  const f = fake(false, 80, 0);
  f.display.estimated(GROUPS, 1000);
  f.advance(1000);
  f.display.batch(GROUPS, 100, 1000);
  f.advance(1000);
  f.display.batch(GROUPS, 100, 1000);
  f.display.stop('finished');
  const lines = f.out.trim().split('\n');
  t.deepEqual(lines.slice(0, 2), [`progress: ${GROUPS} 100/1000 100 rows/s ETA 9s`, `progress: ${GROUPS} 200/1000 100 rows/s ETA 8s`]);
  t.regex(lines[2] ?? '', new RegExp(`^progress: ${GROUPS} 200/1000 100 rows/s left for later$`));
  t.notRegex(f.out, /\u001b/, 'no escape sequence on a pipe');
});

eachDialect(test, 'the movers in a pseudo-terminal at 80 and 140 columns show counts, rate and ETA; the final frame stays', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  await seed(d.cells[0] as Cell, { groups: 60, policiesPerGroup: 1, membersPerGroup: 1, computeNodes: 20, hostPrefix: 'p' });
  // 20 of 60 at 80 columns, 20 of the 40 left at 140.
  for (const [columns, total] of [[80, 60], [140, 40]] as const) {
    const r = await inPty(['--api-db', d.cloud.api.raw, 'db', 'online_data_migrations', '--batch-size', '5', '--max-count', '20'], { columns });
    t.is(r.code, 1, r.output);
    const lines = screenLines(r.output);
    const frames = lines.filter((l) => /^migrate_\w+\s.*\d+\/\d+/.test(l));
    for (const l of frames) t.true(l.length <= columns, `${columns} columns: ${l}`);
    const live = frames.filter((l) => l.startsWith(GROUPS) && /ETA [<\d]/.test(l));
    t.true(live.length > 0, r.output);
    t.regex(live[0] ?? '', new RegExp(`\\d+/${total}\\s+\\d+%\\s+[\\d.k]+ rows/s\\s+ETA [<\\d]`), r.output);
    if (columns === 140) t.regex(live[0] ?? '', /\[=*\s*\]/, 'a bar where there is room');
    // The final frame, after the last redraw: the final counts, no ETA, the reason it stopped.
    const final = screenLines(r.output.slice(r.output.lastIndexOf('\u001b[J')));
    t.regex(final.find((l) => l.startsWith(GROUPS)) ?? '', new RegExp(`20/${total}.*stopped at --max-count`), r.output);
    t.false(final.some((l) => /ETA/.test(l)), final.join('\n'));
    t.true(r.output.lastIndexOf('\u001b[?25h') > r.output.lastIndexOf('\u001b[?25l'), 'cursor shown again');
    t.regex(r.output, /Total Needed/, 'the report follows');
  }
});

eachDialect(test, 'piped: summary lines, no per-batch lines; --log-batches brings them back', async (t, dialect) => {
  const d = await useLegacyDeployment(t, dialect, ['cell1']);
  await seed(d.cells[0] as Cell, { groups: 30, policiesPerGroup: 1, membersPerGroup: 1, computeNodes: 10, hostPrefix: 'q' });
  const r = await odm(d.cloud, ['--batch-size', '5', '--max-count', '20', '--progress-interval', '0']);
  t.is(r.code, 1, show(r));
  t.notRegex(r.stderr, /batch cell=/, show(r));
  const summaries = r.stderr.split('\n').filter((l) => l.startsWith('progress: '));
  t.true(summaries.length >= 2, show(r));
  t.true(summaries.some((l) => new RegExp(`^progress: ${GROUPS} \\d+/30 [\\d.]+ rows/s ETA [<\\d]`).test(l)), show(r));
  t.regex(summaries.at(-1) ?? '', new RegExp(`^progress: ${GROUPS} 20/30 [\\d.]+ rows/s stopped at --max-count`), show(r));
  t.notRegex(r.stderr, /\u001b/, 'no escape sequence on a pipe');

  const quiet = await odm(d.cloud, ['--batch-size', '5', '--max-count', '5']);
  t.is(quiet.code, 1, show(quiet));
  t.notRegex(quiet.stderr, /progress: |batch cell=/, 'a short run with the default interval prints neither');

  const logged = await odm(d.cloud, ['--batch-size', '5', '--log-batches']);
  t.is(logged.code, 0, show(logged));
  t.regex(logged.stderr, /batch cell=cell1 mover=migrate_instance_groups_to_api_db keys=\(\d+,\d+\] rows=\d+ done=\d+ ms=\d+/, show(logged));
});
