// README.md's "Use from TypeScript" examples cannot rot: every ```ts block whose first
// line is `// NAME.ts` is extracted, compiled as a consumer would compile it
// (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, importing
// 'pg-authdb' through node_modules — the built package, npm test builds first),
// and run against a freshly migrated test database.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runMain } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles } from '../support/roles.js';
import { uniqueEmail } from './helpers.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'README.md');

/** The named TypeScript blocks of a Markdown document, by file name. */
export function namedTypeScriptBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(/^```ts\n\/\/ ([\w.-]+\.ts)\n([\s\S]*?)^```$/gm)) {
    const [, name = '', body = ''] = match;
    blocks.set(name, `// ${name}\n${body}`);
  }
  return blocks;
}

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createMigratedDatabase();
  dir = await mkdtemp(join(tmpdir(), 'authdb-docs-'));
  // A consumer project: authdb installed (linked) in node_modules.
  await mkdir(join(dir, 'node_modules'));
  await symlink(ROOT, join(dir, 'node_modules', 'pg-authdb'), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'docs-example', private: true, type: 'module' }));
  const blocks = namedTypeScriptBlocks(await readFile(DOC, 'utf8'));
  for (const [name, source] of blocks) await writeFile(join(dir, name), source);
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        noFallthroughCasesInSwitch: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        outDir: '.',
      },
      files: [...blocks.keys()],
    }),
  );
});

afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

// Generous limit: tsc and the examples' processes on a shared, loaded machine (or a 2-core CI) take far longer than on a quiet one.
describe('README.md, Use from TypeScript', { timeout: 180_000 }, () => {
  it('has the complete example and the non-enumeration recipe as named blocks', async () => {
    expect([...namedTypeScriptBlocks(await readFile(DOC, 'utf8')).keys()]).toEqual(['register.ts', 'sign-up.ts']);
  });

  it('compiles its examples with tsc, importing the built package as "pg-authdb"', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', dir]).catch((error: unknown) => error as { stdout: string; code: number });
    expect('code' in result ? result.stdout : '').toBe('');
  });

  it('register.ts runs as an application role given only `authdb grant` and prints what the docs say', async () => {
    const roles = new TestRoles();
    try {
      const app = await roles.create('authdb_docs_app');
      expect((await runMain(['grant', '--role', app.name, '--database-url', db.url])).code).toBe(0);
      const { stdout } = await run(process.execPath, [join(dir, 'register.js')], { env: cleanEnv({ DATABASE_URL: app.urlFor(db.url) }) });
      expect(stdout).toMatch(
        /^created user [0-9a-f-]{36}; token valid until \d{4}-.*Z\nverified [0-9a-f-]{36}: signed in\nAU001 EmailAlreadyRegisteredError: answer with HTTP 409\n$/,
      );
    } finally {
      await roles.dropAll([db.url]);
    }
  });

  it('register.ts explains what to do without DATABASE_URL', async () => {
    const failure = (await run(process.execPath, [join(dir, 'register.js')], { env: cleanEnv() }).catch((error: unknown) => error)) as { stderr: string };
    expect(failure.stderr).toContain('Set DATABASE_URL first: export DATABASE_URL="$(npx authdb db url)"');
  });

  it('sign-up.ts answers identically for a new, an unconfirmed and a confirmed address', async () => {
    interface Mail {
      readonly to: string;
      readonly template: string;
      readonly token?: string;
    }
    // The same module instances the compiled example uses: node_modules/pg-authdb → this repository's dist/.
    const authdb = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as typeof import('../../src/index.js');
    const recipe = (await import(pathToFileURL(join(dir, 'sign-up.js')).href)) as {
      signUp(authDb: unknown, mail: { enqueue(mail: Mail): Promise<void> }, email: string, password: string): Promise<unknown>;
      SIGN_UP_ACCEPTED: unknown;
    };
    const sent: Mail[] = [];
    const queue = { enqueue: (mail: Mail) => Promise.resolve(void sent.push(mail)) };
    const authDb = authdb.createAuthDb({ connection: db.pool });
    const email = uniqueEmail('kate');
    // Typed with a Kelvin sign and capitals: the verification mail goes to the address as stored.
    const typed = `\u212A${email.slice(1).toUpperCase()}`;

    expect(await recipe.signUp(authDb, queue, typed, 'pw')).toBe(recipe.SIGN_UP_ACCEPTED); // new
    expect(await recipe.signUp(authDb, queue, email, 'pw')).toBe(recipe.SIGN_UP_ACCEPTED); // unconfirmed, too soon
    expect(sent).toEqual([{ to: email, template: 'verify-email', token: expect.any(String) as string }]);
    await authDb.verifyEmail(sent[0]?.token ?? '');
    expect(await recipe.signUp(authDb, queue, email, 'pw')).toBe(recipe.SIGN_UP_ACCEPTED); // confirmed
    expect(sent.slice(1)).toEqual([{ to: email, template: 'already-registered' }]);
    await expect(recipe.signUp(authDb, queue, 'not an address', 'pw')).rejects.toBeInstanceOf(authdb.InvalidEmailError);
  });
});
