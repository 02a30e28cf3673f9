/**
 * nova.conf read as oslo.config reads it: the parser of `oslo_config/iniparser.py` and the parts of
 * `oslo_config/cfg.py` that read files (`ConfigParser`, `_Namespace._get_file_value`,
 * `_Opt._get_from_namespace`, `--config-dir`) and substitute values (`ConfigOpts._substitute`,
 * `StrSubWrapper`, `Template`). Each rule names the oslo line it follows.
 *
 * Errors are {@link ConfigFileError}s (exit 127) that say `FILE:LINE: what is wrong` and never
 * quote a line or a value: a value may be a password.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../errors.js';

/** What the configuration resolution needs from config files. */
export interface ConfigFileValues {
  /**
   * The value of `key` in `section` as oslo.config gives it to a string option: from the last file
   * that sets it, the last assignment in that file, substituted. `undefined` when no file sets it.
   * Throws {@link ConfigFileError} when its substitution fails.
   */
  get(section: string, key: string): string | undefined;
}

/** One value found in the files, with where it came from. */
export interface ConfigFileValue {
  /** The substituted value. */
  readonly value: string;
  /** The value as written (continuation lines joined with `\n`, surrounding quotes removed). */
  readonly rawValue: string;
  /** The file that set it (the path as given, `~` expanded). */
  readonly file: string;
  /** The line of the assignment (1-based). */
  readonly line: number;
  /** The section as oslo looks it up: lower case, except `DEFAULT`. */
  readonly section: string;
  readonly key: string;
}

/** Where one of the names of an option is looked for: `[section] key`. */
export interface ConfigName {
  readonly section: string;
  readonly key: string;
}

/** Everything read from a set of config files. */
export interface OsloConfigFiles extends ConfigFileValues {
  /** The files read, in the order read (later ones override earlier ones). */
  readonly files: readonly string[];
  /** Like {@link ConfigFileValues.get}, with the file and line the value came from. */
  lookup(section: string, key: string): ConfigFileValue | undefined;
  /**
   * The value of an option that has several names (its own and deprecated ones, e.g. oslo.db's
   * `[database] connection` and `[DEFAULT] sql_connection`), as oslo picks it: from the last file
   * that sets any of them, the first name that file sets.
   */
  lookupFirst(names: readonly ConfigName[]): ConfigFileValue | undefined;
  /** Every section seen, as oslo looks them up, sorted. */
  sections(): string[];
}

/** A `--config-file` or a `--config-dir`, in command-line order. */
export type ConfigSource = { readonly file: string } | { readonly dir: string };

/** Options of {@link readConfigFiles}. */
export interface ReadConfigOptions {
  /**
   * Values `$name` substitution falls back on when no file sets `name` in the value's section or in
   * `[DEFAULT]` (oslo uses the registered option's default there, e.g. Nova's `state_path`).
   * @default {}
   */
  readonly substitutionDefaults?: Readonly<Record<string, string>>;
}

/** A config file that cannot be read or used: `FILE:LINE: what is wrong` (or `FILE: …`), exit 127. */
export class ConfigFileError extends InvalidInputError {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, problem: string, options: { cause?: unknown } = {}) {
    super(`${line === undefined ? file : `${file}:${line}`}: ${problem}`, options);
    this.file = file;
    this.line = line;
  }
}

// ---------------------------------------------------------------------------------------------
// Characters Python's str.strip()/rstrip()/lstrip() remove (str.isspace): not JavaScript's trim(),
// which also removes U+FEFF and keeps U+001C..U+001F and U+0085.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_RSTRIP = new RegExp(`[${PY_SPACE}]+$`);
const PY_LSTRIP = new RegExp(`^[${PY_SPACE}]+`);
const pyStrip = (s: string): string => s.replace(PY_LSTRIP, '').replace(PY_RSTRIP, '');

// Python's text-mode readlines() splits at \n, \r\n and a lone \r (universal newlines).
const LINE_BREAK = /\r\n|\r|\n/;

/** `_normalize_group_name` (cfg.py): section names match case-insensitively, except `DEFAULT`. */
export function normalizeSectionName(section: string): string {
  return section === 'DEFAULT' ? section : section.toLowerCase();
}

