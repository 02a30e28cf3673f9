import { isIPv6 } from 'node:net';
import { InvalidInputError } from '../errors.js';
import { HAS_PLACEHOLDER, indexOrEnd } from './locate.js';
import { displayUrl, refusedUrl } from './mask.js';
import { parseQsl, pyInt, pyUnquote } from './python.js';

/** One host of a transport URL, as oslo.messaging's `TransportHost` holds it. */
export interface TransportHost {
  readonly hostname: string | undefined;
  /** The port; the placeholder as written (`{port}`) in a templated URL. */
  readonly port: number | string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** A transport URL (`cell_mappings.transport_url`) as oslo.messaging's `TransportURL.parse` reads it. */
export interface TransportUrl {
  /** The transport (`rabbit`, `none`, …), lower case; `{scheme}` in a templated URL. */
  readonly scheme: string;
  readonly hosts: readonly TransportHost[];
  /** The path without its leading `/`, decoded; `undefined` without a path. */
  readonly virtualHost: string | undefined;
  /** Query parameters; repeated ones joined with `,` as oslo.messaging joins them. */
  readonly query: Readonly<Record<string, string>>;
  /** Holds Nova's `{…}` placeholders, which Nova fills from `[DEFAULT] transport_url` when used. */
  readonly templated: boolean;
  /** The URL as given (trimmed), secrets included: never print it. */
  readonly raw: string;
  /** The URL with every password replaced by `****`. */
  readonly masked: string;
}

/**
 * Parses a transport URL as oslo.messaging's `TransportURL.parse` does (after `urllib.parse.urlparse`):
 * `transport://user:pass@host:port[,userN:passN@hostN:portN]/virtual_host?query`. The host list
 * ends at the first `/`, `?` or `#`, and hosts are separated by every `,`: in a password, these
 * four must be percent-encoded, while `@` and `:` may stay (each host's userinfo ends at its last
 * `@`). Templated URLs (`{scheme}://{username}:{password}@{hostname}:{port}/{path}`, which Nova
 * fills from `[DEFAULT] transport_url`) are accepted with their placeholders.
 *
 * @throws {InvalidInputError} (exit 127) for what oslo.messaging refuses (no scheme, a port that is
 *   not a number, unbalanced brackets), with the URL masked.
 */
export function parseTransportUrl(raw: string): TransportUrl {
  const input = raw.trim();
  const masked = displayUrl(input);
  const fail = (problem: string): never => {
    // A URL that fails to parse is never echoed: only its scheme is named.
    throw new InvalidInputError(`invalid transport URL '${refusedUrl(input)}': ${problem}`);
  };
  const templated = HAS_PLACEHOLDER.test(input);
  // urlsplit drops tabs and line breaks anywhere in the URL.
  let rest = input.replace(/[\t\r\n]/g, '');
  let scheme = '';
  const colon = rest.indexOf(':');
  if (templated && rest.startsWith('{scheme}:')) {
    scheme = '{scheme}';
    rest = rest.slice(scheme.length + 1);
  } else if (colon > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  // oslo.messaging would take 'nova:pw@mq/' as a transport 'nova' with no host: a typo, refused.
  if (!scheme || !rest.startsWith('//')) fail('no scheme (expected <transport>://<user>:<password>@<host>:<port>/<virtual host>)');
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  // urlsplit's checks: brackets in pairs, the first bracketed host an IPv6 address (or IPvFuture),
  // and no character that NFKC normalization turns into a delimiter.
  if (netloc.includes('[') !== netloc.includes(']')) fail("unbalanced '[' and ']' in the host list");
  if (netloc.includes('[')) {
    const open = netloc.indexOf('[');
    const close = netloc.indexOf(']', open);
    const bracketed = close < 0 ? netloc.slice(open + 1) : netloc.slice(open + 1, close);
    if (!(bracketed.startsWith('v') ? /^v[a-fA-F0-9]+\..+$/s.test(bracketed) : isIPv6(bracketed))) fail('a host in [ ] is not an IPv6 address');
  }
  if (/[^\x00-\x7f]/.test(netloc)) {
    const bare = netloc.replace(/[@:#?]/g, '');
    if (bare !== bare.normalize('NFKC') && /[/?#@:]/.test(bare.normalize('NFKC'))) fail('the host list holds characters that Unicode normalization turns into delimiters');
  }
  const hash = indexOrEnd(rest, '#', 0);
  const q = Math.min(indexOrEnd(rest, '?', 0), hash);
  const path = rest.slice(0, q);
  const queryText = q < hash ? rest.slice(q + 1, hash) : '';

  const hosts: TransportHost[] = [];
  for (const [index, chunk] of netloc.split(',').entries()) {
    if (!chunk) continue;
    let hostPort = chunk;
    let username: string | undefined;
    let password: string | undefined;
    const at = chunk.lastIndexOf('@');
    if (at >= 0) {
      let user = chunk.slice(0, at);
      hostPort = chunk.slice(at + 1);
      const c = user.indexOf(':');
      if (c >= 0) {
        password = pyUnquote(user.slice(c + 1));
        user = user.slice(0, c);
      }
      username = pyUnquote(user);
    }
    // oslo_utils.netutils.parse_host_port
    let hostname: string | undefined;
    let port: number | string | undefined;
    const badPort = (): never =>
      fail(`host ${index + 1} has a port that is not a number (percent-encode a ',', '/', '?' or '#' in a password: %2C, %2F, %3F, %23)`);
    const portOf = (text: string): number | string => (/^\{port\d*\}$/.test(text) ? text : (pyInt(text) ?? badPort()));
    if (!hostPort) {
      hostname = undefined;
    } else if (hostPort.startsWith('[')) {
      const pieces = hostPort.slice(1).split(']');
      if (pieces.length !== 2) fail(`host ${index + 1} has unbalanced '[' and ']'`);
      hostname = pieces[0] as string;
      const after = pieces[1] as string;
      port = after.includes(':') ? portOf(after.split(':')[1] as string) : undefined;
    } else if (hostPort.split(':').length === 2) {
      const [h, p] = hostPort.split(':') as [string, string];
      hostname = h;
      port = portOf(p);
    } else {
      hostname = hostPort;
    }
    hosts.push(Object.freeze({ hostname, port, username, password }));
  }
  const query: Record<string, string[]> = {};
  for (const [k, v] of parseQsl(queryText)) (query[k] ??= []).push(v);
  return Object.freeze({
    scheme,
    hosts: Object.freeze(hosts),
    virtualHost: path.startsWith('/') ? pyUnquote(path.slice(1)) : undefined,
    query: Object.freeze(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.join(',')]))),
    templated,
    raw: input,
    masked,
  });
}
