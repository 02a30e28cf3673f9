// The nova.conf reader against oslo.config's rules (oslo_config/iniparser.py and cfg.py): pure unit
// tests, no database. Every expectation here was checked against oslo.config itself.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { ConfigFileError, configDirFiles, parseOsloIni, readConfigFiles, readConfigSources } from '../src/config/oslo-ini.js';
import { ExitCode, InvalidInputError } from '../src/errors.js';
import { parseDatabaseUrl } from '../src/url/index.js';

interface Ctx {
  dir: string;
}

const test = anyTest as TestFn<Ctx>;

test.beforeEach((t) => {
  t.context.dir = mkdtempSync(join(tmpdir(), 'cellsdb-oslo-ini-'));
});

test.afterEach.always((t) => {
  rmSync(t.context.dir, { recursive: true, force: true });
});

function write(t: ExecutionContext<Ctx>, name: string, text: string | Buffer): string {
  const path = join(t.context.dir, name);
  writeFileSync(path, text);
  return path;
}

/** Reads `text` as the one config file. */
function read(t: ExecutionContext<Ctx>, text: string | Buffer) {
  return readConfigFiles([write(t, 'nova.conf', text)]);
}

// ---------------------------------------------------------------------------------------------
// Syntax

test('= and : both separate, the first of them wins; keys and values are stripped', (t) => {
  const conf = read(t, '[DEFAULT]\na = 1\nb: 2\nc = x:y\nd: x=y\n  \ne   =   spaced out   \nf=\ng :v\n');
  t.is(conf.get('DEFAULT', 'a'), '1');
  t.is(conf.get('DEFAULT', 'b'), '2');
  t.is(conf.get('DEFAULT', 'c'), 'x:y');
  t.is(conf.get('DEFAULT', 'd'), 'x=y');
  t.is(conf.get('DEFAULT', 'e'), 'spaced out');
  t.is(conf.get('DEFAULT', 'f'), '');
  t.is(conf.get('DEFAULT', 'g'), 'v');
  t.is(conf.get('DEFAULT', 'missing'), undefined);
});

test("'connection: url' (a colon separator) is read, with the URL's own colons kept", (t) => {
  const conf = read(t, '[database]\nconnection: mysql+pymysql://nova:pw@db:3306/nova\n');
  t.is(conf.get('database', 'connection'), 'mysql+pymysql://nova:pw@db:3306/nova');
});

test('comments only where a line starts with # or ;: inside a value both are part of it', (t) => {
  const conf = read(t, '# a comment\n; another\n[DEFAULT]\n# key = not a value\npw = a#b;c # not a comment ; nor this\n');
  t.is(conf.get('DEFAULT', 'pw'), 'a#b;c # not a comment ; nor this');
  t.is(conf.get('DEFAULT', 'key'), undefined);
});

test('continuation lines (leading space or tab) are joined with a newline; a blank line ends the value', (t) => {
  const conf = read(t, '[DEFAULT]\na = first\n  second\n\tthird\n    # not a comment here\n\nb = 2\n');
  t.is(conf.get('DEFAULT', 'a'), 'first\nsecond\nthird\n# not a comment here');
  t.is(conf.get('DEFAULT', 'b'), '2');
});

test('matching surrounding quotes are removed once; a lone or unmatched quote stays', (t) => {
  const conf = read(t, `[DEFAULT]\na = "x y"\nb = 'z'\nc = "\nd = "x'\ne = ""quoted""\n`);
  t.is(conf.get('DEFAULT', 'a'), 'x y');
  t.is(conf.get('DEFAULT', 'b'), 'z');
  t.is(conf.get('DEFAULT', 'c'), '');
  t.is(conf.get('DEFAULT', 'd'), `"x'`);
  t.is(conf.get('DEFAULT', 'e'), '"quoted"');
});

test('CRLF and a lone CR end lines (Python universal newlines); trailing Unicode white space is stripped as Python strips it', (t) => {
  const conf = read(t, '[DEFAULT]\r\na = 1\r\nb = 2\rc = 3\u00a0\nd = 4\u0085\n');
  t.deepEqual(['a', 'b', 'c', 'd'].map((k) => conf.get('DEFAULT', k)), ['1', '2', '3', '4']);
});

