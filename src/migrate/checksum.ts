import { createHash } from 'node:crypto';

/**
 * Drops comments and folds white space so that a reworded comment or a re-indent does not count as
 * a changed migration, while any change to code does. Strings and template literals are kept as they
 * are (a comment marker inside a string is not a comment).
 */
export function normaliseSource(source: string): string {
  let out = '';
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out += ' ';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < n && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    out += c;
    i++;
  }
  return out.replace(/\s+/g, ' ').trim();
}

/** SHA-256 (hex) of a migration's normalised source. */
export function migrationChecksum(source: string): string {
  return createHash('sha256').update(normaliseSource(source)).digest('hex');
}
