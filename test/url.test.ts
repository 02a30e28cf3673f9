// URLs as SQLAlchemy's make_url and oslo.messaging's TransportURL read them, and the one masking
// path (issues 14 and 16): pure unit tests, no database.
import test from 'ava';
import { ExitCode, InvalidInputError } from '../src/errors.js';
import { displayUrl, maskUrl, parseDatabaseUrl, parseTransportUrl, pyUnquote, redactSecrets, urlSecrets, withDatabase } from '../src/url/index.js';

// ---------------------------------------------------------------------------------------------
// nova/tests/unit/cmd/test_manage.py, test_map_cell0_default_database_special_characters: the
// database URL of cell0 is [database]/connection with '_cell0' appended, in the spelling given.

const NOVA_SPECIAL: ReadonlyArray<[string, string, string]> = [
  ['mysql+pymysql://nova:abcd0123:AB@controller/%s', 'nova', 'abcd0123:AB'],
  ['mysql+pymysql://nova:abcd0123?AB@controller/%s', 'nova', 'abcd0123?AB'],
  // SQLAlchemy reads password 'abcd0123' and host 'AB@controller' here (no server answers to that
  // host); the '@' is read as part of the password instead.
  ['mysql+pymysql://nova:abcd0123@AB@controller/%s', 'nova', 'abcd0123@AB'],
  ['mysql+pymysql://nova:abcd0123/AB@controller/%s', 'nova', 'abcd0123/AB'],
  ['mysql+pymysql://test:abcd0123/AB@controller/%s?charset=utf8', 'test', 'abcd0123/AB'],
];

for (const [template, user, password] of NOVA_SPECIAL) {
  test(`nova test_map_cell0_default_database_special_characters: ${template}`, (t) => {
    const connection = template.replace('%s', 'nova');
    const url = parseDatabaseUrl(connection);
    t.like(url, { username: user, password, host: 'controller', port: 3306, database: 'nova', raw: connection });
    t.is(url.masked, template.replace('%s', 'nova').replace(`:${password}@`, ':****@'));
    t.false(url.masked.includes('abcd0123'));
    const cell0 = withDatabase(url, 'nova_cell0');
    t.is(cell0.raw, template.replace('%s', 'nova_cell0'), 'stored as given, only the database name changed');
    t.is(cell0.password, password);
  });
}

test('percent-encoded passwords decode as urllib.parse.unquote decodes them; the spelling is kept', (t) => {
  const url = parseDatabaseUrl('postgresql+psycopg2://nova:a%3Ab%40c%2Fd%3Fe%23f%25g%C3%A9@db:6432/nova');
  t.is(url.password, 'a:b@c/d?e#f%gé');
  t.is(url.raw, 'postgresql+psycopg2://nova:a%3Ab%40c%2Fd%3Fe%23f%25g%C3%A9@db:6432/nova');
  t.is(withDatabase(url, 'nova_cell0').raw, 'postgresql+psycopg2://nova:a%3Ab%40c%2Fd%3Fe%23f%25g%C3%A9@db:6432/nova_cell0');
});

test('unencoded ?, /, :, #, %, spaces, quotes and commas in a password', (t) => {
  for (const password of ['p?w', 'p/w', 'p:w', 'p#w', 'p%w', '100%', 'p w', `p'"w`, 'Zq9,SecretPw77', 'a=b&c', '[x]', 'é€']) {
    const url = parseDatabaseUrl(`mysql+pymysql://nova:${password}@db:3307/nova?charset=utf8`);
    t.like(url, { password, host: 'db', port: 3307, database: 'nova' }, password);
    t.is(url.masked, 'mysql+pymysql://nova:****@db:3307/nova?charset=utf8', password);
  }
});

test('SQLAlchemy details: a user name with @, an empty password, IPv6, a socket, the query', (t) => {
  t.like(parseDatabaseUrl('mysql://a@b:pw@db/nova'), { username: 'a@b', password: 'pw', host: 'db' });
  t.like(parseDatabaseUrl('mysql://nova:@db/nova'), { username: 'nova', password: undefined, host: 'db' });
  t.like(parseDatabaseUrl('mysql://nova@[fe80::1%25eth0]:3307/nova'), { host: 'fe80::1%25eth0', port: 3307 });
  t.like(parseDatabaseUrl('mysql+pymysql://nova:p?w@/nova?unix_socket=/run/my%2Fsql.sock'), { host: '/run/my/sql.sock', socketPath: '/run/my/sql.sock', password: 'p?w' });
  t.like(parseDatabaseUrl('postgresql://nova:pw@db/nova?host=/run/postgresql&host=/other'), { socketPath: '/run/postgresql' });
});

