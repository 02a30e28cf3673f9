// The one reading of SQL text that sees through quotes and comments. The statement splitter (what
// a driver received → statements, for `sync --dry-run` and `schema lint`) and the linter's
// statement reader both go through it, so that a `;` or a keyword inside a string, a quoted
// identifier, a comment or a PostgreSQL dollar-quoted body is never taken for SQL.
//
// Quoting differs between the servers, and the differences matter exactly where a scanner goes
// wrong: MariaDB takes a backslash as an escape in every string ('it\'s') and "…" as a string;
// PostgreSQL (standard_conforming_strings, on since 9.1) only in E'…' strings, quotes identifiers
// with "…", has $tag$…$tag$ bodies and nests block comments. The rules are a table per dialect
// (below), not branches in the scanner.
import type { Dialect } from '../url/index.js';

/** One token. Whitespace and comments are skipped; offsets let a caller slice the text around a token. */
export interface SqlToken {
  /** `word`: an unquoted word; `ident`: a quoted identifier; `string`: any string literal; `punct`: one of `(),.;=*`. */
  readonly type: 'word' | 'ident' | 'string' | 'punct' | 'other';
  /** A word or `other` as written; a quoted identifier or string without its quotes, escapes resolved. */
  readonly value: string;
  /** A word in upper case; empty for every other type. */
  readonly upper: string;
  /** Where the token starts in the text, and where it ends (exclusive). */
  readonly start: number;
  readonly end: number;
}

/** The lexical rules of one dialect that decide where quotes and comments start and end. */
interface Lexicon {
  /** Characters that open a string literal. */
  readonly stringQuotes: string;
  /** Characters that open a quoted identifier. */
  readonly identifierQuotes: string;
  /** Whether a backslash escapes the next character in every string literal. */
  readonly backslashEscapes: boolean;
  /** Whether `E'…'` opens a string in which a backslash escapes (when `backslashEscapes` is off). */
  readonly escapeStrings: boolean;
  /** Whether `$tag$…$tag$` (and `$$…$$`) quotes a string. */
  readonly dollarQuotes: boolean;
  /** Whether `#` starts a comment to the end of the line. */
  readonly hashComments: boolean;
  /** Whether `--` starts a comment only when followed by white space, a control character or the end. */
  readonly dashCommentNeedsSpace: boolean;
  /** Whether block comments nest. */
  readonly nestedBlockComments: boolean;
}

const LEXICONS: Readonly<Record<Dialect, Lexicon>> = {
  postgres: {
    stringQuotes: "'",
    identifierQuotes: '"',
    backslashEscapes: false,
    escapeStrings: true,
    dollarQuotes: true,
    hashComments: false,
    dashCommentNeedsSpace: false,
    nestedBlockComments: true,
  },
  // Without ANSI_QUOTES or NO_BACKSLASH_ESCAPES in sql_mode (neither is set by cellsdb or Sequelize).
  // `/*! … */` executable comments are skipped like any comment: nothing cellsdb sends uses them.
  mysql: {
    stringQuotes: `'"`,
    identifierQuotes: '`',
    backslashEscapes: true,
    escapeStrings: false,
    dollarQuotes: false,
    hashComments: true,
    dashCommentNeedsSpace: true,
    nestedBlockComments: false,
  },
};

const PUNCT = '(),.;=*';
const WORD_START = /[A-Za-z_]/;
const WORD = /[A-Za-z_][A-Za-z0-9_$]*/y;
/** A PostgreSQL dollar-quote tag: `$$` or `$name$` (a name cannot start with a digit: `$1` is a parameter). */
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/y;

/** Reads a quoted run from `open` (the opening quote) to its closing quote; doubled quotes and, when asked, backslashes escape. */
function readQuoted(sql: string, open: number, quote: string, backslash: boolean): { value: string; end: number } {
  let value = '';
  let j = open + 1;
  while (j < sql.length) {
    const c = sql[j] as string;
    if (backslash && c === '\\') {
      value += sql[j + 1] ?? '';
      j += 2;
    } else if (c === quote) {
      if (sql[j + 1] !== quote) return { value, end: j + 1 };
      value += quote;
      j += 2;
    } else {
      value += c;
      j++;
    }
  }
  // Unterminated: the rest of the text is inside the quotes.
  return { value, end: sql.length };
}

