// The config-file reader behind one small interface, so that resolution never sees the format: this
// one reads nova.conf-style INI with the `ini` package; an oslo.config-compatible reader can take
// its place without touching `resolveConfig`.
import { readFileSync } from 'node:fs';
import ini from 'ini';
import { InvalidInputError } from '../errors.js';

/** The values of one or more config files, looked up by section and key. */
export interface ConfigFileValues {
  /** The value of `[section] key`, trimmed; undefined when unset or empty. */
  get(section: string, key: string): string | undefined;
}

type Parsed = Record<string, unknown>;

function readOne(path: string): Parsed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new InvalidInputError(`cannot read config file '${path}': ${code}`, { cause });
  }
  try {
    return ini.parse(text) as Parsed;
  } catch (cause) {
    throw new InvalidInputError(`cannot parse config file '${path}' as INI`, { cause });
  }
}

function lookup(parsed: Parsed, section: string, key: string): string | undefined {
  // `ini` nests a dotted section name (`[a.b]`) as objects.
  let node: unknown = parsed;
  for (const part of section.split('.')) node = node !== null && typeof node === 'object' ? (node as Parsed)[part] : undefined;
  const value = node !== null && typeof node === 'object' ? (node as Parsed)[key] : undefined;
  // `ini` turns `true`/`false` into booleans; every value here is read as text.
  const text = typeof value === 'string' ? value : typeof value === 'boolean' || typeof value === 'number' ? String(value) : undefined;
  return text !== undefined && text.trim() !== '' ? text.trim() : undefined;
}

/**
 * Reads every file in `paths` at once (an unreadable or unparsable one is invalid input naming it);
 * where several set the same key, the last one wins, as with oslo.config's repeated `--config-file`.
 */
export function readConfigFiles(paths: readonly string[]): ConfigFileValues {
  const files = paths.map(readOne);
  return {
    get(section, key) {
      for (let i = files.length - 1; i >= 0; i--) {
        const value = lookup(files[i] as Parsed, section, key);
        if (value !== undefined) return value;
      }
      return undefined;
    },
  };
}
