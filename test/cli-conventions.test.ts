// The CLI's conventions (#13 item 6, #16): a `completion` command; `--help` lists each option once
// (the other spelling of a flag works but is not listed), global options under their group's
// heading and only on the commands they affect; each command's help ends with its exit codes and
// an example; and every global option from the environment, flags > environment > config file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { COMMAND_HELP } from '../src/cli/help.js';
import { envNameOf, GLOBAL_OPTIONS } from '../src/config/index.js';
import { runCli } from './helpers/cli.js';

test('completion prints a shell script, and completes commands and subcommands', async (t) => {
  const script = await runCli(['completion']);
  t.is(script.code, 0, script.stderr);
  t.regex(script.stdout, /###-begin-cellsdb-completions-###/);
  const top = await runCli(['--get-yargs-completions', 'cellsdb', '']);
  t.true(['api_db', 'db', 'cell_v2', 'service', 'upgrade'].every((c) => top.stdout.split('\n').includes(c)), top.stdout);
  const sub = await runCli(['--get-yargs-completions', 'cellsdb', 'cell_v2', '']);
  t.true(sub.stdout.split('\n').includes('create_cell'), sub.stdout);
});

test('--help lists each option once: the other spelling is accepted, not listed', async (t) => {
  const help = await runCli(['cell_v2', 'update_cell', '--help']);
  t.is(help.code, 0);
  t.notRegex(help.stdout, /--api_db|--cell-uuid|--config_file|--table_style/, help.stdout);
  t.regex(help.stdout, /--cell_uuid/);
  t.regex(help.stdout, /--api-db/);
  // Both spellings still parse (bad input after them, so that nothing connects).
  const hyphen = await runCli(['cell_v2', 'update_cell', '--cell-uuid', 'x', '--api_db', 'nonsense://']);
  t.is(hyphen.code, 127, hyphen.stderr);
  t.notRegex(hyphen.stderr, /Unknown argument|Missing required argument/, hyphen.stderr);
  // The spelling a flag is defined with wins where both are given; demandOption sees either.
  const missing = await runCli(['cell_v2', 'update_cell', '--api-db', 'nonsense://']);
  t.regex(missing.stderr, /Missing required argument: cell_uuid/);
});

test('global options are grouped, and a command shows only the groups it uses', async (t) => {
  const top = await runCli(['--help']);
  for (const heading of ['Database options:', 'Output options:', 'Migration options:', 'Mover options', 'Service group options:']) t.true(top.stdout.includes(heading), `${heading} in\n${top.stdout}`);
  const lint = await runCli(['schema', 'lint', '--help']);
  t.notRegex(lint.stdout, /--redis-url|--servicegroup-driver|--max-impact/, lint.stdout);
  t.regex(lint.stdout, /--json/);
  const service = await runCli(['service', 'list', '--help']);
  t.regex(service.stdout, /--redis-url/);
  t.notRegex(service.stdout, /--max-impact/);
  t.regex(service.stdout, /--host +Only the services on this host/);
  const odm = await runCli(['db', 'online_data_migrations', '--help']);
  t.regex(odm.stdout, /--max-impact/);
  t.regex(odm.stdout, /--max-count[\s\S]*this run/);
  // A hidden option still parses where its group is not shown.
  const hidden = await runCli(['schema', 'lint', '--servicegroup-driver', 'nonsense']);
  t.is(hidden.code, 127);
  t.regex(hidden.stderr, /servicegroup-driver/);
});

test("every command's help ends with its exit codes and an example", async (t) => {
  for (const path of Object.keys(COMMAND_HELP)) {
    const help = await runCli([...path.split(' '), '--help']);
    t.is(help.code, 0, path);
    t.regex(help.stdout, /Examples:\n +cellsdb /, `${path}:\n${help.stdout}`);
    t.regex(help.stdout, /Exit codes: 0 /, `${path}:\n${help.stdout}`);
  }
});

test('numeric global options are numbers in --help', async (t) => {
  const help = await runCli(['--help']);
  for (const o of GLOBAL_OPTIONS.filter((x) => x.type === 'number')) t.regex(help.stdout, new RegExp(`--${o.flag} [\\s\\S]*?\\[number\\]`), o.flag);
});

test('every global option has its CELLSDB_ variable, and it is read', async (t) => {
  for (const o of GLOBAL_OPTIONS) t.true(o.env.includes(envNameOf(o.flag)), o.flag);
  // A bad value from the environment is refused naming the variable: the variable was read.
  for (const [flag, bad] of [['lock-timeout', 'soon'], ['concurrency', '0'], ['table-style', 'round'], ['servicegroup-driver', 'zk'], ['json', 'maybe']] as const) {
    const name = envNameOf(flag);
    const r = await runCli(['cell_v2', 'list_cells'], { env: { [name]: bad } });
    t.is(r.code, 127, `${name}: ${r.stderr}`);
    t.true(r.stderr.includes(name) || r.stdout.includes(name), `${name}: ${r.stderr}${r.stdout}`);
  }
});

test('precedence: flag > environment > config file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsdb-precedence-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'nova.conf');
  writeFileSync(conf, '[api_database]\nconnection = postgresql://u@127.0.0.1:9/from_file\n');
  // Port 9 refuses at once: the error names the database that was chosen.
  const chosen = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli(['--json', '--config-file', conf, ...args, 'cell_v2', 'list_cells'], { env });
    return /from_(file|env|flag)/.exec(r.stdout)?.[1];
  };
  t.is(await chosen([]), 'file');
  t.is(await chosen([], { CELLSDB_API_DB: 'postgresql://u@127.0.0.1:9/from_env' }), 'env');
  t.is(await chosen(['--api-db', 'postgresql://u@127.0.0.1:9/from_flag'], { CELLSDB_API_DB: 'postgresql://u@127.0.0.1:9/from_env' }), 'flag');
});