test('an empty file and a file of blank lines and comments set nothing', (t) => {
  t.deepEqual(read(t, '').sections(), []);
  t.deepEqual(read(t, '\n\n# only a comment\n').sections(), []);
});

// ---------------------------------------------------------------------------------------------
// Sections

test('sections match case-insensitively, except DEFAULT, which is matched exactly', (t) => {
  const conf = read(t, '[DEFAULT]\nx = default\n[Database]\nconnection = db-url\n[default]\nx = lower-case default\n[API_DATABASE]\nconnection = api-url\n');
  t.is(conf.get('database', 'connection'), 'db-url');
  t.is(conf.get('DATABASE', 'connection'), 'db-url', 'a lookup is normalized the same way');
  t.is(conf.get('api_database', 'connection'), 'api-url');
  t.is(conf.get('DEFAULT', 'x'), 'default', '[default] is another section, not [DEFAULT]');
  t.is(conf.get('default', 'x'), 'lower-case default');
  t.deepEqual(conf.sections(), ['DEFAULT', 'api_database', 'database', 'default']);
});

test('keys are case-sensitive; a section name is taken as written between the brackets', (t) => {
  const conf = read(t, '[database]\nConnection = a\n[ database ]\nconnection = b\n');
  t.is(conf.get('database', 'connection'), undefined);
  t.is(conf.get('database', 'Connection'), 'a');
  t.is(conf.get(' database ', 'connection'), 'b');
});

test('a section may appear twice in a file: both parts count', (t) => {
  const conf = read(t, '[database]\na = 1\n[DEFAULT]\nx = 1\n[database]\nb = 2\n');
  t.is(conf.get('database', 'a'), '1');
  t.is(conf.get('database', 'b'), '2');
});

// ---------------------------------------------------------------------------------------------
// Several values, several files, config directories

test('a key set twice: a string option takes the last value, in file order', (t) => {
  const conf = read(t, '[database]\nconnection = first\n[DEFAULT]\nx = 1\n[database]\nconnection = second\n');
  t.is(conf.get('database', 'connection'), 'second');
  t.is(conf.lookup('database', 'connection')?.line, 6);
});

test('repeated --config-file: a later file overrides an earlier one, key by key, and says where a value came from', (t) => {
  const a = write(t, 'a.conf', '[DEFAULT]\nx = a\ny = a\n[database]\nconnection = from-a\n');
  const b = write(t, 'b.conf', '[DEFAULT]\ny = b\n[database]\n\nconnection = from-b\n');
  const conf = readConfigFiles([a, b]);
  t.deepEqual(conf.files, [a, b]);
  t.is(conf.get('DEFAULT', 'x'), 'a');
  t.is(conf.get('DEFAULT', 'y'), 'b');
  t.like(conf.lookup('database', 'connection'), { value: 'from-b', file: b, line: 5, section: 'database', key: 'connection' });
  t.is(readConfigFiles([b, a]).get('database', 'connection'), 'from-a');
});

test("--config-dir: its *.conf files in sorted order, after the --config-file files; other names and hidden files ignored", (t) => {
  const main = write(t, 'nova.conf', '[DEFAULT]\nx = main\ny = main\nz = main\n');
  const dir = join(t.context.dir, 'nova.conf.d');
  mkdirSync(dir);
  writeFileSync(join(dir, '20-b.conf'), '[DEFAULT]\ny = 20\nz = 20\n');
  writeFileSync(join(dir, '10-a.conf'), '[DEFAULT]\nx = 10\ny = 10\nz = 10\n');
  writeFileSync(join(dir, '30-c.conf.disabled'), '[DEFAULT]\nz = disabled\n');
  writeFileSync(join(dir, '40-d.CONF'), '[DEFAULT]\nz = upper-case\n');
  writeFileSync(join(dir, '.hidden.conf'), '[DEFAULT]\nz = hidden\n');
  t.deepEqual(configDirFiles(dir), [join(dir, '10-a.conf'), join(dir, '20-b.conf')]);
  const conf = readConfigFiles([main], [dir]);
  t.deepEqual(conf.files, [main, join(dir, '10-a.conf'), join(dir, '20-b.conf')]);
  t.is(conf.get('DEFAULT', 'x'), '10');
  t.is(conf.get('DEFAULT', 'y'), '20');
  t.is(conf.get('DEFAULT', 'z'), '20');
});

