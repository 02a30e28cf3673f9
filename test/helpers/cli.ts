import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, as an operator runs it. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment a CLI child gets: ours, minus every cellsdb setting (tests pass what they mean),
 * except a generous connect timeout: on a loaded CI machine (load 20–30 on 2 cores) a connection to
 * a live local server took more than the 10 s default. Tests that mean a timeout pass
 * `--connect-timeout` (a flag wins over the environment) or their own CELLSDB_CONNECT_TIMEOUT.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CELLSDB_')) env[k] = v;
  return { ...env, CELLSDB_CONNECT_TIMEOUT: '60', ...extra };
}

/** Starts the CLI as a child process (for kill and race tests). */
export function spawnCli(args: readonly string[], options: { env?: Record<string, string> } = {}): ChildProcess & { result: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return Object.assign(child, { result });
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  try {
    return await child.result;
  } finally {
    clearTimeout(timer);
  }
}
