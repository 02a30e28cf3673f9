// Property-based tests of URL parsing and masking (issue 14): generated URLs of every supported
// scheme, passwords drawn from the whole printable range (ASCII and beyond) in every spelling, raw
// or percent-encoded. Pure unit tests, no database.
//
// The seed is fixed, so CI runs the same cases every time. To run more (or other) cases:
//   CELLSDB_PROPERTY_RUNS=20000 CELLSDB_PROPERTY_SEED=7 node test/run-tests.mjs dist/test/url-property.test.js
// A failure prints the seed and the shrunk counterexample.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { maskUrl, parseDatabaseUrl, parseTransportUrl, redactSecrets, urlSecrets } from '../src/url/index.js';

/** Cases per property. @default 1000 */
const RUNS = Number(process.env.CELLSDB_PROPERTY_RUNS ?? 1000);
/** @default 20240616 */
const SEED = Number(process.env.CELLSDB_PROPERTY_SEED ?? 20240616);

function check<T>(t: ExecutionContext, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  fc.assert(
    fc.property(arbitrary, (value) => {
      predicate(value);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  t.pass(`${RUNS} cases`);
}

// Every password starts with 'Q' and holds no other: nothing else in a generated URL holds a 'Q'
// (schemes, users, hosts, databases and queries are lower case). So the password can appear in an
// output only if the character right after ':' was left unmasked, and a short password cannot
// collide with another part of the URL.
const MARK = 'Q';
const PRINTABLE_ASCII = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const BEYOND_ASCII = fc.constantFrom('é', 'ß', '€', '日', '😀', '\u00a0', 'Ω', 'ñ');
const passwordChar = fc.oneof({ weight: 6, arbitrary: PRINTABLE_ASCII }, { weight: 1, arbitrary: BEYOND_ASCII }).filter((c) => c !== MARK);
const password = fc.array(passwordChar, { maxLength: 24 }).map((chars) => MARK + chars.join(''));

const hex = (b: number, lower: boolean): string => {
  const h = b.toString(16).padStart(2, '0');
  return `%${lower ? h : h.toUpperCase()}`;
};
const percentEncode = (c: string, lower: boolean): string =>
  Array.from(new TextEncoder().encode(c), (b) => hex(b, lower)).join('');

/**
 * A spelling of `password`: characters in `mustEncode` percent-encoded, others each either raw or
 * encoded (`choices`), the leading mark raw.
 */
function spell(pw: string, mustEncode: (c: string, spelled: readonly string[]) => boolean, choices: readonly boolean[]): string {
  const chars = Array.from(pw);
  const out: string[] = [];
  chars.forEach((c, i) => {
    const encode = i > 0 && (mustEncode(c, chars) || (choices[i % Math.max(1, choices.length)] ?? false));
    out.push(encode ? percentEncode(c, i % 3 === 0) : c);
  });
  return out.join('');
}

const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const hostname = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}$/).filter((h) => !h.endsWith('-')),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
);
const dbHost = fc.oneof({ weight: 4, arbitrary: hostname }, { weight: 1, arbitrary: fc.constantFrom('[::1]', '[fe80::1]', '[2001:db8::7]') });
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const database = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
const dbQuery = fc.constantFrom('', '?charset=utf8', '?charset=utf8&connect_timeout=5', '?client_encoding=utf8', '?sslmode=require');
const DB_SCHEMES = [
  'postgresql',
  'postgres',
  'postgresql+psycopg2',
  'postgresql+psycopg',
  'postgresql+pg8000',
  'mysql',
  'mysql+pymysql',
  'mysql+mysqldb',
  'mysql+mysqlconnector',
  'mariadb',
  'mariadb+pymysql',
  'mariadb+mysqldb',
];
const dbScheme = fc.constantFrom(...DB_SCHEMES);
const choices = fc.array(fc.boolean(), { minLength: 1, maxLength: 8 });

interface DbCase {
  readonly url: string;
  readonly expectedMasked: string;
  readonly password: string;
  readonly spelled: string;
  readonly user: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly database: string;
}

/**
 * Database URLs whose password SQLAlchemy reads back as generated: '%' and '@' encoded ('@' may stay
 * raw when no raw '?' is in the password: the parser then still reads it whole, where SQLAlchemy
 * would put part of it in the host).
 */
