// nova-manage spells its flags both ways across commands (`--local_cell`, `--cell_uuid`,
// `--database_connection` beside `--transport-url`, `--by-service`, `--max-count`), and runbooks mix
// them. Here, in one place, every flag a command defines gets the other spelling too, so that
// `--local-cell` and `--local_cell`, `--transport-url` and `--transport_url` are the same flag.
// The other spelling is a hidden option of the same type (not a yargs alias, which --help would
// list beside each flag): `--help` shows each option once (#16), and a middleware that runs before
// validation hands its value to the flag as defined, so that `demandOption`, `choices` and
// `conflicts` see it.
import type { Argv } from 'yargs';

/** The part of yargs' option table read here (`getOptions()`, public on the instance, untyped in @types/yargs). */
interface OptionTable {
  readonly key: Readonly<Record<string, unknown>>;
  readonly alias: Readonly<Record<string, readonly string[]>>;
  readonly boolean: readonly string[];
  readonly number: readonly string[];
  readonly array: readonly string[];
}

/** `local-cell` → `local_cell`, `cell_uuid` → `cell-uuid`; undefined for a flag with neither. */
export function otherSpelling(flag: string): string | undefined {
  if (flag.includes('-')) return flag.replaceAll('-', '_');
  if (flag.includes('_')) return flag.replaceAll('_', '-');
  return undefined;
}

/** `local-cell` → `localCell` (yargs' camel-case expansion of a hyphenated flag). */
const camelCase = (flag: string): string => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The flags written on a command line (`--local_cell`, `--max-count=5`, `--no-yield`), without dashes. */
export function flagsGiven(argv: readonly string[]): ReadonlySet<string> {
  const given = new Set<string>();
  for (const token of argv) {
    if (token === '--') break;
    const match = /^--(?:no-)?([^=]+)/.exec(token);
    if (match?.[1]) given.add(match[1]);
  }
  return given;
}

/**
 * Adds the other spelling of every option defined so far (hyphens for underscores and the reverse),
 * hidden from `--help`, unless that spelling is taken. Called by `main` after the global options
 * (`global: true`) and after each command's builder. `given` is the command line's flags
 * ({@link flagsGiven}): where both spellings are given, the one the option is defined with wins.
 */
export function withBothSpellings<T>(y: Argv<T>, given: ReadonlySet<string>, options: { global?: boolean } = {}): Argv<T> {
  const table = (y as unknown as { getOptions(): OptionTable }).getOptions();
  const known = new Set<string>([...Object.keys(table.key), ...Object.values(table.alias).flat()]);
  const pairs: Array<[flag: string, other: string]> = [];
  let parser = y;
  for (const flag of Object.keys(table.key)) {
    const other = otherSpelling(flag);
    if (other === undefined || known.has(other)) continue;
    known.add(other);
    const type = table.array.includes(flag) ? 'array' : table.boolean.includes(flag) ? 'boolean' : table.number.includes(flag) ? 'number' : 'string';
    parser = parser.option(other, { type, hidden: true, global: options.global === true });
    pairs.push([flag, other]);
  }
  if (pairs.length === 0) return parser;
  return parser.middleware((args: Record<string, unknown>) => {
    for (const [flag, other] of pairs) {
      if (args[other] === undefined || (given.has(flag) && !given.has(other))) continue;
      if (!given.has(flag)) {
        args[flag] = args[other];
        if (flag.includes('-')) args[camelCase(flag)] = args[other];
      }
      delete args[other];
    }
  }, true) as unknown as Argv<T>;
}
