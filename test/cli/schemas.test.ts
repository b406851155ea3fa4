import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { dumpSchema, listObjects } from '../support/catalog.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';

// --schema installs authdb into any schema; two schemas of one database hold
// independent installs.

let db: TestDatabase;

beforeAll(async () => {
  db = await createEmptyDatabase();
});

afterAll(async () => {
  await db.close();
});

async function count(table: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]?.n ?? -1;
}

describe('--schema', () => {
  it('installs into the named schema only, and two schemas hold independent, identical installs', async () => {
    for (const schema of ['auth', 'tenant_b']) {
      // The second is deliberate.
      const result = await runMain(['migrate', 'up', '--database-url', db.url, '--schema', schema, '--allow-second-install']);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`(schema "${schema}")`);
    }

    const objects = await listObjects(db.pool);
    expect(objects.filter((o) => o.startsWith('relation public.'))).toEqual([]);
    for (const schema of ['auth', 'tenant_b']) {
      expect(objects).toContain(`relation ${schema}.users`);
      expect(objects).toContain(`relation ${schema}.authdb_migrations`);
      const status = await runMain(['migrate', 'status', '--json', '--database-url', db.url, '--schema', schema]);
      expect((JSON.parse(status.stdout) as { state: string }[]).every((s) => s.state === 'applied')).toBe(true);
    }
    // Same objects, apart from the schema name.
    const normalized = async (schema: string): Promise<string[]> =>
      (await dumpSchema(db.pool, schema))
        .filter((line) => !line.startsWith('extension '))
        .map((line) => line.replaceAll(`'${schema}', 'auth', 'pg_temp'`, `'${schema}', 'pg_temp'`).replace(new RegExp(`\\b${schema}\\b`, 'g'), 'S'));
    expect(await normalized('tenant_b')).toEqual(await normalized('auth'));

    const { rows } = await db.pool.query<{ outcome: string }>(`SELECT outcome FROM auth.register_user_with_token('a@b.co')`);
    expect(rows).toEqual([{ outcome: 'created' }]);
    expect(await count('auth.users')).toBe(1);
    expect(await count('tenant_b.users')).toBe(0);
    expect(await count('tenant_b.email_verification_tokens')).toBe(0);

    const other = await db.pool.query<{ outcome: string }>(`SELECT outcome FROM tenant_b.register_user_with_token('a@b.co')`);
    expect(other.rows).toEqual([{ outcome: 'created' }]);
    expect(await count('auth.users')).toBe(1);
    expect(await count('tenant_b.users')).toBe(1);
  });

  it('reverting one install leaves the other intact', async () => {
    // tenant_b holds a user: dropping it is deliberate.
    expect((await runMain(['migrate', 'down', '--all', '--force', '--database-url', db.url, '--schema', 'tenant_b'])).code).toBe(0);
    const objects = await listObjects(db.pool);
    expect(objects).not.toContain('relation tenant_b.users');
    expect(objects).toContain('relation auth.users');
    expect(await count('auth.users')).toBe(1);
    const { rows } = await db.pool.query<{ outcome: string }>(`SELECT outcome FROM auth.register_user_with_token('c@d.co')`);
    expect(rows).toEqual([{ outcome: 'created' }]);
  });
});
