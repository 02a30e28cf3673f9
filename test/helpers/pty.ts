// A real terminal for tests: the CLI in a pseudo-terminal from util-linux `script` (issue 13).
import { spawn } from 'node:child_process';
import { CLI_PATH, cliEnv } from './cli.js';

export interface PtyResult {
  readonly code: number | null;
  /** Everything the terminal received (stdout and stderr, escapes included). */
  readonly output: string;
}

/** Runs the CLI in a pseudo-terminal `columns` wide (util-linux `script`); the code is the CLI's. */
export function inPty(args: readonly string[], options: { env?: Record<string, string>; columns?: number; timeoutMs?: number } = {}): Promise<PtyResult> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${options.columns ?? 80} rows 50; exec ${quote(process.execPath)} ${quote(CLI_PATH)} ${args.map(quote).join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnv({ TERM: 'xterm', ...options.env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

