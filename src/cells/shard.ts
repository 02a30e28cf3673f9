// `--shard I/N`: N runner hosts (a Kubernetes Indexed Job, Ansible hosts) each take their share of
// the mapped cells without listing names. A cell's shard is a hash of its uuid modulo N, so that a
// cell keeps its shard whatever other cells are mapped or removed (sorting the uuids and taking every
// N-th would balance few cells better, but adding one cell would move about half of the others to
// another shard, between two runs of the same Job). With few cells the shards may be uneven, and
// one may be empty: its runner has nothing to do and exits 0.
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import type { CellMappingRow } from './mappings.js';

/** One share of the mapped cells: shard `index` (0-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The environment variable Kubernetes sets in each pod of an Indexed Job (0-based). */
export const JOB_COMPLETION_INDEX = 'JOB_COMPLETION_INDEX';

/** The largest N accepted: more runner hosts than that is surely a typo. */
export const MAX_SHARDS = 10_000;

const WHOLE = /^\s*(\d{1,6})\s*$/;

/**
 * Reads `I/N` (0 ≤ I < N), or `N` alone with the index taken from `jobCompletionIndex` (the pod's
 * `JOB_COMPLETION_INDEX`). `name` is the flag, for the one-line error (exit 127).
 */
export function parseShard(text: string, jobCompletionIndex: string | undefined, name = '--shard'): Shard {
  const usage = `${name} takes I/N (this runner's 0-based index I of N runners, e.g. 0/4), or N with the index in ${JOB_COMPLETION_INDEX}`;
  const parts = text.split('/');
  if (parts.length > 2) throw new InvalidInputError(`${usage}, got '${text}'`);
  const [first, second] = parts as [string, string | undefined];
  const countText = second ?? first;
  const countMatch = WHOLE.exec(countText);
  if (!countMatch) throw new InvalidInputError(`${usage}, got '${text}'`);
  const count = Number(countMatch[1]);
  if (count < 1 || count > MAX_SHARDS) throw new InvalidInputError(`${name}: N must be from 1 to ${MAX_SHARDS}, got '${text}'`);
  let indexText: string;
  let from: string;
  if (second === undefined) {
    if (jobCompletionIndex === undefined || jobCompletionIndex.trim() === '') {
      throw new InvalidInputError(`${name} ${text} takes this runner's index from ${JOB_COMPLETION_INDEX}, which is not set: give ${name} I/${count}`);
    }
    indexText = jobCompletionIndex;
    from = `${JOB_COMPLETION_INDEX}=${jobCompletionIndex.trim()}`;
  } else {
    indexText = first;
    from = `'${text}'`;
  }
  const indexMatch = WHOLE.exec(indexText);
  if (!indexMatch) throw new InvalidInputError(`${name}: the index must be a whole number from 0 to ${count - 1}, got ${from}`);
  const index = Number(indexMatch[1]);
  if (index >= count) throw new InvalidInputError(`${name}: the index must be from 0 to ${count - 1} (0-based) for ${count} shard(s), got ${from}`);
  return Object.freeze({ index, count });
}

/** The shard (0-based, of `count`) a cell uuid belongs to: the first 48 bits of its SHA-256, modulo `count`. */
export function shardOfUuid(uuid: string, count: number): number {
  const digest = createHash('sha256').update(uuid.trim().toLowerCase()).digest();
  return digest.readUIntBE(0, 6) % count;
}

/** The cells of `shard`, in their order. */
export function cellsOfShard<Cell extends Pick<CellMappingRow, 'uuid'>>(cells: readonly Cell[], shard: Shard): Cell[] {
  return cells.filter((c) => shardOfUuid(c.uuid, shard.count) === shard.index);
}

/** `2/4` (0-based, as given). */
export const describeShard = (shard: Shard): string => `${shard.index}/${shard.count}`;
