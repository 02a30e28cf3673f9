// URLs as Nova's libraries read them: database URLs (SQLAlchemy's `make_url`), transport URLs
// (oslo.messaging's `TransportURL.parse`), and the one way to print either (masked).
export { maskUrl, maskUrlsInText } from './mask.js';
export { type DatabaseUrl, type Dialect, databaseIdentity, parseDatabaseUrl, withDatabase } from './parse-database.js';
export { parseTransportUrl, type TransportHost, type TransportUrl } from './parse-transport.js';
export { pyUnquote } from './python.js';
