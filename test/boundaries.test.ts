// The boundaries of the tree, read from its import specifiers (TypeScript's own pre-processor, so
// that comments and strings do not count): the CLI is a client of the library's public module only;
// the library does not load the CLI or yargs; nothing but the CLI's entry reads argv or the
// environment.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import ts from 'typescript';

/** The repository (tests run from dist/test). */
const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(root, 'dist');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, ext);
    return path.endsWith(ext) && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module a file names: static imports, `import type`, re-exports and dynamic `import()`. */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

const isRelative = (spec: string): boolean => spec.startsWith('./') || spec.startsWith('../');

/** A relative specifier's target, as the compiled file it names (`.js`), relative to `base`. */
const target = (from: string, spec: string, base: string): string => relative(base, resolve(dirname(from), spec));

/** What a CLI module may import from the tree: the library's public module, or the CLI's own files. */
function allowed(imported: string): boolean {
  return imported === 'src/index.js' || imported.startsWith('src/cli/');
}

/** The imports from the tree, outside the boundary, of the CLI files under `base`/src/cli. */
function importsOutsideBoundary(base: string, ext: string): Array<{ file: string; imported: string }> {
  const files = filesUnder(join(base, 'src', 'cli'), ext);
  if (files.length < 20) throw new Error(`found only ${files.length} CLI files under ${base}`);
  return files.flatMap((file) =>
    specifiers(file)
      .filter(isRelative)
      .map((spec) => ({ file: relative(base, file), imported: target(file, spec, base) }))
      .filter((i) => !allowed(i.imported)),
  );
}

test('every compiled CLI module imports from the tree only src/index.js and src/cli/**', (t) => {
  t.deepEqual(importsOutsideBoundary(dist, '.js'), [], 'the CLI imports only the library (src/index.ts) and its own files');
});

test('every CLI source, type imports included, imports from the tree only src/index.ts and src/cli/**', (t) => {
  t.deepEqual(importsOutsideBoundary(root, '.ts'), [], 'the CLI imports only the library (src/index.ts) and its own files');
});

test('importing the library loads neither the CLI nor yargs', (t) => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of specifiers(file)) {
      if (!isRelative(spec)) {
        packages.add(spec);
        continue;
      }
      const next = resolve(dirname(file), spec);
      if (existsSync(next)) walk(next);
    }
  };
  walk(join(dist, 'src', 'index.js'));
  t.true(seen.size > 50, `walked ${seen.size} modules`);
  t.deepEqual([...seen].map((f) => relative(dist, f)).filter((f) => f.startsWith('src/cli/')), []);
  t.false([...packages].some((p) => p === 'yargs' || p.startsWith('yargs/')), [...packages].join(', '));
});

/**
 * Modules that read the environment, each with its reason: only the CLI's edge. Even the crash
 * tests' CELLSDB_FAILPOINT comes through the resolved config (`Config.failpoint`) into the runner.
 */
const READS_ENVIRONMENT: Readonly<Record<string, string>> = {
  'src/cli/main.ts': "the CLI's edge: reads argv and the environment once and hands them in",
};

test('nothing but the CLI entry reads process.argv or process.env', (t) => {
  const dirs = ['src', 'movers', 'migrations-api', 'migrations-cell'].map((d) => join(root, d));
  const readers = dirs
    .flatMap((d) => filesUnder(d, '.ts'))
    .filter((file) => {
      // Comments may mention them; code may not.
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      return /\bprocess\s*\.\s*(env|argv)\b/.test(code);
    })
    .map((file) => relative(root, file));
  t.deepEqual(readers.sort(), Object.keys(READS_ENVIRONMENT).sort());
});