/** The end of a block comment opened at `open`, nested ones included when the dialect nests them. */
function blockCommentEnd(sql: string, open: number, nested: boolean): number {
  let depth = 1;
  let j = open + 2;
  while (j < sql.length) {
    if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0 || !nested) return j;
    } else if (nested && sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j += 2;
    } else j++;
  }
  return sql.length;
}

function isDashComment(sql: string, i: number, lexicon: Lexicon): boolean {
  if (sql[i] !== '-' || sql[i + 1] !== '-') return false;
  if (!lexicon.dashCommentNeedsSpace) return true;
  const after = sql.charCodeAt(i + 2);
  return Number.isNaN(after) || after <= 32;
}

/** Whether the character at `i` starts anything other than a plain run of `other` characters. */
function startsSomething(sql: string, i: number, lexicon: Lexicon): boolean {
  const c = sql[i] as string;
  return (
    /\s/.test(c) ||
    PUNCT.includes(c) ||
    WORD_START.test(c) ||
    lexicon.stringQuotes.includes(c) ||
    lexicon.identifierQuotes.includes(c) ||
    (c === '$' && lexicon.dollarQuotes) ||
    (c === '#' && lexicon.hashComments) ||
    (c === '/' && sql[i + 1] === '*') ||
    isDashComment(sql, i, lexicon)
  );
}

/** Splits SQL text into tokens by the quoting and comment rules of `dialect`. */
export function tokenize(sql: string, dialect: Dialect): SqlToken[] {
  const lexicon = LEXICONS[dialect];
  const tokens: SqlToken[] = [];
  const push = (type: SqlToken['type'], value: string, start: number, end: number) =>
    tokens.push({ type, value, upper: type === 'word' ? value.toUpperCase() : '', start, end });
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (isDashComment(sql, i, lexicon) || (c === '#' && lexicon.hashComments)) {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      i = blockCommentEnd(sql, i, lexicon.nestedBlockComments);
    } else if (lexicon.stringQuotes.includes(c)) {
      const { value, end } = readQuoted(sql, i, c, lexicon.backslashEscapes);
      push('string', value, i, end);
      i = end;
    } else if (lexicon.identifierQuotes.includes(c)) {
      const { value, end } = readQuoted(sql, i, c, false);
      push('ident', value, i, end);
      i = end;
    } else if (lexicon.escapeStrings && (c === 'E' || c === 'e') && sql[i + 1] === "'") {
      const { value, end } = readQuoted(sql, i + 1, "'", true);
      push('string', value, i, end);
      i = end;
    } else if (WORD_START.test(c)) {
      WORD.lastIndex = i;
      const word = (WORD.exec(sql) as RegExpExecArray)[0];
      push('word', word, i, i + word.length);
      i += word.length;
    } else if (PUNCT.includes(c)) {
      push('punct', c, i, i + 1);
      i++;
    } else if (c === '$' && lexicon.dollarQuotes && (DOLLAR_TAG.lastIndex = i, DOLLAR_TAG.test(sql))) {
      const tag = sql.slice(i, DOLLAR_TAG.lastIndex);
      const close = sql.indexOf(tag, i + tag.length);
      const end = close < 0 ? n : close + tag.length;
      push('string', sql.slice(i + tag.length, close < 0 ? n : close), i, end);
      i = end;
    } else {
      // A run of anything else (numbers, operators, `$1` parameters), one token up to the next start.
      let j = i + 1;
      while (j < n && !startsSomething(sql, j, lexicon)) j++;
      push('other', sql.slice(i, j), i, j);
      i = j;
    }
  }
  return tokens;
}

/** Splits SQL text into statements at top-level semicolons (never inside quotes or comments), trimmed; empty ones dropped. */
export function splitStatements(sql: string, dialect: Dialect): string[] {
  const out: string[] = [];
  let start = 0;
  for (const token of tokenize(sql, dialect)) {
    if (token.type !== 'punct' || token.value !== ';') continue;
    out.push(sql.slice(start, token.start));
    start = token.end;
  }
  out.push(sql.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}