/** One assignment in a file: the value as written (continuation lines joined) and its line. */
export interface OsloIniAssignment {
  readonly value: string;
  readonly line: number;
}

/** One file's sections as `ConfigParser` builds them: normalized section → key → every assignment. */
export type OsloIniSections = Map<string, Map<string, OsloIniAssignment[]>>;

// A key is named in a message only when it looks like one: a stray line of a password is not.
function describeKey(key: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(key) ? `'${key}'` : 'a key';
}

function decodeUtf8(file: string, bytes: Buffer): string {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    // Python's open() fails on the first bad byte; name its line, never its bytes.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          throw new ConfigFileError(file, line, 'not valid UTF-8 (oslo.config reads config files as UTF-8)', { cause });
        }
        line++;
        start = i + 1;
      }
    }
    throw new ConfigFileError(file, undefined, 'not valid UTF-8 (oslo.config reads config files as UTF-8)', { cause });
  }
}

function readError(file: string, cause: unknown, what = 'config file'): ConfigFileError {
  const code = (cause as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? `no such ${what} (ENOENT)`
      : code === 'EACCES' || code === 'EPERM'
        ? `cannot read the ${what}: permission denied (${code})`
        : code === 'EISDIR'
          ? `is a directory, not a config file (EISDIR): give a directory with --config-dir`
          : code === 'ENOTDIR'
            ? `is not a directory (ENOTDIR)`
            : `cannot read the ${what}${code ? ` (${code})` : ''}`;
  return new ConfigFileError(file, undefined, reason, { cause });
}

/**
 * Parses one file's text as `BaseParser.parse` (iniparser.py) and `ConfigParser` (cfg.py) do.
 * Exported for tests and for callers that hold the text already.
 */
export function parseOsloIni(file: string, text: string): OsloIniSections {
  const sections: OsloIniSections = new Map();
  let section: Map<string, OsloIniAssignment[]> | undefined;
  let key: string | undefined;
  let keyLine = 0;
  let value: string[] = [];

  const fail = (line: number, problem: string): never => {
    throw new ConfigFileError(file, line, problem);
  };
  // ConfigParser.assignment: a value needs a section; continuation lines are joined with '\n';
  // every assignment is kept (a multi-valued key), and a string option takes the last one.
  const flush = (): void => {
    if (key === undefined) return;
    if (!section) fail(keyLine, `${describeKey(key)} is set before any [section] (oslo.config: Section must be started before assignment)`);
    const list = section?.get(key) ?? [];
    list.push({ value: value.join('\n'), line: keyLine });
    section?.set(key, list);
    key = undefined;
    value = [];
  };

  // oslo reads with Python's default (UTF-8) codec, which keeps a byte-order mark as U+FEFF in the
  // first line; iniparser then refuses that line. Say why instead of its puzzling message.
  if (text.startsWith('\uFEFF')) {
    fail(1, 'starts with a UTF-8 byte-order mark, which oslo.config (nova-manage) refuses: save the file without one');
  }

  const lines = text.split(LINE_BREAK);
  // A final line break leaves one empty string behind, which Python's readlines() does not yield.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const [index, rawLine] of lines.entries()) {
    const lineNo = index + 1;
    const line = rawLine.replace(PY_RSTRIP, '');
    if (!line) {
      // A blank line ends a multi-line value.
      flush();
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // Continuation of the previous assignment (leading white space); none after a blank line,
      // a section header or a comment, which all end the assignment.
      if (key === undefined) fail(lineNo, 'continuation line (it starts with white space) with no key before it');
      value.push(line.replace(PY_LSTRIP, ''));
      continue;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) fail(lineNo, "section header does not end with ']' (nothing may follow it, not even a comment)");
      if (line.length <= 2) fail(lineNo, 'empty section name');
      // The name is taken as written between the brackets: '[ database ]' is the section ' database '.
      const name = normalizeSectionName(line.slice(1, -1));
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
    } else if (line.startsWith('#') || line.startsWith(';')) {
      // A comment only where a line starts with '#' or ';': inside a value both are part of it.
    } else {
      // _split_key_value: the first ':' or '=' separates, whichever comes first.
      const colon = line.indexOf(':');
      const equal = line.indexOf('=');
      if (colon < 0 && equal < 0) fail(lineNo, "no ':' or '=' in this line (expected key = value)");
      const at = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
      const k = pyStrip(line.slice(0, at));
      let v = pyStrip(line.slice(at + 1));
      // Matching surrounding quotes are removed ('"x"' → x); a lone quote is left alone.
      if (v && v[0] === v[v.length - 1] && (v.startsWith('"') || v.startsWith("'"))) v = v.slice(1, -1);
      if (!k) fail(lineNo, 'empty key before the separator');
      key = k;
      keyLine = lineNo;
      value = [v];
    }
  }
  flush();
  return sections;
}

