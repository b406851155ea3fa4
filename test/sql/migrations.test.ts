// The migration files themselves: every down file reverts exactly its up
// file (up -> down -> up gives an identical schema at every step), and the
// files install into any schema, several times per database.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator } from '../../src/migrate/migrator.js';
import { shippedMigrationNames } from '../support/migration-fixtures.js';
import { createEmptyDatabase, createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { register, single, uniqueEmail, verify } from './helpers.js';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createEmptyDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await db.close();
});

/**
 * Everything authdb defines in `schema`, as comparable lines: relations,
 * columns, constraints, indexes, triggers, functions (with privileges and
 * comments), sequences and the seeded roles. The engine's tracking table and
 * extension members are left out. Functions' search_path settings are
 * returned separately (they name the schema).
 */
async function fingerprint(c: pg.Client, schema: string): Promise<{ objects: string[]; searchPaths: string[] }> {
  await c.query(`SET search_path TO ${c.escapeIdentifier(schema)}`);
  const queries = [
    `SELECT 'relation', c.relname, c.relkind, c.relacl::text, obj_description(c.oid, 'pg_class')
       FROM pg_class AS c WHERE c.relnamespace = $1::regnamespace AND c.relname NOT LIKE 'authdb\\_migrations%' ORDER BY 2`,
    `SELECT 'column', c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
            pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum), a.attacl::text
       FROM pg_class AS c
       JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'v', 'i') AND c.relname NOT LIKE 'authdb\\_migrations%'
      ORDER BY 2, 3`,
    `SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid), obj_description(oid, 'pg_constraint')
       FROM pg_constraint WHERE connamespace = $1::regnamespace AND conrelid::regclass::text NOT LIKE 'authdb\\_migrations%' ORDER BY 2, 3`,
    `SELECT 'index', pg_get_indexdef(i.indexrelid)
       FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid
      WHERE c.relnamespace = $1::regnamespace AND c.relname NOT LIKE 'authdb\\_migrations%' ORDER BY 2`,
    `SELECT 'trigger', t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
       FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
      WHERE c.relnamespace = $1::regnamespace AND NOT t.tgisinternal ORDER BY 2`,
    `SELECT 'function', p.oid::regprocedure::text, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
            p.prosecdef, p.provolatile, p.proisstrict, p.proacl::text, p.prosrc, obj_description(p.oid, 'pg_proc')
       FROM pg_proc AS p
      WHERE p.pronamespace = $1::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 2`,
    `SELECT 'sequence', s.seqrelid::regclass::text, s.seqtypid::regtype::text, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
       FROM pg_sequence AS s JOIN pg_class AS c ON c.oid = s.seqrelid WHERE c.relnamespace = $1::regnamespace ORDER BY 2`,
  ];
  const objects: string[] = [];
  for (const sql of queries) {
    const { rows } = await c.query({ text: sql, values: [schema], rowMode: 'array' });
    // pg_get_indexdef / pg_get_triggerdef always qualify the table.
    objects.push(...rows.map((row) => JSON.stringify(row).replaceAll(` ${schema}.`, ' <schema>.')));
  }
  const { rows: roles } = await c.query<{ exists: boolean }>("SELECT to_regclass('roles') IS NOT NULL AS exists");
  if (single(roles).exists) {
    const { rows } = await c.query({ text: 'SELECT name, description, self_assignable FROM roles ORDER BY name', rowMode: 'array' });
    objects.push(...rows.map((row) => JSON.stringify(['role', ...(row as unknown[])])));
  }
  const { rows: paths } = await c.query<{ line: string }>(
    // A function without settings must be an inlinable SQL helper with a
    // standard body (bound to its objects at CREATE; see migration 4).
    `SELECT p.proname || ': ' || coalesce(array_to_string(p.proconfig, ' | '),
                                          CASE WHEN p.prosqlbody IS NOT NULL THEN '(standard SQL body)' END, '(no settings)') AS line
       FROM pg_proc AS p
      WHERE p.pronamespace = $1::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [schema],
  );
  await c.query('RESET search_path');
  return { objects, searchPaths: paths.map((p) => p.line) };
}

describe('up and down', () => {
  it('up -> down -> up gives an identical schema after every single step', async () => {
    const migrator = new Migrator({ client });
    const names = (await migrator.status()).map((s) => s.name);
    expect(names).toEqual(shippedMigrationNames());
    expect(names.slice(0, 4)).toEqual([
      '20261125000001_roles',
      '20261125000002_users',
      '20261125000003_email_verification_tokens',
      '20261125000004_registration_functions',
    ]);

    const states = [await fingerprint(client, 'public')];
    for (const name of names) {
      await migrator.up({ to: name });
      states.push(await fingerprint(client, 'public'));
    }
    // Every step changes something.
    for (let i = 1; i < states.length; i += 1) expect(states[i]).not.toEqual(states[i - 1]);

    for (let i = names.length - 1; i >= 0; i -= 1) {
      await migrator.down({ target: { steps: 1 } });
      expect(await fingerprint(client, 'public')).toEqual(states[i]);
    }

    // authdb creates no extension and no schema of its own.
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_extension WHERE extname <> 'plpgsql'");
    expect(single(rows).n).toBe('0');

    await migrator.up();
    expect(await fingerprint(client, 'public')).toEqual(states.at(-1));
  });
});

describe('schemas', () => {
  it('a second install in another schema of the same database is independent', async () => {
    await new Migrator({ client }).up();
    await new Migrator({ client, schema: 'tenant_b' }).up();

    const pub = await fingerprint(client, 'public');
    const tenant = await fingerprint(client, 'tenant_b');
    expect(tenant.objects).toEqual(pub.objects);
    for (const line of tenant.searchPaths) expect(line).toMatch(/: (search_path=tenant_b, pg_temp( \| plan_cache_mode=force_generic_plan)?|\(standard SQL body\))$/);

    // Same address in both installs: two different users.
    const email = uniqueEmail('tenant');
    const a = single((await client.query<{ user_id: string; outcome: string }>('SELECT * FROM public.register_user_with_token($1)', [email])).rows);
    await client.query('SET search_path TO pg_catalog'); // the functions do not rely on the caller's path
    const b = single((await client.query<{ user_id: string; outcome: string }>('SELECT * FROM tenant_b.register_user_with_token($1)', [email])).rows);
    await client.query('RESET search_path');
    expect([a.outcome, b.outcome]).toEqual(['created', 'created']);
    expect(a.user_id).not.toBe(b.user_id);
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM tenant_b.users WHERE id = $1', [b.user_id]);
    expect(single(rows).n).toBe('1');

    // Reverting one install leaves the other intact; so does dropping the
    // first install's schema outright.
    await new Migrator({ client, schema: 'tenant_b' }).down({ target: { all: true }, force: true });
    expect((await fingerprint(client, 'tenant_b')).objects).toEqual([]);
    expect((await fingerprint(client, 'public')).objects).toEqual(pub.objects);

    await new Migrator({ client, schema: 'tenant_b' }).up();
    await client.query('DROP SCHEMA tenant_b CASCADE');
    const again = await client.query<{ outcome: string }>('SELECT outcome FROM public.register_user_with_token($1)', [uniqueEmail('after-drop')]);
    expect(single(again.rows).outcome).toBe('created');
  });

  it('a fresh database migrated into a non-public schema works end to end', async () => {
    const auth = await createMigratedDatabase({ schema: 'auth' });
    try {
      const { rows } = await auth.pool.query<{ config: string[] }>(
        "SELECT proconfig AS config FROM pg_proc WHERE oid = 'auth.verify_email(text, text, text)'::regprocedure",
      );
      expect(single(rows).config).toEqual(['search_path=auth, pg_temp', 'plan_cache_mode=force_generic_plan']);
      const c = await auth.pool.connect();
      try {
        await c.query('SET search_path TO auth');
        const reg = await register(c, uniqueEmail('auth'));
        expect(await verify(c, reg.token)).toBe(reg.user_id);
      } finally {
        c.release();
      }
    } finally {
      await auth.close();
    }
  });
});
