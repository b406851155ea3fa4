import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';
import { calledFunctionNames, captureQueries, plantShadows, readShadowRecord, type PlantedShadows } from '../support/shadowing.js';

// Issue 7 §1 "Tests" (a): every CLI command runs no function planted on the
// server's search_path. The function names come from the statements the CLI
// itself sends (captured from every pg.Client while the commands run, then
// parsed with libpg-query), not from a hand-written list. Then, in a fresh
// database where an attacker may create objects in `public`, a same-signature
// shadow and better-matching overloads of each are planted there, and every
// command runs again: nothing may be recorded.

const roles = new TestRoles();
const databases: TestDatabase[] = [];
let deployer: TestRole;
let app: TestRole;
let mallory: TestRole;

beforeAll(async () => {
  deployer = await roles.create('authdb_cli_shadow_deployer');
  app = await roles.create('authdb_cli_shadow_app');
  mallory = await roles.create('authdb_cli_shadow_mallory');
});

afterAll(async () => {
  await Promise.all(databases.map((d) => d.close()));
  await roles.dropAll([]);
});

/** A target database and a scratch database for verify-reversible, both open to `deployer` (and `public` to mallory). */
async function databasePair(): Promise<{ target: TestDatabase; scratch: TestDatabase }> {
  const pair = { target: await createEmptyDatabase(), scratch: await createEmptyDatabase() };
  for (const db of Object.values(pair)) {
    databases.push(db);
    await db.pool.query(`GRANT CREATE ON DATABASE ${db.name} TO ${deployer.name}; GRANT CREATE ON SCHEMA public TO ${mallory.name}`);
  }
  return pair;
}

/** Every command that talks to a database, as the migrating role unless noted, with its expected exit code. */
function commands(target: TestDatabase, scratch: TestDatabase): { readonly args: string[]; readonly code: number }[] {
  const url = deployer.urlFor(target.url);
  const auth = ['--schema', 'auth'];
  // A planted lock function that answers NULL would make a run wait for the lock: fail fast instead.
  const lock = ['--lock-timeout', '5s'];
  return [
    { args: ['migrate', 'up', '--dry-run', '--database-url', url, ...auth], code: 0 },
    { args: ['migrate', 'up', '--database-url', url, ...auth, ...lock], code: 0 },
    { args: ['migrate', 'status', '--database-url', url, ...auth], code: 0 },
    { args: ['migrate', 'validate', '--database-url', url, ...auth], code: 0 },
    { args: ['schema', 'check', '--database-url', url, ...auth], code: 0 },
    // A superuser checking the install (issue 7: a superuser's `schema check` gave a shell).
    { args: ['schema', 'check', '--database-url', target.url, ...auth, '--owner', deployer.name], code: 0 },
    { args: ['schema', 'dump', '--database-url', url, ...auth], code: 0 },
    { args: ['codegen', '--check', '--out', 'src/client/database-types.ts', '--database-url', url, ...auth], code: 0 },
    { args: ['grant', '--role', app.name, '--maintenance', '--database-url', url, ...auth], code: 0 },
    { args: ['grant', '--role', app.name, '--maintenance', '--revoke', '--database-url', url, ...auth], code: 0 },
    { args: ['migrate', 'verify-reversible', '--database-url', url, ...auth, '--scratch-url', deployer.urlFor(scratch.url)], code: 0 },
    { args: ['migrate', 'down', '--all', '--dry-run', '--database-url', url, ...auth], code: 0 },
    { args: ['migrate', 'down', '--all', '--database-url', url, ...auth, ...lock], code: 0 },
    { args: ['migrate', 'up', '--database-url', url, ...auth, ...lock], code: 0 },
  ];
}

async function runAll(target: TestDatabase, scratch: TestDatabase): Promise<void> {
  for (const { args, code } of commands(target, scratch)) {
    const result = await runMain(args);
    expect(result.code, `authdb ${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(code);
  }
}

// Generous limit: every CLI command run as a process, one after the other, takes far longer on a shared, loaded machine (or a 2-core CI) than on a quiet one.
describe('CLI commands under planted shadows and overloads', { timeout: 180_000 }, () => {
  let names: Set<string>;
  let shadows: PlantedShadows[];

  it('collects the functions every command calls from the statements it sends', async () => {
    const { target, scratch } = await databasePair();
    const capture = captureQueries();
    try {
      await runAll(target, scratch);
    } finally {
      capture.stop();
    }
    names = new Set();
    for (const query of new Set(capture.queries)) for (const name of await calledFunctionNames(query)) names.add(name);
    // Catalog functions of schema check and the lock functions of migrate up among them.
    for (const expected of ['pg_try_advisory_lock', 'pg_advisory_unlock', 'obj_description', 'aclexplode', 'to_regclass', 'pg_get_function_arguments']) {
      expect(names).toContain(expected);
    }
  });

  it('runs every command with a shadow and overloads of each planted in public: nothing is recorded', async () => {
    const { target, scratch } = await databasePair();
    shadows = [];
    for (const db of [target, scratch]) {
      const attacker = new pg.Client({ connectionString: mallory.urlFor(db.url) });
      await attacker.connect();
      try {
        shadows.push(await plantShadows({ client: attacker, schema: 'public', names }));
      } finally {
        await attacker.end();
      }
    }
    const planted = shadows[0]?.planted.join('\n') ?? '';
    for (const expected of ['public.pg_try_advisory_lock(text, text)', 'public.obj_description(oid, text)', 'public.unnest(smallint[])']) {
      expect(planted).toContain(expected);
    }
    await runAll(target, scratch);
    for (const db of [target, scratch]) {
      const admin = await db.pool.connect();
      try {
        const record = await readShadowRecord(admin, 'public');
        expect({ counted: record.counted, calls: record.calls }).toEqual({ counted: [], calls: [] });
      } finally {
        admin.release();
      }
    }
  });
});