function expandUser(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

// Python compares str by code point; JavaScript's default sort compares UTF-16 code units.
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

/**
 * The files of a `--config-dir` as oslo reads them (`ConfigDirAction`: `sorted(glob(dir/*.conf))`):
 * names ending in `.conf` (case-sensitive), hidden names excluded as glob excludes them, sorted by
 * code point.
 */
export function configDirFiles(dir: string): string[] {
  const path = expandUser(dir);
  let names: string[];
  try {
    if (!statSync(path).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    names = readdirSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigFileError(path, undefined, 'config directory not found (ENOENT)', { cause });
    throw readError(path, cause, 'config directory');
  }
  return names
    .filter((name) => name.endsWith('.conf') && !name.startsWith('.'))
    .sort(byCodePoint)
    .map((name) => join(path, name));
}

interface StoredFile {
  readonly file: string;
  readonly sections: OsloIniSections;
}

// string.Template as oslo configures it (cfg.py `class Template`: idpattern `[_a-z][\._a-z0-9]*`,
// Template's default re.IGNORECASE): '$$', '$name', '${name}', or a lone '$' left as it is.
const TEMPLATE = /\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\}|)/gi;

class OsloConfigFilesImpl implements OsloConfigFiles {
  readonly files: readonly string[];
  // Newest file first, as `_Namespace._parsed` (insert(0, …)).
  readonly #parsed: readonly StoredFile[];
  readonly #defaults: Readonly<Record<string, string>>;

  constructor(parsed: StoredFile[], defaults: Readonly<Record<string, string>>) {
    this.files = Object.freeze(parsed.map((p) => p.file));
    this.#parsed = Object.freeze([...parsed].reverse());
    this.#defaults = defaults;
  }

  get(section: string, key: string): string | undefined {
    return this.lookup(section, key)?.value;
  }

  lookup(section: string, key: string): ConfigFileValue | undefined {
    return this.lookupFirst([{ section, key }]);
  }

