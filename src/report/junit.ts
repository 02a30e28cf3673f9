import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { create } from 'xmlbuilder2';
import { type CheckResult, tally } from './checks.js';

// XML 1.0 cannot carry most control characters, even escaped: a driver message with one would make
// the whole report unreadable to the CI system.
// Check results name databases through `displayUrl` and carry translated (secret-free) errors.
const xmlSafe = (text: string): string => text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '?');

/**
 * A JUnit XML report (the dialect Jenkins, GitLab and GitHub test reporters read): one test case
 * per check, class name its subject. A failed check is a `<failure>`, a check that could not run an
 * `<error>`, pending migrations a `<failure type="pending">`, a skipped check `<skipped>`. URLs are
 * masked as everywhere else.
 */
export function junitXml(suiteName: string, checks: readonly CheckResult[], timestamp: Date = new Date()): string {
  const counts = tally(checks);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = checks.reduce((n, c) => n + c.ms, 0);
  const failures = counts.failed + counts.pending;
  // The totals appear on both the <testsuites> root and its one <testsuite>: readers differ in which they read.
  const totals = {
    name: suiteName,
    tests: String(checks.length),
    failures: String(failures),
    errors: String(counts.error),
    skipped: String(counts.skipped),
    time: seconds(total),
  };
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', totals);
  const suite = root.ele('testsuite', { ...totals, timestamp: timestamp.toISOString().replace(/\.\d+Z$/, '') });
  for (const c of checks) {
    const testcase = suite.ele('testcase', { classname: xmlSafe(c.subject), name: xmlSafe(c.name), time: seconds(c.ms) });
    const body = xmlSafe([c.summary, ...c.details].join('\n'));
    if (c.status === 'failed') testcase.ele('failure', { message: xmlSafe(c.summary), type: 'failure' }).txt(body);
    else if (c.status === 'pending') testcase.ele('failure', { message: xmlSafe(c.summary), type: 'pending' }).txt(body);
    else if (c.status === 'error') testcase.ele('error', { message: xmlSafe(c.summary), type: 'error' }).txt(body);
    else if (c.status === 'skipped') testcase.ele('skipped', { message: xmlSafe(c.summary) });
    else if (c.details.length > 0) testcase.ele('system-out').txt(body);
  }
  return root.end({ prettyPrint: true });
}

/** Writes {@link junitXml} to `path`, creating its folder. */
export function writeJunit(path: string, suiteName: string, checks: readonly CheckResult[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${junitXml(suiteName, checks)}\n`);
}