const dbCase = fc
  .record({ scheme: dbScheme, user, password, choices, rawAt: fc.boolean(), host: dbHost, port, database, query: dbQuery })
  .map((g): DbCase => {
    const spelled = spell(g.password, (c, all) => c === '%' || (c === '@' && !(g.rawAt && !all.includes('?'))) || (c === '?' && g.rawAt && all.includes('@')), g.choices);
    const hostPort = `${g.host}${g.port === undefined ? '' : `:${g.port}`}`;
    const rest = `@${hostPort}/${g.database}${g.query}`;
    return {
      url: `${g.scheme}://${g.user}:${spelled}${rest}`,
      expectedMasked: `${g.scheme}://${g.user}:****${rest}`,
      password: g.password,
      spelled,
      user: g.user,
      host: g.host.replace(/^\[|\]$/g, ''),
      port: g.port,
      database: g.database,
    };
  });

test('database URLs: the password parses back as generated, and the mask holds nothing of it', (t) => {
  check(t, dbCase, (c) => {
    const url = parseDatabaseUrl(c.url);
    if (url.password !== c.password) throw new Error(`password ${JSON.stringify(url.password)} ≠ ${JSON.stringify(c.password)} in ${c.url}`);
    if (url.username !== c.user || url.host !== c.host || url.database !== c.database) throw new Error(`parts of ${c.url}: ${JSON.stringify(url)}`);
    if (c.port !== undefined && url.port !== c.port) throw new Error(`port of ${c.url}`);
    if (url.raw !== c.url) throw new Error('raw is not the spelling given');
    if (url.masked !== c.expectedMasked) throw new Error(`masked ${url.masked} ≠ ${c.expectedMasked}`);
    if (maskUrl(c.url) !== c.expectedMasked) throw new Error(`maskUrl ${maskUrl(c.url)} ≠ ${c.expectedMasked}`);
  });
});

/** Any spelling at all, raw characters included: '@', '?', '/', '#', ',', spaces, quotes. */
const anyDbUrl = fc
  .record({ scheme: dbScheme, user, password, choices, host: dbHost, port, database, query: dbQuery })
  .map((g) => {
    const spelled = spell(g.password, () => false, g.choices);
    return { password: g.password, spelled, url: `${g.scheme}://${g.user}:${spelled}@${g.host}${g.port === undefined ? '' : `:${g.port}`}/${g.database}${g.query}` };
  });

function assertHidden(where: string, output: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    if (output.includes(secret)) throw new Error(`${where} shows ${JSON.stringify(secret)}: ${output}`);
  }
}

test('database URLs in any spelling: no output shows the password, raw or encoded, parsed or refused', (t) => {
  check(t, anyDbUrl, (c) => {
    const secrets = [c.password, c.spelled, encodeURIComponent(c.password)];
    assertHidden('maskUrl', maskUrl(c.url), secrets);
    let parsed: ReturnType<typeof parseDatabaseUrl> | undefined;
    try {
      parsed = parseDatabaseUrl(c.url);
    } catch (error) {
      assertHidden('the refusal', (error as Error).message, secrets);
    }
    if (parsed) assertHidden('masked', parsed.masked, secrets);
  });
});

interface TransportCase {
  readonly url: string;
  readonly expectedMasked: string;
  readonly passwords: readonly string[];
  readonly spelled: readonly string[];
  readonly hosts: ReadonlyArray<{ user: string; host: string; port: number | undefined }>;
  readonly vhost: string;
}

// oslo.messaging splits the host list at ',' and ends it at '/', '?', '#'; urlsplit refuses
// unbalanced brackets and drops tabs and line breaks; unquote decodes '%XX'.
const TRANSPORT_MUST_ENCODE = new Set([',', '/', '?', '#', '%', '[', ']']);
const transportHost = fc.record({ user, password, choices, host: hostname, port });
const transportCase = fc
  .record({ scheme: fc.constantFrom('rabbit', 'kombu', 'amqp', 'kafka'), entries: fc.array(transportHost, { minLength: 1, maxLength: 3 }), vhost: fc.stringMatching(/^[a-z0-9_]{0,8}$/) })
  .map((g): TransportCase => {
    const spelled = g.entries.map((e) => spell(e.password, (c) => TRANSPORT_MUST_ENCODE.has(c), e.choices));
    const hostPart = (e: (typeof g.entries)[number]) => `${e.host}${e.port === undefined ? '' : `:${e.port}`}`;
    return {
      url: `${g.scheme}://${g.entries.map((e, i) => `${e.user}:${spelled[i]}@${hostPart(e)}`).join(',')}/${g.vhost}`,
      expectedMasked: `${g.scheme}://${g.entries.map((e) => `${e.user}:****@${hostPart(e)}`).join(',')}/${g.vhost}`,
      passwords: g.entries.map((e) => e.password),
      spelled,
      hosts: g.entries.map((e) => ({ user: e.user, host: e.host, port: e.port })),
      vhost: g.vhost,
    };
  });