test('readConfigSources keeps command-line order: a file after a directory overrides it', (t) => {
  const dir = join(t.context.dir, 'd');
  mkdirSync(dir);
  writeFileSync(join(dir, 'x.conf'), '[DEFAULT]\nx = dir\n');
  const file = write(t, 'f.conf', '[DEFAULT]\nx = file\n');
  t.is(readConfigSources([{ dir }, { file }]).get('DEFAULT', 'x'), 'file');
  t.is(readConfigSources([{ file }, { dir }]).get('DEFAULT', 'x'), 'dir');
});

test('an empty config directory adds nothing', (t) => {
  const dir = join(t.context.dir, 'empty');
  mkdirSync(dir);
  t.deepEqual(readConfigFiles([], [dir]).files, []);
});

test('lookupFirst: the last file setting any of the names wins; in it, the first name (deprecated names)', (t) => {
  const a = write(t, 'a.conf', '[database]\nconnection = new-a\n');
  const b = write(t, 'b.conf', '[DEFAULT]\nsql_connection = old-b\n');
  const names = [
    { section: 'database', key: 'connection' },
    { section: 'DEFAULT', key: 'sql_connection' },
  ];
  t.is(readConfigFiles([a, b]).lookupFirst(names)?.value, 'old-b');
  t.is(readConfigFiles([b, a]).lookupFirst(names)?.value, 'new-a');
  const both = write(t, 'c.conf', '[DEFAULT]\nsql_connection = old\n[database]\nconnection = new\n');
  t.is(readConfigFiles([both]).lookupFirst(names)?.value, 'new');
});

// ---------------------------------------------------------------------------------------------
// Substitution

test('$$ and \\$ are a literal $; $name and ${name} read [DEFAULT]; a lone $ stays', (t) => {
  const conf = read(t, '[DEFAULT]\nmy_ip = 10.0.0.7\npw = pa$$ss\nesc = pa\\$ss\na = $my_ip:5672\nb = ${my_ip}x\nc = $1 and $ and ${unclosed and x$\n');
  t.is(conf.get('DEFAULT', 'pw'), 'pa$ss');
  t.is(conf.get('DEFAULT', 'esc'), 'pa$ss');
  t.is(conf.get('DEFAULT', 'a'), '10.0.0.7:5672');
  t.is(conf.get('DEFAULT', 'b'), '10.0.0.7x');
  t.is(conf.get('DEFAULT', 'c'), '$1 and $ and ${unclosed and x$');
  t.is(conf.lookup('DEFAULT', 'pw')?.rawValue, 'pa$$ss');
});

test('$name in a section reads that section first, then [DEFAULT]; ${section.name} and $section.name read the section named', (t) => {
  const conf = read(
    t,
    '[DEFAULT]\nmy_ip = 10.0.0.7\nhost = default-host\nfrom_db = ${database.user}@$database.host\n[database]\nuser = nova\nhost = db-host\nconnection = mysql+pymysql://$user:pw@$host/nova?bind=$my_ip\n',
  );
  t.is(conf.get('database', 'connection'), 'mysql+pymysql://nova:pw@db-host/nova?bind=10.0.0.7');
  t.is(conf.get('DEFAULT', 'from_db'), 'nova@db-host');
});

test('substitution reads the value the whole configuration gives, substituted in turn, across files', (t) => {
  const a = write(t, 'a.conf', '[DEFAULT]\nmy_ip = 10.0.0.1\nmq = $my_ip\n[database]\nconnection = mysql://u:p@$my_ip/nova\n');
  const b = write(t, 'b.conf', '[DEFAULT]\nmy_ip = 10.0.0.2\nrabbit = rabbit://u:p@$mq:5672/\n');
  const conf = readConfigFiles([a, b]);
  t.is(conf.get('database', 'connection'), 'mysql://u:p@10.0.0.2/nova');
  t.is(conf.get('DEFAULT', 'rabbit'), 'rabbit://u:p@10.0.0.2:5672/');
});

