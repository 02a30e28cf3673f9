import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../errors.js';
import { migrationChecksum } from './checksum.js';
import type { LineId } from './types.js';

/** One migration line: where its files are, and which ledger table records them. */
export interface MigrationLine {
  readonly id: LineId;
  /** For messages: 'API' or 'cell'. */
  readonly title: string;
  /** Absolute path of the folder holding the compiled migrations. */
  readonly directory: string;
  /**
   * The ledger table. Each line has its own, so that an API and a cell database sharing one schema
   * (possible in small deployments) never share a ledger.
   */
  readonly ledgerTable: string;
  /** The command that syncs this line, for messages ('cellsdb api_db sync'). */
  readonly command: string;
}

/** A migration file found on disk. */
export interface MigrationFile {
  readonly name: string;
  /** Its numeric prefix: 3 for `0003_services_last_seen_up`. */
  readonly number: number;
  readonly path: string;
  readonly checksum: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** The two lines shipped with cellsdb (compiled into dist/ beside src/). */
export const LINES: Readonly<Record<LineId, MigrationLine>> = Object.freeze({
  api: Object.freeze({
    id: 'api',
    title: 'API',
    directory: join(here, '..', '..', 'migrations-api'),
    ledgerTable: 'cellsdb_migrations_api',
    command: 'cellsdb api_db sync',
  }),
  cell: Object.freeze({
    id: 'cell',
    title: 'cell',
    directory: join(here, '..', '..', 'migrations-cell'),
    ledgerTable: 'cellsdb_migrations_cell',
    command: 'cellsdb db sync',
  }),
});

/** The same line read from another folder (tests' fixtures, `--migrations-dir`). */
export function lineFromDirectory(line: MigrationLine, directory: string): MigrationLine {
  return Object.freeze({ ...line, directory });
}

const FILE_RE = /^(\d{4})_[a-z0-9_]+\.js$/;

/** The line's migration files in order, with their checksums. */
export function listMigrationFiles(line: MigrationLine): MigrationFile[] {
  let entries: string[];
  try {
    entries = readdirSync(line.directory);
  } catch (cause) {
    throw new InvalidInputError(`cannot read the ${line.title} migrations folder '${line.directory}'`, { cause });
  }
  const files = entries
    .filter((f) => FILE_RE.test(f))
    .sort()
    .map((f): MigrationFile => {
      const path = join(line.directory, f);
      return {
        name: f.replace(/\.js$/, ''),
        number: Number((FILE_RE.exec(f) as RegExpExecArray)[1]),
        path,
        checksum: migrationChecksum(readFileSync(path, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '')),
      };
    });
  const seen = new Map<number, string>();
  for (const f of files) {
    const other = seen.get(f.number);
    if (other) throw new InvalidInputError(`two ${line.title} migrations share number ${f.number}: ${other} and ${f.name}`);
    seen.set(f.number, f.name);
  }
  return files;
}

/**
 * Resolves a VERSION argument: a migration's full name, or its number (`3` or `0003`).
 * Unknown versions are invalid input.
 */
export function resolveVersion(line: MigrationLine, files: readonly MigrationFile[], version: string): MigrationFile {
  const v = version.trim();
  const byName = files.find((f) => f.name === v);
  if (byName) return byName;
  if (/^\d+$/.test(v)) {
    const byNumber = files.find((f) => f.number === Number(v));
    if (byNumber) return byNumber;
  }
  const known = files.length > 0 ? `${files[0]?.name} … ${files[files.length - 1]?.name}` : 'none';
  throw new InvalidInputError(`unknown ${line.title} version '${v}': known versions are ${known}`);
}