test('transport URLs, single- and multi-host: each password parses back as generated, and the mask holds none', (t) => {
  check(t, transportCase, (c) => {
    const url = parseTransportUrl(c.url);
    const got = url.hosts.map((h) => h.password);
    if (JSON.stringify(got) !== JSON.stringify(c.passwords)) throw new Error(`passwords ${JSON.stringify(got)} ≠ ${JSON.stringify(c.passwords)} in ${c.url}`);
    const parts = url.hosts.map((h) => ({ user: h.username, host: h.hostname, port: h.port }));
    if (JSON.stringify(parts) !== JSON.stringify(c.hosts)) throw new Error(`hosts of ${c.url}: ${JSON.stringify(parts)}`);
    if (url.virtualHost !== c.vhost) throw new Error(`virtual host of ${c.url}`);
    if (url.masked !== c.expectedMasked) throw new Error(`masked ${url.masked} ≠ ${c.expectedMasked}`);
  });
});

const anyTransportUrl = fc
  .record({ scheme: fc.constantFrom('rabbit', 'kombu', 'amqp'), entries: fc.array(transportHost, { minLength: 1, maxLength: 3 }) })
  .map((g) => {
    const spelled = g.entries.map((e) => spell(e.password, () => false, e.choices));
    return {
      passwords: g.entries.map((e) => e.password),
      spelled,
      url: `${g.scheme}://${g.entries.map((e, i) => `${e.user}:${spelled[i]}@${e.host}${e.port === undefined ? '' : `:${e.port}`}`).join(',')}/`,
    };
  });

test('transport URLs in any spelling (raw commas, quotes, @, /, ?, #): no output shows a password', (t) => {
  check(t, anyTransportUrl, (c) => {
    const secrets = [...c.passwords, ...c.spelled];
    assertHidden('maskUrl', maskUrl(c.url), secrets);
    try {
      assertHidden('masked', parseTransportUrl(c.url).masked, secrets);
    } catch (error) {
      assertHidden('the refusal', (error as Error).message, secrets);
    }
  });
});

const DRIVER_WORDS: ReadonlyArray<[string, string]> = [
  ['password authentication failed for "', '"'],
  ['cannot connect with ', ': connection refused'],
  ['url="', '" failed'],
  ['', '.'],
];

test('driver messages: every spelling of a password is removed by value (redactSecrets of urlSecrets)', (t) => {
  const urls = fc.oneof(
    anyDbUrl.map((c) => ({ url: c.url, secrets: [c.password, c.spelled, encodeURIComponent(c.password)] })),
    anyTransportUrl.map((c) => ({ url: c.url, secrets: [...c.passwords, ...c.spelled] })),
    dbCase.map((c) => ({ url: c.url, secrets: [c.password, c.spelled, encodeURIComponent(c.password)] })),
  );
  check(t, fc.tuple(urls, fc.constantFrom(...DRIVER_WORDS), fc.nat()), ([c, [before, after], pick]) => {
    const secret = c.secrets[pick % c.secrets.length] as string;
    assertHidden('redactSecrets', redactSecrets(`${before}${secret}${after}`, urlSecrets(c.url)), c.secrets);
  });
});

test('masking is idempotent on every generated URL', (t) => {
  check(t, fc.oneof(anyDbUrl.map((c) => c.url), anyTransportUrl.map((c) => c.url), dbCase.map((c) => c.url), transportCase.map((c) => c.url)), (url) => {
    const once = maskUrl(url);
    if (maskUrl(once) !== once) throw new Error(`maskUrl(${once}) = ${maskUrl(once)}`);
  });
});
