// nova-manage spells its flags both ways across commands (`--local_cell`, `--cell_uuid`,
// `--database_connection` beside `--transport-url`, `--by-service`, `--max-count`), and runbooks mix
// them. Here, in one place, every flag a command defines gets the other spelling as an alias, so
// that `--local-cell` and `--local_cell`, `--transport-url` and `--transport_url` are the same flag.
import type { Argv } from 'yargs';

/** The part of yargs' option table read here (`getOptions()`, public on the instance, untyped in @types/yargs). */
interface OptionTable {
  readonly key: Readonly<Record<string, unknown>>;
  readonly alias: Readonly<Record<string, readonly string[]>>;
}

/** `local-cell` → `local_cell`, `cell_uuid` → `cell-uuid`; undefined for a flag with neither. */
export function otherSpelling(flag: string): string | undefined {
  if (flag.includes('-')) return flag.replaceAll('-', '_');
  if (flag.includes('_')) return flag.replaceAll('_', '-');
  return undefined;
}

/**
 * Adds the other spelling of every option defined so far (hyphens for underscores and the reverse)
 * as an alias, unless it is taken. Called by `main` after the global options and after each
 * command's builder.
 */
export function withBothSpellings<T>(y: Argv<T>): Argv<T> {
  const table = (y as unknown as { getOptions(): OptionTable }).getOptions();
  const known = new Set<string>([...Object.keys(table.key), ...Object.values(table.alias).flat()]);
  let parser = y;
  for (const flag of Object.keys(table.key)) {
    const other = otherSpelling(flag);
    if (other === undefined || known.has(other)) continue;
    known.add(other);
    parser = parser.alias(flag, other);
  }
  return parser;
}
