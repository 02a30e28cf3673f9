// Just enough SQL reading for the linter: what each DDL statement does to which table. Both
// dialects' spellings (double-quoted and backquoted identifiers, MariaDB's MODIFY/CHANGE) are
// understood; anything not recognised is `other`, which no rule fires on. Quotes and comments are
// the tokenizer's (src/sql/tokenizer.ts), shared with the statement splitter.
import { type SqlToken as Token, tokenize } from '../../sql/tokenizer.js';
import type { Dialect } from '../../url/index.js';

/** What one action of an ALTER TABLE does. */
export type AlterAction =
  | { readonly kind: 'add-column'; readonly column: string; readonly notNull: boolean; readonly hasDefault: boolean; readonly references: boolean; readonly check: boolean }
  | {
      readonly kind: 'add-constraint';
      readonly constraint: 'unique' | 'primary key' | 'foreign key' | 'check' | 'index' | 'other';
      readonly name: string | undefined;
      readonly notValid: boolean;
      readonly usingIndex: boolean;
    }
  | { readonly kind: 'drop-column'; readonly column: string }
  | { readonly kind: 'drop-constraint'; readonly name: string | undefined }
  | { readonly kind: 'alter-column'; readonly column: string; readonly typeChange: boolean; readonly detail: string }
  | { readonly kind: 'rename-table'; readonly to: string }
  | { readonly kind: 'rename-column'; readonly column: string; readonly to: string }
  | { readonly kind: 'other' };

/** What one statement does, as far as the linter cares. Table names are unquoted, without schema. */
export type ParsedStatement =
  | { readonly kind: 'create-table'; readonly table: string }
  | { readonly kind: 'drop-table'; readonly tables: readonly string[] }
  | { readonly kind: 'create-index'; readonly table: string; readonly name: string | undefined; readonly unique: boolean; readonly concurrently: boolean }
  | { readonly kind: 'drop-index'; readonly name: string; readonly table: string | undefined; readonly concurrently: boolean }
  | { readonly kind: 'alter-table'; readonly table: string; readonly actions: readonly AlterAction[] }
  | { readonly kind: 'rename-table'; readonly pairs: ReadonlyArray<readonly [string, string]> }
  | { readonly kind: 'read' }
  | { readonly kind: 'other' };

const isName = (t: Token | undefined): t is Token => t !== undefined && (t.type === 'word' || t.type === 'ident');

/** A possibly qualified name (`"public"."compute_nodes"`): its last part, and the index after it. */
function readName(tokens: readonly Token[], at: number): [string | undefined, number] {
  let i = at;
  let name: string | undefined;
  while (isName(tokens[i])) {
    name = (tokens[i] as Token).value;
    i++;
    if (tokens[i]?.value === '.' && isName(tokens[i + 1])) i++;
    else break;
  }
  return [name, i];
}

/** Skips the words given, in order, where they are. */
function skipWords(tokens: readonly Token[], at: number, ...words: string[]): number {
  let i = at;
  for (const w of words) if (tokens[i]?.type === 'word' && tokens[i]?.upper === w) i++;
  return i;
}

const words = (tokens: readonly Token[]): string[] => tokens.filter((t) => t.type === 'word').map((t) => t.upper);
const hasSequence = (ws: readonly string[], ...seq: string[]): boolean => ws.some((_, i) => seq.every((s, k) => ws[i + k] === s));

/** Splits an ALTER TABLE's action list at top-level commas. */
function splitActions(tokens: readonly Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.value === '(' && t.type === 'punct') depth++;
    if (t.value === ')' && t.type === 'punct') depth--;
    if (t.type === 'punct' && t.value === ',' && depth === 0) out.push([]);
    else (out.at(-1) as Token[]).push(t);
  }
  return out.filter((a) => a.length > 0);
}

const CONSTRAINT_WORDS: Readonly<Record<string, Extract<AlterAction, { kind: 'add-constraint' }>['constraint']>> = {
  UNIQUE: 'unique',
  PRIMARY: 'primary key',
  FOREIGN: 'foreign key',
  CHECK: 'check',
  INDEX: 'index',
  KEY: 'index',
  FULLTEXT: 'index',
  SPATIAL: 'index',
  EXCLUDE: 'other',
};