test('substitutionDefaults stand in for option defaults no file sets (e.g. Nova\'s state_path)', (t) => {
  const path = write(t, 'nova.conf', '[DEFAULT]\nlock_path = $state_path/lock\n');
  t.is(readConfigFiles([path], [], { substitutionDefaults: { state_path: '/var/lib/nova' } }).get('DEFAULT', 'lock_path'), '/var/lib/nova/lock');
  t.throws(() => readConfigFiles([path]).get('DEFAULT', 'lock_path'), { instanceOf: ConfigFileError });
});

test('substitution is lazy, as oslo\'s: a bad $ in a value nobody reads does not stop the others', (t) => {
  const conf = read(t, '[DEFAULT]\nunused = $nothing_sets_this\n[database]\nconnection = mysql://nova:pw@db/nova\n');
  t.is(conf.get('database', 'connection'), 'mysql://nova:pw@db/nova');
});

// ---------------------------------------------------------------------------------------------
// devstack: nova-manage --config-file nova.conf --config-file nova_cell1.conf

const DEVSTACK_NOVA_CONF = `[DEFAULT]
debug = True
my_ip = 10.0.0.15
transport_url = rabbit://stackrabbit:Rabbit$$Pw#1@10.0.0.15:5672/

[database]
connection = mysql+pymysql://root:Db;Pw#2@127.0.0.1/nova_cell0?charset=utf8

[api_database]
connection = mysql+pymysql://root:Db;Pw#2@127.0.0.1/nova_api?charset=utf8

[oslo_messaging_notifications]
transport_url = rabbit://stackrabbit:Rabbit$$Pw#1@10.0.0.15:5672/
`;

const DEVSTACK_CELL1_CONF = `[database]
connection = mysql+pymysql://root:Db;Pw#2@127.0.0.1/nova_cell1?charset=utf8

[conductor]
workers = 2

[DEFAULT]
debug = True
transport_url = rabbit://stackrabbit:Rabbit$$Pw#1@$my_ip:5672/nova_cell1
`;

test("devstack's two files: the cell's database and transport from nova_cell1.conf, the API database from nova.conf", (t) => {
  const nova = write(t, 'nova.conf', DEVSTACK_NOVA_CONF);
  const cell1 = write(t, 'nova_cell1.conf', DEVSTACK_CELL1_CONF);
  const conf = readConfigFiles([nova, cell1]);
  t.is(conf.get('database', 'connection'), 'mysql+pymysql://root:Db;Pw#2@127.0.0.1/nova_cell1?charset=utf8');
  t.is(conf.get('api_database', 'connection'), 'mysql+pymysql://root:Db;Pw#2@127.0.0.1/nova_api?charset=utf8');
  t.is(conf.get('DEFAULT', 'transport_url'), 'rabbit://stackrabbit:Rabbit$Pw#1@10.0.0.15:5672/nova_cell1');
  t.is(conf.lookup('DEFAULT', 'transport_url')?.file, cell1);
  t.is(conf.lookup('api_database', 'connection')?.file, nova);
  const cellDb = parseDatabaseUrl(conf.get('database', 'connection') as string);
  t.like(cellDb, { password: 'Db;Pw#2', host: '127.0.0.1', database: 'nova_cell1' });
  // nova.conf alone: the superconductor's view.
  t.is(readConfigFiles([nova]).get('database', 'connection'), 'mysql+pymysql://root:Db;Pw#2@127.0.0.1/nova_cell0?charset=utf8');
});

test('a password with #, ;, $$, =, : and spaces survives, and parses as SQLAlchemy reads it', (t) => {
  const conf = read(t, '[database]\nconnection = mysql+pymysql://nova:a#b;c$$d=e:f g@db/nova\n');
  const value = conf.get('database', 'connection') as string;
  t.is(value, 'mysql+pymysql://nova:a#b;c$d=e:f g@db/nova');
  t.is(parseDatabaseUrl(value).password, 'a#b;c$d=e:f g');
});

