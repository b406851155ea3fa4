import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb } from '../../src/index.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';

// Issue 7 §1, reproduced on the code before this change: a function planted in
// `public` (on the server's default search_path) ran inside authdb's own
// sessions — `public.pg_try_advisory_lock(text, text)` as the migrating role
// during `migrate up --schema auth`, `public.obj_description(oid, text)` as
// whoever ran `schema check`. authdb's sessions now use
// `search_path = pg_catalog, pg_temp`, qualify catalog functions and type
// every parameter; the typed client's reads qualify functions and operators.

const roles = new TestRoles();
let db: TestDatabase;
let deployer: TestRole;
let mallory: TestRole;

/** Records who ran a planted function; INSERT is open to every role, as an attacker would make it. */
const RECORDER = `
  CREATE TABLE public.planted_calls (fn text NOT NULL, called_by name NOT NULL);
  GRANT INSERT, SELECT ON public.planted_calls TO PUBLIC;`;

beforeAll(async () => {
  deployer = await roles.create('authdb_path_deployer');
  mallory = await roles.create('authdb_path_mallory');
  db = await createEmptyDatabase();
  // What PostgreSQL 14 allows every role by default.
  await db.pool.query(`GRANT CREATE ON DATABASE ${db.name} TO ${deployer.name}; GRANT CREATE ON SCHEMA public TO ${mallory.name}`);
  await asMallory(`${RECORDER}
    CREATE FUNCTION public.pg_try_advisory_lock(text, text) RETURNS boolean LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('pg_try_advisory_lock', current_user) RETURNING true $$;
    CREATE FUNCTION public.pg_advisory_unlock(text, text) RETURNS boolean LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('pg_advisory_unlock', current_user) RETURNING true $$;
    CREATE FUNCTION public.obj_description(oid, text) RETURNS text LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('obj_description', current_user) RETURNING NULL::text $$;
    CREATE FUNCTION public.to_regclass(text) RETURNS regclass LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('to_regclass', current_user) RETURNING NULL::regclass $$;
    CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('lower', current_user) RETURNING $1 $$;
    CREATE FUNCTION public.planted_eq(text, text) RETURNS boolean LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('=', current_user) RETURNING $1 OPERATOR(pg_catalog.=) $2 $$;
    CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.planted_eq);
    CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql
      AS $$ INSERT INTO public.planted_calls VALUES ('now', current_user) RETURNING pg_catalog.now() $$;`);
});

afterAll(async () => {
  await db.close();
  await roles.dropAll([]);
});

async function asMallory(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: mallory.urlFor(db.url) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function recorded(): Promise<string[]> {
  const { rows } = await db.pool.query<{ line: string }>(`SELECT fn || ' as ' || called_by AS line FROM public.planted_calls ORDER BY 1`);
  await db.pool.query('TRUNCATE public.planted_calls');
  return rows.map((r) => r.line);
}

describe("authdb's own sessions ignore functions planted on the server's search_path", () => {
  it('migrate up --schema auth runs no planted pg_try_advisory_lock(text, text) as the migrating role', async () => {
    const url = deployer.urlFor(db.url);
    const result = await runMain(['migrate', 'up', '--database-url', url, '--schema', 'auth']);
    expect(result.stderr).toContain('applied 6 migration(s)');
    expect(result.code).toBe(0);
    expect(await recorded()).toEqual([]);
  });

  it('schema check, migrate status and validate run no planted obj_description(oid, text) or to_regclass(text), even as a superuser', async () => {
    for (const args of [
      ['schema', 'check', '--owner', deployer.name],
      ['migrate', 'status', '--owner', deployer.name],
      ['migrate', 'validate', '--owner', deployer.name],
    ]) {
      const result = await runMain([...args, '--database-url', db.url, '--schema', 'auth']);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
    }
    expect(await recorded()).toEqual([]);
  });

  it("the typed client's reads run no planted function or operator, even with public first on the application's search_path", async () => {
    const pool = new pg.Pool({ connectionString: db.url, options: '-c search_path=public,pg_catalog' });
    await pool.query(`GRANT USAGE ON SCHEMA auth TO PUBLIC`);
    const authDb = createAuthDb({ connection: pool, schema: 'auth' });
    try {
      const { userId } = await authDb.registerUser({ email: 'reader@example.com' });
      await recorded(); // the SQL functions' bodies are the SQL engineer's part of issue 7
      expect(await authDb.findUserByEmail(' Reader@Example.com ')).toMatchObject({ id: userId });
      expect(await authDb.listOutstandingTokens(userId)).toHaveLength(1);
      expect(await recorded()).toEqual([]);
    } finally {
      await authDb.destroy();
      await pool.end();
    }
  });
});
