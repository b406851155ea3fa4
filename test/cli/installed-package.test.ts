// authdb installed in a consumer's project (a real copy under
// node_modules/pg-authdb, not a link): nothing it writes lands inside the
// installed package. Runs the copied `dist/cli/main.js` as a child process,
// from the project directory, against real PostgreSQL.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, type CliResult } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = 'pg-authdb';

let project: string;
let installed: string;
let fresh: TestDatabase;
let drifted: TestDatabase;

beforeAll(async () => {
  [fresh, drifted] = await Promise.all([createMigratedDatabase(), createMigratedDatabase()]);
  await drifted.pool.query('ALTER TABLE users ADD COLUMN nickname text');
  project = await mkdtemp(join(tmpdir(), 'authdb-consumer-'));
  installed = join(project, 'node_modules', PACKAGE);
  // The package as npm installs it (what `files` ships), and its dependencies beside it.
  await mkdir(installed, { recursive: true });
  for (const entry of ['package.json', 'dist', 'migrations', 'schema']) await cp(join(ROOT, entry), join(installed, entry), { recursive: true });
  for (const dependency of await readdir(join(ROOT, 'node_modules'))) {
    if (dependency !== PACKAGE && !dependency.startsWith('.')) await symlink(join(ROOT, 'node_modules', dependency), join(project, 'node_modules', dependency));
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
});

afterAll(async () => {
  await Promise.all([fresh.close(), drifted.close()]);
  await rm(project, { recursive: true, force: true });
});

/** `npx authdb …` in the project: the installed package's CLI, from the project directory. */
async function authdb(...args: string[]): Promise<CliResult> {
  return promisify(execFile)(process.execPath, [join(installed, 'dist', 'cli', 'main.js'), ...args], { cwd: project, env: cleanEnv() }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: unknown) => {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    },
  );
}

/** Every file under the installed package, with its contents. */
async function packageFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(installed, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name), await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return files;
}

describe('authdb installed in node_modules', { timeout: 180_000 }, () => {
  it('migrate create refuses to write into the installed package, and writes into the project with --migrations-dir or --app-migrations', async () => {
    const before = await packageFiles();
    const refused = await authdb('migrate', 'create', 'add_profiles');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to write the new migration pair to ${join(installed, 'migrations')}: it is inside node_modules`);
    expect(refused.stderr).toContain('pass --app-migrations DIR with a directory of your project, such as db/migrations');
    expect(refused.stderr).toContain('[AUTHDB_INSIDE_PACKAGE]');
    expect(await packageFiles()).toEqual(before);

    const created = await authdb('migrate', 'create', 'add_profiles', '--migrations-dir', 'db/migrations');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^db\/migrations\/\d{14}_add_profiles\.up\.sql\ndb\/migrations\/\d{14}_add_profiles\.down\.sql\n$/);
    expect((await readdir(join(project, 'db', 'migrations'))).length).toBe(2);
    const app = await authdb('migrate', 'create', 'add_bios', '--app-migrations', 'app=db/migrations');
    expect(app.code).toBe(0);
    expect(app.stdout).toMatch(/^db\/migrations\/\d{14}_add_bios\.up\.sql\n/);
    expect(await packageFiles()).toEqual(before);
  });

  it('codegen writes its default file into the project, and --check reads that file', async () => {
    const before = await packageFiles();
    const written = await authdb('codegen', '--database-url', fresh.url);
    expect(written.stderr).toContain('wrote src/authdb/database-types.ts from schema "public"');
    expect(written.code).toBe(0);
    expect(await readFile(join(project, 'src', 'authdb', 'database-types.ts'), 'utf8')).toBe(await readFile(join(ROOT, 'src', 'client', 'database-types.ts'), 'utf8'));
    const check = await authdb('codegen', '--check', '--database-url', fresh.url);
    expect(check.stderr).toContain('src/authdb/database-types.ts is up to date');
    expect(check.code).toBe(0);
    expect(await packageFiles()).toEqual(before);

    const inside = await authdb('codegen', '--database-url', fresh.url, '--out', `node_modules/${PACKAGE}/src/client/database-types.ts`);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toContain('refusing to write the generated types');
    expect(await packageFiles()).toEqual(before);
  });

  it('schema check against the shipped contract: the drift hint dumps into the project; schema dump refuses node_modules', async () => {
    const before = await packageFiles();
    const equal = await authdb('schema', 'check', '--database-url', fresh.url);
    expect(equal.code).toBe(0);
    const drift = await authdb('schema', 'check', '--database-url', drifted.url);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('  authdb schema dump --out authdb-contract.json\n');
    expect(drift.stdout).toContain('and check against that file from then on (--contract authdb-contract.json)');
    expect(drift.stdout).not.toMatch(/schema dump --out \S*node_modules/);

    const inside = await authdb('schema', 'dump', '--database-url', fresh.url, '--out', join(installed, 'schema', 'contract.json'));
    expect(inside.code).toBe(1);
    expect(inside.stderr).toContain('refusing to write the contract');
    const dumped = await authdb('schema', 'dump', '--database-url', fresh.url, '--out', 'contract.json');
    expect(dumped.code).toBe(0);
    expect(await readFile(join(project, 'contract.json'), 'utf8')).toBe(await readFile(join(ROOT, 'schema', 'contract.json'), 'utf8'));
    expect(await packageFiles()).toEqual(before);
  });
});
