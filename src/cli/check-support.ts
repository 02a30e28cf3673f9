// What `schema check`, `schema lint` and `upgrade check` share: their exit codes 0, 1 and 2 carry
// findings, so an error that stops a check must not come out as one of them (see CHECK_ERROR_EXIT);
// scratch servers; the JUnit file.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type DatabaseUrl, distinctServers, ExitCode, InvalidInputError, parseDatabaseUrl } from '../index.js';
import type { Runtime } from './runtime.js';

/**
 * The exit code of a check command that could not do its work (nova-status's 255), for every error
 * but invalid input (127): never 1 or 2, which say "pending" and "broken". `main` applies it.
 */
export const CHECK_ERROR_EXIT = ExitCode.unexpected;

/** A URL option, parsed (bad input is 127, masked). */
export function urlOption(value: string | undefined): DatabaseUrl | undefined {
  return value === undefined || value.trim() === '' ? undefined : parseDatabaseUrl(value);
}

/** Checks, before any work, that a JUnit report can be written at `path` (its folder is created). */
export function junitTarget(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  if (path.trim() === '') throw new InvalidInputError('--junit needs a file name');
  const file = resolve(path);
  try {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new InvalidInputError(`--junit '${path}' is a folder: give a file name`);
    mkdirSync(dirname(file), { recursive: true });
    accessSync(dirname(file), constants.W_OK);
  } catch (cause) {
    if (cause instanceof InvalidInputError) throw cause;
    throw new InvalidInputError(`cannot write the JUnit report '${path}': ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  return file;
}

/**
 * Servers for scratch databases: those given with `--scratch` (one per dialect to cover both), else
 * the servers of the configured API and cell databases (`--api-db`, `--db`, the environment, the
 * config file, or `--embedded`). Only their server and credentials are used; their databases are
 * never written.
 */
export async function scratchServers(rt: Runtime, explicit: readonly string[] | undefined): Promise<DatabaseUrl[]> {
  const given = (explicit ?? []).filter((s) => s.trim() !== '');
  if (given.length > 0) return distinctServers(given.map((s) => parseDatabaseUrl(s)));
  const config = await rt.config();
  return distinctServers([config.apiDb, config.db]);
}

/** A one-line summary of counts, skipping zeros (`9 passed, 1 pending`). */
export function countsLine(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing checked';
}

/** Wraps text at word boundaries for a table cell (the table keeps the newlines). */
export function wrap(text: string, width = 72): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines.join('\n');
}

/** Wraps a file path after its slashes, for a table cell. */
export function wrapPath(path: string, width = 40): string {
  const lines: string[] = [];
  let current = '';
  for (const part of path.split(/(?<=\/)/)) {
    if (current && current.length + part.length > width) {
      lines.push(current);
      current = part;
    } else current += part;
  }
  if (current) lines.push(current);
  return lines.join('\n');
}