function parseAction(a: readonly Token[]): AlterAction {
  const first = a[0]?.upper;
  const ws = words(a);
  if (first === 'ADD') {
    let i = skipWords(a, 1, 'COLUMN');
    const afterColumnWord = a[i - 1]?.upper === 'COLUMN';
    i = skipWords(a, i, 'IF', 'NOT', 'EXISTS');
    const next = a[i];
    if (next?.type === 'word' && next.upper === 'CONSTRAINT') {
      const [name, j] = readName(a, i + 1);
      const kind = CONSTRAINT_WORDS[a[j]?.upper ?? ''] ?? 'other';
      return { kind: 'add-constraint', constraint: kind, name, notValid: hasSequence(ws, 'NOT', 'VALID'), usingIndex: hasSequence(ws, 'USING', 'INDEX') };
    }
    if (!afterColumnWord && next?.type === 'word' && CONSTRAINT_WORDS[next.upper] !== undefined) {
      return { kind: 'add-constraint', constraint: CONSTRAINT_WORDS[next.upper] ?? 'other', name: undefined, notValid: hasSequence(ws, 'NOT', 'VALID'), usingIndex: hasSequence(ws, 'USING', 'INDEX') };
    }
    if (!isName(next)) return { kind: 'other' };
    const rest = words(a.slice(i + 1));
    return {
      kind: 'add-column',
      column: next.value,
      notNull: hasSequence(rest, 'NOT', 'NULL') || hasSequence(rest, 'PRIMARY', 'KEY'),
      hasDefault: rest.some((w) => ['DEFAULT', 'SERIAL', 'BIGSERIAL', 'SMALLSERIAL', 'GENERATED', 'AUTO_INCREMENT', 'IDENTITY'].includes(w)),
      references: rest.includes('REFERENCES'),
      check: rest.includes('CHECK'),
    };
  }
  if (first === 'DROP') {
    const second = a[1]?.upper;
    if (second === 'CONSTRAINT' || second === 'INDEX' || second === 'KEY') {
      const [name] = readName(a, skipWords(a, 2, 'IF', 'EXISTS'));
      return { kind: 'drop-constraint', name };
    }
    if (second === 'FOREIGN' || second === 'PRIMARY') {
      const [name] = readName(a, skipWords(a, 3, 'IF', 'EXISTS'));
      return { kind: 'drop-constraint', name };
    }
    if (second === 'CHECK') return { kind: 'drop-constraint', name: readName(a, 2)[0] };
    const [column] = readName(a, skipWords(a, skipWords(a, 1, 'COLUMN'), 'IF', 'EXISTS'));
    return column === undefined ? { kind: 'other' } : { kind: 'drop-column', column };
  }
  if (first === 'ALTER') {
    if (a[1]?.upper === 'CONSTRAINT' || a[1]?.upper === 'INDEX') return { kind: 'other' };
    const [column, j] = readName(a, skipWords(a, 1, 'COLUMN'));
    if (column === undefined) return { kind: 'other' };
    const rest = words(a.slice(j));
    const typeChange = rest[0] === 'TYPE' || hasSequence(rest, 'SET', 'DATA', 'TYPE');
    return { kind: 'alter-column', column, typeChange, detail: rest.join(' ') };
  }
  if (first === 'MODIFY') {
    const [column, j] = readName(a, skipWords(a, skipWords(a, 1, 'COLUMN'), 'IF', 'EXISTS'));
    // MODIFY restates the whole definition: whether the type changed is for the server to say.
    return column === undefined ? { kind: 'other' } : { kind: 'alter-column', column, typeChange: true, detail: words(a.slice(j)).join(' ') };
  }
  if (first === 'CHANGE') {
    const [column, j] = readName(a, skipWords(a, skipWords(a, 1, 'COLUMN'), 'IF', 'EXISTS'));
    const [to, k] = readName(a, j);
    if (column === undefined || to === undefined) return { kind: 'other' };
    if (column !== to) return { kind: 'rename-column', column, to };
    return { kind: 'alter-column', column, typeChange: true, detail: words(a.slice(k)).join(' ') };
  }
  if (first === 'RENAME') {
    const second = a[1]?.upper;
    if (second === 'INDEX' || second === 'KEY' || second === 'CONSTRAINT') return { kind: 'other' };
    // PostgreSQL: RENAME [COLUMN] a TO b | RENAME TO t. MariaDB: RENAME COLUMN a TO b | RENAME [TO|AS] t.
    const column = second === 'COLUMN' || (second !== 'TO' && second !== 'AS' && a[2]?.upper === 'TO');
    if (column) {
      const [from, j] = readName(a, skipWords(a, 1, 'COLUMN'));
      const [to] = readName(a, skipWords(a, j, 'TO'));
      return from !== undefined && to !== undefined ? { kind: 'rename-column', column: from, to } : { kind: 'other' };
    }
    const [to] = readName(a, second === 'TO' || second === 'AS' ? 2 : 1);
    return to === undefined ? { kind: 'other' } : { kind: 'rename-table', to };
  }
  return { kind: 'other' };
}