  lookupFirst(names: readonly ConfigName[]): ConfigFileValue | undefined {
    const found = this.#find(names);
    if (!found) return undefined;
    return Object.freeze({ ...found, value: this.#substitute(found, [`${found.section}.${found.key}`]) });
  }

  sections(): string[] {
    const all = new Set<string>();
    for (const p of this.#parsed) for (const s of p.sections.keys()) all.add(s);
    return [...all].sort(byCodePoint);
  }

  /** `_get_file_value`: newest file first; in it, the names in order; the last assignment. */
  #find(names: readonly ConfigName[]): Omit<ConfigFileValue, 'value'> | undefined {
    const wanted = names.map((n) => ({ section: normalizeSectionName(n.section), key: n.key }));
    for (const { file, sections } of this.#parsed) {
      for (const { section, key } of wanted) {
        const list = sections.get(section)?.get(key);
        const last = list?.[list.length - 1];
        if (last) return { rawValue: last.value, file, line: last.line, section, key };
      }
    }
    return undefined;
  }

  #hasSection(section: string): boolean {
    return this.#parsed.some((p) => p.sections.has(normalizeSectionName(section)));
  }

  /**
   * `ConfigOpts._substitute`: '\$' is '$$'; then safe_substitute with `StrSubWrapper`, which reads
   * `$name` from the value's own section, else `[DEFAULT]`, and `${section.name}` from that
   * section, substituting the value found in turn. A name nothing sets is an error there
   * (NoSuchOptError), and so is a section name (TemplateSubstitutionError); malformed `$` syntax is
   * left as written, as safe_substitute leaves it.
   */
  #substitute(at: Omit<ConfigFileValue, 'value'>, stack: readonly string[]): string {
    const template = at.rawValue.replaceAll('\\$', '$$$$');
    return template.replace(TEMPLATE, (match, escaped?: string, named?: string, braced?: string) => {
      if (escaped) return '$';
      const name = named ?? braced;
      if (name === undefined) return match;
      const fail = (problem: string): never => {
        throw new ConfigFileError(at.file, at.line, `[${at.section}] ${at.key}: ${problem}`);
      };
      const dot = name.indexOf('.');
      const group = name.slice(0, dot);
      // StrSubWrapper looks the section up among registered option groups, by the exact name:
      // they are lower case, and DEFAULT is not one of them.
      if (dot >= 0 && (group === 'DEFAULT' || group !== group.toLowerCase())) {
        fail(`a \${section.name} substitution in the value names ${group === 'DEFAULT' ? 'DEFAULT, which oslo.config does not take there (write $name)' : 'a section in capitals, which oslo.config does not find (section names are lower case there)'}`);
      }
      const candidates: ConfigName[] =
        dot >= 0 ? [{ section: name.slice(0, dot), key: name.slice(dot + 1) }] : [{ section: at.section, key: name }, { section: 'DEFAULT', key: name }];
      const found = candidates.map((c) => this.#find([c])).find((f) => f !== undefined);
      if (!found) {
        if (dot < 0 && Object.hasOwn(this.#defaults, name)) return this.#defaults[name] as string;
        if (dot < 0 && this.#hasSection(name)) fail('a $name substitution in the value names a section, which oslo.config cannot substitute (write $$ for a literal $)');
        // Never the name itself: it is part of the value, and '$' is common in passwords.
        const where = dot >= 0 ? 'the section it names' : at.section === 'DEFAULT' ? '[DEFAULT]' : `[${at.section}] or [DEFAULT]`;
        fail(`a $name substitution in the value names nothing set in ${where} (oslo.config refuses it; write $$ for a literal $)`);
      }
      const id = `${found?.section}.${found?.key}`;
      if (stack.includes(id)) fail(`substitutions refer back to the value itself (${[...stack, id].join(' → ')})`);
      return this.#substitute(found as Omit<ConfigFileValue, 'value'>, [...stack, id]);
    });
  }
}

/**
 * Reads config files and directories in the order given, as oslo.config reads `--config-file` and
 * `--config-dir` options in command-line order: a later file overrides an earlier one.
 *
 * @throws {ConfigFileError} (exit 127) for a file that is missing, unreadable, a directory, not
 *   UTF-8 or malformed, and for a config directory that does not exist or is not a directory.
 */
export function readConfigSources(sources: readonly ConfigSource[], options: ReadConfigOptions = {}): OsloConfigFiles {
  const parsed: StoredFile[] = [];
  for (const source of sources) {
    const files = 'dir' in source ? configDirFiles(source.dir) : [expandUser(source.file)];
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (cause) {
        throw readError(file, cause);
      }
      parsed.push({ file, sections: parseOsloIni(file, decodeUtf8(file, bytes)) });
    }
  }
  return new OsloConfigFilesImpl(parsed, Object.freeze({ ...(options.substitutionDefaults ?? {}) }));
}

/**
 * Reads `--config-file` paths in order, then the `*.conf` files of each `--config-dir` in sorted
 * order (oslo's order when the files come first on the command line, and its order for the
 * default files and directories). Use {@link readConfigSources} for any other command-line order.
 *
 * @param paths `--config-file` values, in order.
 * @param dirs `--config-dir` values, in order. @default []
 *
 * @throws {ConfigFileError} as {@link readConfigSources}.
 */
export function readConfigFiles(paths: readonly string[], dirs: readonly string[] = [], options: ReadConfigOptions = {}): OsloConfigFiles {
  return readConfigSources([...paths.map((file) => ({ file })), ...dirs.map((dir) => ({ dir }))], options);
}
