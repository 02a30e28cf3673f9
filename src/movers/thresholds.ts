import { InvalidInputError } from '../errors.js';

/**
 * What `--max-impact` allows the movers to do to the live cloud, measured by the impact probe (a
 * cheap statement timed on its own connection to each server): its p99 over the recent samples
 * may reach `ratio` times its idle p99 (`2x`), or `ms` milliseconds (`25ms`).
 */
export type ImpactBudget = { readonly kind: 'ratio'; readonly ratio: number } | { readonly kind: 'ms'; readonly ms: number };

/**
 * The metrics `--max-load` and `--critical-load` compare, per server, as the impact monitor reads them:
 * * `threads_running` (alias `active_backends`): other clients' statements running now in the
 *   databases the run works on (MariaDB's processlist, PostgreSQL's active client backends; the run's
 *   own connections left out);
 * * `lock_waits`: sessions waiting for a lock one of the run's connections holds;
 * * `probe_ms`: the impact probe's latest round trip, in milliseconds.
 */
export const LOAD_METRICS = ['threads_running', 'lock_waits', 'probe_ms'] as const;
export type LoadMetric = (typeof LOAD_METRICS)[number];

const ALIASES: Readonly<Record<string, LoadMetric>> = { active_backends: 'threads_running' };

/** One `NAME=VALUE` of `--max-load` / `--critical-load`: over when the metric is above `limit`. */
export interface LoadThreshold {
  readonly metric: LoadMetric;
  readonly limit: number;
}

/** `threads_running=25` as the operator wrote it (canonical name). */
export const describeThreshold = (t: LoadThreshold): string => `${t.metric}=${t.limit}`;

/**
 * Parses `--max-impact`: `2`, `2x` (a ratio, at least 1) or `25ms` (milliseconds, above 0).
 * Throws {@link InvalidInputError} naming `name` (the flag or variable that held it).
 */
export function parseImpactBudget(text: string, name: string): ImpactBudget {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(x|ms)?\s*$/i.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  const unit = m?.[2]?.toLowerCase();
  if (unit === 'ms' && n > 0) return Object.freeze({ kind: 'ms', ms: n });
  if (unit !== 'ms' && n >= 1) return Object.freeze({ kind: 'ratio', ratio: n });
  throw new InvalidInputError(`${name} must be a ratio of at least 1 (e.g. 2x) or milliseconds (e.g. 25ms), got '${text}'`);
}

/**
 * Parses `--max-load` / `--critical-load`: `NAME=VALUE[,NAME=VALUE…]`, names from {@link LOAD_METRICS}
 * (case-insensitive), values numbers of 0 or more. Throws {@link InvalidInputError} naming `name`.
 */
export function parseLoadThresholds(text: string, name: string): readonly LoadThreshold[] {
  const parts = text.split(',').map((p) => p.trim());
  const out: LoadThreshold[] = [];
  for (const part of parts) {
    const m = /^([A-Za-z_]+)\s*=\s*(\d+(?:\.\d+)?)$/.exec(part);
    const key = m?.[1]?.toLowerCase() ?? '';
    const metric = (LOAD_METRICS as readonly string[]).includes(key) ? (key as LoadMetric) : ALIASES[key];
    if (!m || metric === undefined) {
      throw new InvalidInputError(`${name} must be NAME=VALUE[,NAME=VALUE...] with NAME one of ${[...LOAD_METRICS, ...Object.keys(ALIASES)].join(', ')}, got '${text}'`);
    }
    out.push(Object.freeze({ metric, limit: Number(m[2]) }));
  }
  return Object.freeze(out);
}
