// --connect-timeout reaches every connection: against a TCP listener that accepts and never says a
// word (no server greeting for MariaDB, no answer to PostgreSQL's startup message), the client gives
// up after about the given time, on both dialects, with one masked line and exit 1; the registry's
// dedicated sessions and scratch databases do the same. An upper bound is measured from the listener
// accepting the connection to the client dropping it, so that a slow Node start-up on a busy machine
// does not count; a lower bound from before the client starts, since a timer never fires early. The
// bounds are generous and only tell 1 s from 3 s from 10 s.
import { createServer, type Socket } from 'node:net';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { ConnectionRegistry } from '../src/db/registry.js';
import { DatabaseConnectionError } from '../src/errors.js';
import { withScratchDatabase } from '../src/db/scratch.js';
import { type Dialect, parseDatabaseUrl } from '../src/url/index.js';
import { runCli } from './helpers/cli.js';

const test = anyTest as TestFn<unknown>;
const SECRET = 'never-Sh0wn-pw';

/** A listener that holds every connection without a word; `held` is how long the first one lasted, in seconds. */
async function silentListener(t: ExecutionContext<unknown>): Promise<{ port: number; held: Promise<number> }> {
  const sockets = new Set<Socket>();
  let first: ((seconds: number) => void) | undefined;
  const held = new Promise<number>((resolve) => (first = resolve));
  const server = createServer((socket) => {
    const accepted = process.hrtime.bigint();
    sockets.add(socket);
    // Read (and drop) what the client sends, or its hang-up would go unnoticed in a paused socket.
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      first?.(Number(process.hrtime.bigint() - accepted) / 1e9);
      first = undefined;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, held };
}

const secondsSince = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;
const silentUrl = (dialect: Dialect, port: number): string => `${dialect === 'postgres' ? 'postgresql' : 'mysql'}://nova:${SECRET}@127.0.0.1:${port}/nova_api`;

for (const dialect of ['postgres', 'mysql'] as const) {
  test(`${dialect}: --connect-timeout 1 gives up after about a second: exit 1, one masked line`, async (t) => {
    const listener = await silentListener(t);
    const result = await runCli(['api_db', 'version', '--api-db', silentUrl(dialect, listener.port), '--connect-timeout', '1'], { timeoutMs: 120_000 });
    t.is(result.code, 1, result.stderr);
    const lines = result.stderr.split('\n');
    t.is(lines.length, 2, `one line on stderr:\n${result.stderr}`);
    t.regex(lines[0] ?? '', /^cellsdb: error: timed out connecting to the database server \(\w+:\/\/nova:\*\*\*\*@127\.0\.0\.1:\d+\/nova_api\)$/);
    t.false(result.stderr.includes(SECRET));
    const held = await listener.held;
    // The default (10 s) would hold it far longer.
    t.true(held < 8, `held the connection for ${held.toFixed(1)} s`);
  });

  test(`${dialect}: --connect-timeout 3 waits about 3 s before giving up`, async (t) => {
    const listener = await silentListener(t);
    const started = process.hrtime.bigint();
    const result = await runCli(['api_db', 'version', '--api-db', silentUrl(dialect, listener.port), '--connect-timeout', '3'], { timeoutMs: 120_000 });
    const elapsed = secondsSince(started);
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /timed out connecting/);
    t.true(elapsed >= 2.9, `gave up after ${elapsed.toFixed(1)} s`);
    const held = await listener.held;
    t.true(held < 20, `held the connection for ${held.toFixed(1)} s`);
  });

  test(`${dialect}: CELLSDB_CONNECT_TIMEOUT sets it from the environment`, async (t) => {
    const listener = await silentListener(t);
    const result = await runCli(['api_db', 'version', '--api-db', silentUrl(dialect, listener.port)], { env: { CELLSDB_CONNECT_TIMEOUT: '1' }, timeoutMs: 120_000 });
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /timed out connecting/);
    const held = await listener.held;
    t.true(held < 8, `held the connection for ${held.toFixed(1)} s`);
  });

  test(`${dialect}: a dedicated session (the migration lock's) uses the registry's connect timeout`, async (t) => {
    const listener = await silentListener(t);
    const registry = new ConnectionRegistry({ connectTimeoutMs: 1000 });
    t.teardown(() => registry.close());
    const started = process.hrtime.bigint();
    const error = await t.throwsAsync(() => registry.openSession(parseDatabaseUrl(silentUrl(dialect, listener.port)), 'cellsdb test'), { instanceOf: DatabaseConnectionError });
    t.is(error?.reason, 'timeout');
    const elapsed = secondsSince(started);
    t.true(elapsed >= 0.9, `gave up after ${elapsed.toFixed(1)} s`);
    const held = await listener.held;
    t.true(held < 8, `held the connection for ${held.toFixed(1)} s`);
  });

  test(`${dialect}: a scratch database's connections use the connect timeout given`, async (t) => {
    const listener = await silentListener(t);
    const started = process.hrtime.bigint();
    const error = await t.throwsAsync(() => withScratchDatabase(parseDatabaseUrl(silentUrl(dialect, listener.port)), 'timeout', async () => undefined, { connectTimeoutMs: 1000 }), {
      instanceOf: DatabaseConnectionError,
    });
    t.is(error?.reason, 'timeout');
    const elapsed = secondsSince(started);
    t.true(elapsed >= 0.9, `gave up after ${elapsed.toFixed(1)} s`);
    const held = await listener.held;
    t.true(held < 8, `held the connection for ${held.toFixed(1)} s`);
  });
}