test('refused URLs never echo the password, nor a port or database name that may hold a piece of it', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['mysql://nova:Secret', /invalid port|port that is not a number/],
    ['mysql://nova:Secret@db:12x/nova', /port that is not a number/],
    ['mysql://nova/Secret@db/nova', /malformed database URL 'mysql:\/\/\*\*\*\*': it has an '@' after the host/],
    ['mysql://nova:Se@cret?x@db/nova', /database URL mysql:\/\/\*\*\*\* names no database/],
    ['mysql://nova:Secret@db#frag/nova', /malformed database URL/],
    ['mysql+pymysql//nova:Secret@db/nova', /malformed database URL/],
    ['Secret', /malformed database URL/],
  ];
  for (const [raw, message] of cases) {
    const error = t.throws(() => parseDatabaseUrl(raw), { instanceOf: InvalidInputError, message }, raw);
    t.is(error?.exitCode, ExitCode.invalidInput);
    t.false(error?.message.includes('Secret') || error?.message.includes('cret'), `${raw}: ${error?.message}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Masking (issue 14 and issue 16)

const MASKED: ReadonlyArray<[string, string, string]> = [
  ['a comma in a database password', 'postgresql://nova:Zq9,SecretPw77@127.0.0.1:1/nova', 'postgresql://nova:****@127.0.0.1:1/nova'],
  ['a comma and a quote in a transport password', 'rabbit://nova:Sec,ret"Pw@mq7:5672/', 'rabbit://nova:****@mq7:5672/'],
  ['a space in a password', 'postgresql://postgres:Zq9 SecretPw77@127.0.0.1:5432/x', 'postgresql://postgres:****@127.0.0.1:5432/x'],
  ['an @ in the query: the host is the first one', 'http://user:pass@domain.com:1234/something?email=me@somewhere.com', 'http://user:****@domain.com:1234/something?email=me@somewhere.com'],
  ['an @ in a password, and one in the query', 'mysql://nova:p@ss@db/nova?x=a@b', 'mysql://nova:****@db/nova?x=a@b'],
  ['multi-host with commas and @ in passwords', 'rabbit://u:a,b@c@h1:5672,v:d@e@h2:5672/vh', 'rabbit://u:****@h1:5672,v:****@h2:5672/vh'],
  // Ambiguous, and oslo.messaging reads host 'e' and a third host 'f@h2': so does the masker.
  ['an @ then a comma in a transport password', 'rabbit://v:d@e,f@h2:5672/vh', 'rabbit://v:****@e,f@h2:5672/vh'],
  ['an @ in the path (conservative)', 'mysql://nova/Secret@db/nova', 'mysql://****@db/nova'],
  ['a templated transport URL keeps its placeholders', '{scheme}://{username}:{password}@{hostname}:{port}/{path}?{query}', '{scheme}://{username}:{password}@{hostname}:{port}/{path}?{query}'],
  ['a templated URL with a real password', 'rabbit://{username}:s3cret@{hostname}:{port}/', 'rabbit://{username}:****@{hostname}:{port}/'],
  ['cell0', 'none:///', 'none:///'],
  ['no scheme (conservative)', 'mysql+pymysql//nova:Secret@db/nova', 'mysql+pymysql//nova:****@db/nova'],
  ['no host after the password (conservative)', 'mysql://nova:Secret', 'mysql://nova:****'],
  ['a bad host (conservative: to the last @)', 'mysql://nova:Se@cr@et@db#x/nova', 'mysql://nova:****@db#x/nova'],
  ['not a URL at all', 'Secret', '****'],
  ['an unbalanced IPv6 bracket (conservative)', 'rabbit://u:Secret@[::1:5672/', 'rabbit://u:****@[::1:5672/'],
];

for (const [title, raw, masked] of MASKED) {
  test(`maskUrl: ${title}`, (t) => {
    t.is(maskUrl(raw), masked);
    t.is(maskUrl(masked), masked, 'idempotent');
  });
}

test('urlSecrets and redactSecrets: the same passwords removed by value from driver messages, in every spelling', (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['postgresql://postgres:Zq9 SecretPw77@127.0.0.1:5432/x', 'password "Zq9 SecretPw77" refused', ['Zq9 SecretPw77', 'SecretPw77']],
    ['postgresql://nova:Zq9,SecretPw77@127.0.0.1:1/nova', 'connect to nova:Zq9,SecretPw77 failed', ['Zq9,SecretPw77', 'SecretPw77']],
    ['rabbit://nova:Sec,ret"Pw@mq7:5672/', 'bad password Sec,ret"Pw (Sec%2Cret%22Pw)', ['Sec,ret"Pw', 'ret"Pw', 'Sec%2Cret%22Pw']],
    ['mysql://nova:p%40ss%2Fw0rd@db/nova', 'the password p@ss/w0rd, or p%40ss%2Fw0rd, or p%40ss%2fw0rd', ['p@ss/w0rd', 'p%40ss%2Fw0rd', 'p%40ss%2fw0rd']],
    ['mysql://nova:Secret', 'unparsable: nova:Secret', ['Secret']],
  ];
  for (const [url, message, leaks] of cases) {
    const redacted = redactSecrets(message, urlSecrets(url));
    for (const leak of leaks) t.false(redacted.includes(leak), `${url}: ${redacted}`);
    t.true(redacted.includes('****'), redacted);
  }
  t.deepEqual(urlSecrets('{scheme}://{username}:{password}@{hostname}:{port}/'), [], 'a placeholder is no secret');
  t.deepEqual(urlSecrets('postgresql://postgres@127.0.0.1:5432/x'), []);
  t.is(redactSecrets('no secret here', urlSecrets('mysql://a@h/d')), 'no secret here');
});

test('displayUrl: a value that cannot be parsed is masked conservatively, never printed as is', (t) => {
  for (const raw of ['mysql://nova/Secret@db/nova', 'nova:Secret@db/nova', 'Secret', 'rabbit://nova:Sec/ret@mq:x/']) {
    const shown = displayUrl(raw);
    t.false(/Sec|cret/.test(shown), `${raw} → ${shown}`);
  }
  t.is(displayUrl('{scheme}://{username}:{password}@{hostname}:{port}/'), '{scheme}://{username}:{password}@{hostname}:{port}/', 'a template is shown as is');
});

// ---------------------------------------------------------------------------------------------
// Transport URLs (oslo.messaging TransportURL.parse)

test('parseTransportUrl: multi-host rabbit, per-host credentials, virtual host and query', (t) => {
  const url = parseTransportUrl('rabbit://u:p%2C1@h1:5672,u2:p@2@h2:5673/vh%2Fost?ssl=1&x=a&x=b');
  t.is(url.scheme, 'rabbit');
  t.deepEqual(url.hosts, [
    { hostname: 'h1', port: 5672, username: 'u', password: 'p,1' },
    { hostname: 'h2', port: 5673, username: 'u2', password: 'p@2' },
  ]);
  t.is(url.virtualHost, 'vh/ost');
  t.deepEqual(url.query, { ssl: '1', x: 'a,b' });
  t.false(url.templated);
  t.is(url.masked, 'rabbit://u:****@h1:5672,u2:****@h2:5673/vh%2Fost?ssl=1&x=a&x=b');
});

test('parseTransportUrl: none:///, hosts without credentials, IPv6, an unencoded : in a password', (t) => {
  t.like(parseTransportUrl('none:///'), { scheme: 'none', hosts: [], virtualHost: '' });
  t.deepEqual(parseTransportUrl('rabbit://h1,h2:5672/').hosts, [
    { hostname: 'h1', port: undefined, username: undefined, password: undefined },
    { hostname: 'h2', port: 5672, username: undefined, password: undefined },
  ]);
  t.like(parseTransportUrl('rabbit://u:p@[::1]:5672/').hosts[0], { hostname: '::1', port: 5672 });
  t.like(parseTransportUrl('rabbit://u:a:b@h/').hosts[0], { username: 'u', password: 'a:b' });
  t.like(parseTransportUrl('RABBIT://u:p@h/'), { scheme: 'rabbit' });
});

test('parseTransportUrl: templated URLs are accepted with their placeholders', (t) => {
  const url = parseTransportUrl('{scheme}://{username}:{password}@{hostname}:{port}/{path}?{query}');
  t.true(url.templated);
  t.is(url.scheme, '{scheme}');
  t.deepEqual(url.hosts, [{ hostname: '{hostname}', port: '{port}', username: '{username}', password: '{password}' }]);
  t.is(url.masked, url.raw);
  const indexed = parseTransportUrl('rabbit://{username1}:{password1}@{hostname1}:{port1},{username2}:{password2}@{hostname2}:{port2}/');
  t.is(indexed.hosts.length, 2);
});

test('parseTransportUrl refuses what oslo.messaging refuses, with the URL masked', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['rabbit://nova:Sec,ret"Pw@mq7:5672/', /host 1 has a port that is not a number.*%2C/],
    ['rabbit://nova:Sec/retPw@mq7:5672/', /port that is not a number/],
    ['rabbit://nova:Secret@mq7:56x2/', /port that is not a number/],
    ['rabbit//nova:Secret@mq/', /no scheme/],
    ['nova:Secret@mq/', /no scheme/],
    ['rabbit://nova:Secret@[mq7:5672/', /unbalanced/],
    ['rabbit://nova:Secret@[mq7]:5672/', /not an IPv6 address/],
  ];
  for (const [raw, message] of cases) {
    const error = t.throws(() => parseTransportUrl(raw), { instanceOf: InvalidInputError, message }, raw);
    t.is(error?.exitCode, ExitCode.invalidInput);
    t.false(/Sec|cret|ret"Pw/.test(error?.message ?? ''), `${raw}: ${error?.message}`);
  }
});

test('pyUnquote is urllib.parse.unquote', (t) => {
  t.is(pyUnquote('a%zzb'), 'a%zzb');
  t.is(pyUnquote('%41%4a%4A'), 'AJJ');
  t.is(pyUnquote('%C3%A9'), 'é');
  t.is(pyUnquote('%C3'), '\uFFFD');
  t.is(pyUnquote('é%41'), 'éA');
  t.is(pyUnquote('100%'), '100%');
  t.is(pyUnquote('a+b'), 'a+b');
});
