import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { createTempDir, writeMigrations, type TempDir } from '../support/migration-fixtures.js';

// One configuration: authdb.config.json (or --config FILE), the AUTHDB_*
// variables and the flags, resolved flag > env > file > default by one module;
// a bad file is refused with every problem listed.

let project: TempDir;

beforeAll(async () => {
  project = await createTempDir('authdb-config-');
  await writeFile(join(project.path, 'authdb.config.json'), JSON.stringify({ schema: 'from_file', migrationsDir: 'db/migrations', typesOut: 'gen/types.ts' }));
});

afterAll(async () => {
  await project.remove();
});

async function configJson(args: readonly string[], env: Record<string, string> = {}): Promise<Record<string, { value: string; source: string }>> {
  const result = await runCli(['config', '--json', ...args], { cwd: project.path, env });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { settings: Record<string, { value: string; source: string }> }).settings;
}

describe('authdb config', () => {
  it('resolves schema flag > env > file > default', async () => {
    const file = join(project.path, 'authdb.config.json');
    expect((await configJson([])).schema).toEqual({ value: 'from_file', source: `file ${file}` });
    expect((await configJson([], { AUTHDB_SCHEMA: 'from_env' })).schema).toEqual({ value: 'from_env', source: 'env AUTHDB_SCHEMA' });
    expect((await configJson(['--schema', 'from_flag'], { AUTHDB_SCHEMA: 'from_env' })).schema).toEqual({ value: 'from_flag', source: 'flag --schema' });
    const empty = await createTempDir('authdb-config-none-');
    try {
      const result = await runCli(['config', '--json'], { cwd: empty.path });
      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as { settings: Record<string, unknown> }).settings.schema).toEqual({ value: 'public', source: 'default' });
    } finally {
      await empty.remove();
    }
  });

  it('resolves relative paths of the file against its directory, and prints every value with its source', async () => {
    const file = join(project.path, 'authdb.config.json');
    const result = await runCli(['config'], { cwd: project.path, env: { AUTHDB_EMBEDDED_DIR: '/srv/authdb' } });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(`schema         from_file  (file ${file})`);
    expect(lines[1]).toBe(`migrationsDir  ${join(project.path, 'db/migrations')}  (file ${file})`);
    expect(lines[2]).toBe('appMigrations  (none)  (default)');
    expect(lines[3]).toBe('embeddedDir    /srv/authdb  (env AUTHDB_EMBEDDED_DIR)');
    expect(lines[4]).toMatch(/^contract {7}\S+schema\/contract\.json {2}\(default\)$/);
    expect(lines[5]).toBe(`typesOut       ${join(project.path, 'gen/types.ts')}  (file ${file})`);
  });

  it('--config FILE names another file, and a named file that does not exist is an error', async () => {
    await mkdir(join(project.path, 'conf'), { recursive: true });
    await writeFile(join(project.path, 'conf', 'other.json'), JSON.stringify({ contract: 'c.json' }));
    const settings = await configJson(['--config', 'conf/other.json']);
    expect(settings.contract).toEqual({ value: join(project.path, 'conf', 'c.json'), source: `file ${join(project.path, 'conf', 'other.json')}` });
    expect(settings.schema).toEqual({ value: 'public', source: 'default' });
    const missing = await runCli(['migrate', 'status', '--config', 'missing.json'], { cwd: project.path });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(project.path, 'missing.json')} is not a valid authdb configuration`);
    expect(missing.stderr).toContain('[AUTHDB_CONFIG]');
  });

  it('appMigrations: one directory or a list of named ones, resolved against the file; a bad entry is refused', async () => {
    await writeFile(join(project.path, 'conf-app.json'), JSON.stringify({ appMigrations: ['app=db/app', 'billing=../billing/migrations'] }));
    const settings = await configJson(['--config', 'conf-app.json']);
    expect(settings.appMigrations).toEqual({
      value: `app=${join(project.path, 'db/app')},billing=${join(project.path, '..', 'billing/migrations')}`,
      source: `file ${join(project.path, 'conf-app.json')}`,
    });
    await writeFile(join(project.path, 'conf-app.json'), JSON.stringify({ appMigrations: ['db/a', 'db/b'] }));
    const unnamed = await runCli(['config', '--config', 'conf-app.json'], { cwd: project.path });
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain('with several application directories, name each one');
    await writeFile(join(project.path, 'conf-app.json'), JSON.stringify({ appMigrations: [] }));
    const empty = await runCli(['config', '--config', 'conf-app.json'], { cwd: project.path });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('"appMigrations": must be "[NAME=]DIR" or a list of them, not []');
  });

  it('refuses unknown keys and wrong types, listing every problem, before any command runs', async () => {
    const bad = join(project.path, 'bad.json');
    await writeFile(bad, JSON.stringify({ schema: 42, migrationDir: 'x', embeddedDir: '', contract: 'ok.json' }));
    for (const args of [['config'], ['migrate', 'up'], ['lint']]) {
      const result = await runCli([...args, '--config', 'bad.json'], { cwd: project.path });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`${bad} is not a valid authdb configuration; fix or remove it:`);
      expect(result.stderr).toContain('"schema": must be a non-empty string, not 42');
      expect(result.stderr).toContain('"migrationDir": unknown key (known: schema, migrationsDir, appMigrations, embeddedDir, contract, typesOut)');
      expect(result.stderr).toContain('"embeddedDir": must be a non-empty string, not ""');
      expect(result.stderr).not.toContain('"contract"');
      expect(result.stderr).toContain('[AUTHDB_CONFIG]');
    }
    await writeFile(bad, '[1]');
    const notObject = await runCli(['config', '--config', 'bad.json'], { cwd: project.path });
    expect(notObject.code).toBe(1);
    expect(notObject.stderr).toContain('the file must hold one JSON object');
  });
});

describe('a command run with the configuration file', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createEmptyDatabase();
    await mkdir(join(project.path, 'db/migrations'), { recursive: true });
    await writeMigrations(join(project.path, 'db/migrations'), { '20260101000001_app': { up: 'CREATE TABLE app_t (id int);\n', down: 'DROP TABLE app_t;\n' } });
  });
  afterAll(async () => {
    await db.close();
  });

  it('migrate up installs into the schema and from the migrations directory the file names', async () => {
    const result = await runCli(['migrate', 'up'], { cwd: project.path, env: { DATABASE_URL: db.url } });
    expect(result.stderr).toContain('applied 1 migration(s) (schema "from_file")');
    expect(result.code).toBe(0);
    const { rows } = await db.pool.query<{ schema: string; name: string }>(
      "SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname IN ('app_t', 'authdb_migrations') ORDER BY 2",
    );
    expect(rows).toEqual([
      { schema: 'from_file', name: 'app_t' },
      { schema: 'from_file', name: 'authdb_migrations' },
    ]);
    const status = await runCli(['migrate', 'status', '--schema', 'public'], { cwd: project.path, env: { DATABASE_URL: db.url } });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('pending');
  });
});