const READS = new Set(['SELECT', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'VALUES']);

/** Reads one statement (as split by `splitStatements`) of `dialect`. */
export function parseStatement(sql: string, dialect: Dialect): ParsedStatement {
  const t = tokenize(sql, dialect);
  const first = t[0]?.upper ?? '';
  if (READS.has(first)) return { kind: 'read' };
  if (first === 'CREATE') {
    let i = skipWords(t, 1, 'OR', 'REPLACE');
    i = skipWords(t, i, 'TEMPORARY');
    i = skipWords(t, i, 'UNLOGGED');
    if (t[i]?.upper === 'TABLE') {
      const [table] = readName(t, skipWords(t, i + 1, 'IF', 'NOT', 'EXISTS'));
      return table === undefined ? { kind: 'other' } : { kind: 'create-table', table };
    }
    const unique = t[i]?.upper === 'UNIQUE';
    i = skipWords(t, i, unique ? 'UNIQUE' : 'FULLTEXT');
    i = skipWords(t, i, 'SPATIAL');
    if (t[i]?.upper !== 'INDEX') return { kind: 'other' };
    const concurrently = t[i + 1]?.upper === 'CONCURRENTLY';
    const on = t.findIndex((tok, k) => k > i && tok.upper === 'ON');
    if (on < 0) return { kind: 'other' };
    const [name] = readName(t, skipWords(t, skipWords(t, i + 1, 'CONCURRENTLY'), 'IF', 'NOT', 'EXISTS'));
    const [table] = readName(t, skipWords(t, on + 1, 'ONLY'));
    return table === undefined ? { kind: 'other' } : { kind: 'create-index', table, name: name === 'ON' ? undefined : name, unique, concurrently };
  }
  if (first === 'DROP') {
    let i = skipWords(t, 1, 'TEMPORARY');
    if (t[i]?.upper === 'TABLE') {
      i = skipWords(t, i + 1, 'IF', 'EXISTS');
      const tables: string[] = [];
      for (;;) {
        const [name, j] = readName(t, i);
        if (name === undefined) break;
        tables.push(name);
        if (t[j]?.value !== ',') break;
        i = j + 1;
      }
      return { kind: 'drop-table', tables };
    }
    if (t[i]?.upper === 'INDEX') {
      const concurrently = t[i + 1]?.upper === 'CONCURRENTLY';
      const [name, j] = readName(t, skipWords(t, skipWords(t, i + 1, 'CONCURRENTLY'), 'IF', 'EXISTS'));
      const table = t[j]?.upper === 'ON' ? readName(t, j + 1)[0] : undefined;
      return name === undefined ? { kind: 'other' } : { kind: 'drop-index', name, table, concurrently };
    }
    return { kind: 'other' };
  }
  if (first === 'ALTER') {
    let i = skipWords(t, 1, 'ONLINE');
    i = skipWords(t, i, 'IGNORE');
    if (t[i]?.upper !== 'TABLE') return { kind: 'other' };
    i = skipWords(t, skipWords(t, i + 1, 'IF', 'EXISTS'), 'ONLY');
    const [table, j] = readName(t, i);
    if (table === undefined) return { kind: 'other' };
    const rest = t.slice(t[j]?.value === '*' ? j + 1 : j);
    return { kind: 'alter-table', table, actions: splitActions(rest).map(parseAction) };
  }
  if (first === 'RENAME' && t[1]?.upper === 'TABLE') {
    const pairs: Array<[string, string]> = [];
    let i = 2;
    for (;;) {
      const [from, j] = readName(t, i);
      const [to, k] = readName(t, skipWords(t, j, 'TO'));
      if (from === undefined || to === undefined) break;
      pairs.push([from, to]);
      if (t[k]?.value !== ',') break;
      i = k + 1;
    }
    return { kind: 'rename-table', pairs };
  }
  return { kind: 'other' };
}