// ---------------------------------------------------------------------------------------------
// Malformed files: 127, FILE:LINE, and never a value

const SECRET = 'Sup3rS3cret';

const MALFORMED: ReadonlyArray<{ title: string; text: string | Buffer; line: number; message: RegExp; key?: [string, string] }> = [
  { title: 'unterminated section header', text: `[database\nconnection = mysql://nova:${SECRET}@db/nova\n`, line: 1, message: /does not end with '\]'/ },
  { title: 'a comment after a section header', text: `[database] # ${SECRET}\n`, line: 1, message: /does not end with '\]'/ },
  { title: 'empty section name', text: `[]\nconnection = ${SECRET}\n`, line: 1, message: /empty section name/ },
  { title: 'continuation line before any key', text: `  ${SECRET}\n[DEFAULT]\n`, line: 1, message: /continuation line/ },
  { title: 'continuation line after a blank line', text: `[DEFAULT]\na = 1\n\n  ${SECRET}\n`, line: 4, message: /continuation line/ },
  { title: 'continuation line after a comment', text: `[DEFAULT]\na = 1\n# c\n\t${SECRET}\n`, line: 4, message: /continuation line/ },
  { title: 'a line without = or :', text: `[database]\n${SECRET}\n`, line: 2, message: /no ':' or '='/ },
  { title: 'an empty key', text: `[DEFAULT]\n= ${SECRET}\n`, line: 2, message: /empty key/ },
  { title: 'a key outside any section (oslo refuses it)', text: `connection = mysql://nova:${SECRET}@db/nova\n[database]\n`, line: 1, message: /before any \[section\]/ },
  { title: 'a stray password line outside any section: its text is not named as a key', text: `${SECRET}#x=1\n`, line: 1, message: /a key is set before any/ },
  { title: 'a UTF-8 byte-order mark', text: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`[database]\nconnection = ${SECRET}\n`)]), line: 1, message: /byte-order mark/ },
  { title: 'invalid UTF-8', text: Buffer.concat([Buffer.from(`[database]\nconnection = ${SECRET}`), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]), line: 2, message: /not valid UTF-8/ },
  {
    title: 'an unknown substitution (a $ in a password)',
    text: `[database]\nconnection = mysql://nova:${SECRET}$word@db/nova\n`,
    line: 2,
    message: /\[database\] connection: a \$name substitution .* names nothing set in \[database\] or \[DEFAULT\]/,
    key: ['database', 'connection'],
  },
  {
    title: 'an unknown ${section.name} substitution',
    text: `[DEFAULT]\nx = 1\n[database]\nconnection = mysql://nova:${SECRET}\${nosuch.x}@db/nova\n`,
    line: 4,
    message: /a \$name substitution .* names nothing set in the section it names/,
    key: ['database', 'connection'],
  },
  {
    title: 'a bad substitution ($name. with a trailing dot)',
    text: `[DEFAULT]\nmy_ip = 1\n[database]\nconnection = mysql://nova:${SECRET}@$my_ip./nova\n`,
    line: 4,
    message: /substitution/,
    key: ['database', 'connection'],
  },
  {
    title: 'a substitution of a section',
    text: `[DEFAULT]\nx = ${SECRET}$database\n[database]\nconnection = 1\n`,
    line: 2,
    message: /names a section/,
    key: ['DEFAULT', 'x'],
  },
  { title: '${DEFAULT.name} (oslo has no group DEFAULT there)', text: `[DEFAULT]\nmy_ip = 1\nx = ${SECRET}\${DEFAULT.my_ip}\n`, line: 3, message: /DEFAULT/, key: ['DEFAULT', 'x'] },
  { title: 'a substitution cycle (named where it closes)', text: `[DEFAULT]\na = ${SECRET}$b\nb = $a\n`, line: 3, message: /refer back/, key: ['DEFAULT', 'a'] },
];

