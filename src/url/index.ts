// URLs as Nova's libraries read them: database URLs (SQLAlchemy's `make_url`), transport URLs
// (oslo.messaging's `TransportURL.parse`), the one way to print either (`displayUrl`), and their
// secrets by value (`urlSecrets`, `redactSecrets`).
export { displayUrl, maskUrl, refusedUrl } from './mask.js';
export { type DatabaseUrl, type Dialect, databaseIdentity, parseDatabaseUrl, withDatabase } from './parse-database.js';
export { parseTransportUrl, type TransportHost, type TransportUrl } from './parse-transport.js';
export { pyUnquote } from './python.js';
export { redactSecrets, SecretRegistry, urlSecrets } from './secrets.js';
