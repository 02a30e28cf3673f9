// Masking by value at the CLI's edge (issue 14): what yargs echoes of the arguments, and the
// secrets the top-level error printer removes as a last line of defence.
import { type Config, displayUrl, SecretRegistry, secretsOfError } from '../index.js';

/** The values of `argv` that may hold a URL: each token, and the value of a `--flag=value` token. */
function urlValues(argv: readonly string[]): string[] {
  const values: string[] = [];
  for (const token of argv) {
    // A URL, or what an operator meant as one (`nova:pw@db/nova` without its scheme).
    if (!token.includes('://') && !(token.includes(':') && token.includes('@'))) continue;
    values.push(token);
    const eq = token.indexOf('=');
    if (token.startsWith('-') && eq > 0) values.push(token.slice(eq + 1));
  }
  return values;
}

/** `message` with each URL-bearing value of `argv` it echoes replaced by its `displayUrl` (longest first). */
export function displayUrlsGiven(message: string, argv: readonly string[]): string {
  let out = message;
  for (const value of urlValues(argv).sort((a, b) => b.length - a.length)) if (out.includes(value)) out = out.split(value).join(displayUrl(value));
  return out;
}

/**
 * The secrets this run knows by value: the passwords of every URL in its arguments and resolved
 * configuration, and those carried by the error (see `CellsdbError.secrets`). The error printer's
 * last line of defence.
 */
export function knownSecrets(argv: readonly string[], config: Config | undefined, error: unknown): SecretRegistry {
  const secrets = new SecretRegistry();
  for (const value of urlValues(argv)) secrets.addUrl(value);
  if (config) {
    secrets.addUrl(config.apiDb?.raw);
    secrets.addUrl(config.db?.raw);
    secrets.addUrl(config.serviceGroup.redisUrl);
    try {
      secrets.addUrl(config.transportUrl());
    } catch {
      // A transport_url that cannot be read was never used.
    }
  }
  secrets.add(secretsOfError(error));
  return secrets;
}
