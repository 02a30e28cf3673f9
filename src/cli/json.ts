// The CLI's JSON conventions (docs/json.md): one key style, snake_case as Nova's and the movers'
// JSON, for every document a command prints; and the document a failure prints under --json.
import { errorCodeOf } from '../index.js';

/** `cellUuid` → `cell_uuid`, `p99Ms` → `p99_ms`; a key already in snake_case is left as it is. */
export const snakeCase = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * `value` with every key of every plain object in snake_case (arrays walked; dates and other
 * values kept, so that JSON.stringify renders them as before). Documents are never keyed by data
 * (a host, a cell name): they are lists of objects, so no datum is renamed here.
 */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeCase(k), snakeCaseKeys(v)]));
}

/** What `--json` prints on stdout when a command fails: `{"error": {"code", "message", "exit_code"}}`. */
export interface ErrorDocument {
  readonly error: { readonly code: string; readonly message: string; readonly exit_code: number };
}

export function errorDocument(error: unknown, message: string, exitCode: number): ErrorDocument {
  return { error: { code: errorCodeOf(error), message, exit_code: exitCode } };
}