function assertConfigError(t: ExecutionContext<Ctx>, fn: () => unknown, file: string, line: number | undefined, message: RegExp): void {
  const error = t.throws(fn, { instanceOf: ConfigFileError });
  t.true(error instanceof InvalidInputError);
  t.is(error?.exitCode, ExitCode.invalidInput);
  t.is(error?.file, file);
  t.is(error?.line, line);
  t.true(error?.message.startsWith(line === undefined ? `${file}: ` : `${file}:${line}: `), error?.message);
  t.regex(error?.message ?? '', message);
  t.false(error?.message.includes(SECRET), `the value leaked: ${error?.message}`);
  t.false(error?.message.includes('\n'), 'one line');
}

for (const c of MALFORMED) {
  test(`malformed: ${c.title} → 127, FILE:LINE, no value`, (t) => {
    const file = write(t, 'nova.conf', c.text);
    const key = c.key;
    if (key) {
      const conf = readConfigFiles([file]);
      assertConfigError(t, () => conf.get(key[0], key[1]), file, c.line, c.message);
    } else {
      assertConfigError(t, () => readConfigFiles([file]), file, c.line, c.message);
    }
  });
}

test('malformed: a missing file → 127, the file named, ENOENT', (t) => {
  const file = join(t.context.dir, 'missing.conf');
  assertConfigError(t, () => readConfigFiles([file]), file, undefined, /no such config file \(ENOENT\)/);
});

test('malformed: a directory given as a file → 127, EISDIR, and the way to give a directory', (t) => {
  assertConfigError(t, () => readConfigFiles([t.context.dir]), t.context.dir, undefined, /is a directory.*--config-dir/);
});

test('malformed: an unreadable file → 127, permission denied', (t) => {
  const file = write(t, 'secret.conf', `[database]\nconnection = ${SECRET}\n`);
  chmodSync(file, 0o000);
  // root reads any file: then there is nothing to refuse.
  if (process.getuid?.() === 0) {
    t.is(readConfigFiles([file]).get('database', 'connection'), SECRET);
    return;
  }
  assertConfigError(t, () => readConfigFiles([file]), file, undefined, /permission denied/);
});

test('malformed: a file that cannot be read (a dangling symlink in a config dir) → 127', (t) => {
  const dir = join(t.context.dir, 'd');
  mkdirSync(dir);
  symlinkSync(join(t.context.dir, 'nowhere'), join(dir, 'a.conf'));
  assertConfigError(t, () => readConfigFiles([], [dir]), join(dir, 'a.conf'), undefined, /ENOENT/);
});

test('malformed: a missing config directory, and a file given as one → 127', (t) => {
  const missing = join(t.context.dir, 'nope.d');
  assertConfigError(t, () => readConfigFiles([], [missing]), missing, undefined, /config directory not found/);
  const file = write(t, 'plain.conf', '[DEFAULT]\n');
  assertConfigError(t, () => readConfigFiles([], [file]), file, undefined, /not a directory/);
});

test('malformed: a directory named *.conf inside a config dir → 127, EISDIR', (t) => {
  const dir = join(t.context.dir, 'd');
  mkdirSync(join(dir, 'sub.conf'), { recursive: true });
  assertConfigError(t, () => readConfigFiles([], [dir]), join(dir, 'sub.conf'), undefined, /is a directory/);
});

test('malformed: the error names the later file when it is the later one that is broken', (t) => {
  const good = write(t, 'good.conf', '[DEFAULT]\nx = 1\n');
  const bad = write(t, 'bad.conf', '[DEFAULT]\nx = 2\n[oops\n');
  assertConfigError(t, () => readConfigFiles([good, bad]), bad, 3, /section header/);
});

test('parseOsloIni keeps every assignment of a key, with its line', (t) => {
  const parsed = parseOsloIni('x.conf', '[DEFAULT]\na = 1\na = 2\n  more\n');
  t.deepEqual(parsed.get('DEFAULT')?.get('a'), [
    { value: '1', line: 2 },
    { value: '2\nmore', line: 3 },
  ]);
});
