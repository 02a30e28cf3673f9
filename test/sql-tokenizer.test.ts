// The one SQL tokenizer (src/sql/tokenizer.ts), which the statement splitter (`sync --dry-run`,
// `schema lint`) and the linter's statement reader share: a `;` or a keyword inside quotes or a
// comment is never SQL, by each server's own quoting rules.
import test from 'ava';
import { splitStatements, tokenize } from '../src/sql/tokenizer.js';
import type { Dialect } from '../src/url/index.js';

const kinds = (sql: string, dialect: Dialect) => tokenize(sql, dialect).map((t) => `${t.type}:${t.value}`);

test('statements split at top-level semicolons only', (t) => {
  t.deepEqual(
    splitStatements(
      `ALTER TABLE "a" ALTER COLUMN "b" DROP NOT NULL;ALTER TABLE "a" ALTER COLUMN "b" TYPE INTEGER; SELECT ';' AS "x;y" -- c;
     ; CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;`,
      'postgres',
    ),
    [
      'ALTER TABLE "a" ALTER COLUMN "b" DROP NOT NULL',
      'ALTER TABLE "a" ALTER COLUMN "b" TYPE INTEGER',
      `SELECT ';' AS "x;y" -- c;`,
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql',
    ],
  );
});

test('quotes: doubled quotes stay inside strings and identifiers, on both dialects', (t) => {
  t.deepEqual(kinds(`SELECT 'it''s; here' AS "a ""b""; c"`, 'postgres'), ['word:SELECT', "string:it's; here", 'word:AS', 'ident:a "b"; c']);
  t.deepEqual(kinds("SELECT 'it''s; here' AS `a ``b``; c`", 'mysql'), ['word:SELECT', "string:it's; here", 'word:AS', 'ident:a `b`; c']);
  t.deepEqual(splitStatements(`INSERT INTO t VALUES ('a;b', "c;d"); SELECT 1`, 'mysql'), [`INSERT INTO t VALUES ('a;b', "c;d")`, 'SELECT 1']);
  // MariaDB: "…" is a string (no ANSI_QUOTES); PostgreSQL: an identifier.
  t.is(tokenize('"x"', 'mysql')[0]?.type, 'string');
  t.is(tokenize('"x"', 'postgres')[0]?.type, 'ident');
  // An unterminated quote runs to the end: nothing after it is split off.
  t.deepEqual(splitStatements(`SELECT 'a; SELECT 2`, 'postgres'), [`SELECT 'a; SELECT 2`]);
});

test('comments: line and block comments hide semicolons and words; PostgreSQL nests block comments; MariaDB has # and needs a space after --', (t) => {
  t.deepEqual(splitStatements('SELECT 1 -- no; split\n, 2; /* nor; here */ SELECT 3', 'postgres'), ['SELECT 1 -- no; split\n, 2', '/* nor; here */ SELECT 3']);
  t.deepEqual(kinds('DROP /* TABLE x; */ INDEX i', 'mysql'), ['word:DROP', 'word:INDEX', 'word:i']);
  t.deepEqual(splitStatements('SELECT 1 /* outer /* inner; */ still; comment */; SELECT 2', 'postgres'), ['SELECT 1 /* outer /* inner; */ still; comment */', 'SELECT 2']);
  t.deepEqual(splitStatements('SELECT 1 /* a /* b; */ SELECT 2', 'mysql'), ['SELECT 1 /* a /* b; */ SELECT 2'], 'MariaDB does not nest: the first */ ends it');
  t.deepEqual(splitStatements('SELECT 1 # a; comment\n; SELECT 2', 'mysql'), ['SELECT 1 # a; comment', 'SELECT 2']);
  t.deepEqual(kinds('SELECT 1 # 2', 'postgres'), ['word:SELECT', 'other:1', 'other:#', 'other:2'], '# is an operator on PostgreSQL');
  t.deepEqual(splitStatements('SELECT 5--1; SELECT 2', 'mysql'), ['SELECT 5--1', 'SELECT 2'], 'MariaDB: --1 is minus minus one');
  t.deepEqual(splitStatements('SELECT 5 --\tx; y\n; SELECT 2', 'mysql'), ['SELECT 5 --\tx; y', 'SELECT 2']);
});

test('$tag$ quoting: PostgreSQL bodies are one string; $1 is a parameter; MariaDB has no dollar quotes', (t) => {
  const body = `DO $body$ BEGIN EXECUTE 'ALTER TABLE t DROP COLUMN c'; RAISE NOTICE $$x;y$$; END $body$; SELECT $1`;
  t.deepEqual(splitStatements(body, 'postgres'), [`DO $body$ BEGIN EXECUTE 'ALTER TABLE t DROP COLUMN c'; RAISE NOTICE $$x;y$$; END $body$`, 'SELECT $1']);
  t.deepEqual(kinds('SELECT $a1$ x; $b$ y $a1$, $1', 'postgres'), ['word:SELECT', 'string: x; $b$ y ', 'punct:,', 'other:$1']);
  t.deepEqual(kinds('DO $$ DROP TABLE t $$', 'postgres'), ['word:DO', 'string: DROP TABLE t ']);
  // On MariaDB `$` is no quote: the `;` splits.
  t.deepEqual(splitStatements('SELECT $$a; b$$', 'mysql'), ['SELECT $$a', 'b$$']);
});

test('backslash escapes: every MariaDB string; on PostgreSQL only E strings', (t) => {
  t.deepEqual(splitStatements(`INSERT INTO t VALUES ('it\\'s; one'); SELECT "a\\"; b"`, 'mysql'), [`INSERT INTO t VALUES ('it\\'s; one')`, `SELECT "a\\"; b"`]);
  t.deepEqual(kinds(`'C:\\\\dir\\'s'`, 'mysql'), [`string:C:\\dir's`]);
  // Backquoted identifiers know no escapes.
  t.deepEqual(kinds('`a\\` `b`', 'mysql'), ['ident:a\\', 'ident:b']);
  // PostgreSQL's standard strings end at the quote after a backslash: 'C:\' is a whole string.
  t.deepEqual(splitStatements(`SELECT 'C:\\'; SELECT 2`, 'postgres'), [`SELECT 'C:\\'`, 'SELECT 2']);
  t.deepEqual(splitStatements(`SELECT E'it\\'s; one'; SELECT 2`, 'postgres'), [`SELECT E'it\\'s; one'`, 'SELECT 2']);
  t.deepEqual(kinds(`SELECT e'a\\'b', name'x\\'`, 'postgres'), ['word:SELECT', "string:a'b", 'punct:,', 'word:name', 'string:x\\']);
});

test('tokens carry their offsets, words their upper case', (t) => {
  const sql = 'alter table `t` add x int';
  const tokens = tokenize(sql, 'mysql');
  t.deepEqual(tokens.map((tok) => sql.slice(tok.start, tok.end)), ['alter', 'table', '`t`', 'add', 'x', 'int']);
  t.deepEqual(tokens.filter((tok) => tok.type === 'word').map((tok) => tok.upper), ['ALTER', 'TABLE', 'ADD', 'X', 'INT']);
});
