// A migration can disable a rule for itself with a comment that gives the reason:
//
//   // cellsdb-lint-disable pg-index-concurrently: instances is empty until the next release starts writing it
//
// Comments are left out of a migration's checksum (src/migrate/checksum.ts), so a directive can be
// added to a migration that has already been applied without making its ledger entry "changed".
//
// Directives are read from the compiled file and from its TypeScript source when the source map
// leads to it. tsc drops a comment that sits on an import it elides (an `import type` only), so in
// a migration shipped without its source, put the directive just above `export async function up`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A directive found in a migration's source. */
export interface LintDirective {
  readonly rules: readonly string[];
  readonly reason: string;
  /** The comment as written, for reports. */
  readonly text: string;
}

/** A directive that cannot be honoured: no reason, or a rule that does not exist. */
export interface DirectiveProblem {
  readonly text: string;
  readonly message: string;
}

const DIRECTIVE = /\/\/\s*cellsdb-lint-disable\b(.*)$/gm;
/** A reason shorter than this is not a reason. */
const MIN_REASON = 10;

/** Reads the directives of a migration's source, checking them against the known rule ids. */
export function readDirectives(source: string, knownRules: ReadonlySet<string>): { directives: LintDirective[]; problems: DirectiveProblem[] } {
  const directives: LintDirective[] = [];
  const problems: DirectiveProblem[] = [];
  for (const match of source.matchAll(DIRECTIVE)) {
    const text = match[0].trim();
    const body = (match[1] ?? '').trim();
    const colon = body.indexOf(':');
    const ruleText = colon < 0 ? body : body.slice(0, colon);
    const reason = colon < 0 ? '' : body.slice(colon + 1).trim();
    const rules = ruleText.split(/[\s,]+/).filter(Boolean);
    if (rules.length === 0) {
      problems.push({ text, message: 'names no rule: write `// cellsdb-lint-disable RULE[, RULE]: REASON`' });
      continue;
    }
    const unknown = rules.filter((r) => !knownRules.has(r));
    if (unknown.length > 0) {
      problems.push({ text, message: `names unknown rule${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known rules: ${[...knownRules].sort().join(', ')}` });
      continue;
    }
    if (reason.length < MIN_REASON) {
      problems.push({ text, message: `disables ${rules.join(', ')} without a written reason: add ': <why this hazard is safe here>'; the rule stays on until then` });
      continue;
    }
    directives.push({ rules, reason, text });
  }
  // The compiled file and its source usually carry the same comments: report each once.
  const once = <T extends { text: string }>(items: T[]): T[] => items.filter((d, i) => items.findIndex((o) => o.text === d.text) === i);
  return { directives: once(directives), problems: once(problems) };
}

/** The text of a compiled migration and, when its source map leads to it, of its source. */
export function migrationSourceText(path: string): string {
  const compiled = readFileSync(path, 'utf8');
  const texts = [compiled];
  const mapRef = /\/\/# sourceMappingURL=(\S+)\s*$/m.exec(compiled)?.[1];
  if (mapRef && !mapRef.startsWith('data:')) {
    try {
      const mapPath = resolve(dirname(path), mapRef);
      const map = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources?: unknown; sourceRoot?: unknown; sourcesContent?: unknown };
      const contents = Array.isArray(map.sourcesContent) ? map.sourcesContent.filter((c): c is string => typeof c === 'string') : [];
      texts.push(...contents);
      if (contents.length === 0 && Array.isArray(map.sources)) {
        const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
        for (const source of map.sources) {
          const file = typeof source === 'string' ? resolve(dirname(mapPath), root, source) : undefined;
          if (file && existsSync(file)) texts.push(readFileSync(file, 'utf8'));
        }
      }
    } catch {
      // No readable source map: the compiled file is all there is.
    }
  }
  return texts.join('\n');
}
