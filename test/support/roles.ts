import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseUrl } from './database.js';

/** A login role created for one test file (roles are cluster-wide: the name is random). */
export interface TestRole {
  readonly name: string;
  /** URL of `database` (a URL on the test server) as this role. */
  urlFor(database: string): string;
}

/** Creates and drops cluster-wide test roles as the test server's superuser. */
export class TestRoles {
  readonly #created: string[] = [];

  /** A LOGIN role `<prefix>_<random>`; `attributes` such as `CREATEDB` are added to CREATE ROLE. */
  async create(prefix: string, attributes = ''): Promise<TestRole> {
    const name = `${prefix}_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await adminQuery(`CREATE ROLE ${name} LOGIN PASSWORD '${password}' ${attributes}`);
    this.#created.push(name);
    return {
      name,
      urlFor: (database: string) => {
        const url = new URL(database);
        url.username = name;
        url.password = password;
        return url.toString();
      },
    };
  }

  /** Drops every role this instance created, with whatever they own in `databases`. */
  async dropAll(databases: readonly string[]): Promise<void> {
    for (const url of databases) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const role of this.#created) await client.query(`DROP OWNED BY ${role} CASCADE`);
      } finally {
        await client.end();
      }
    }
    for (const role of this.#created) await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  }
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** The SQLSTATE `sql` fails with when run as `role` on the database at `databaseUrlOf`, or undefined when it succeeds. */
export async function sqlstateAs(databaseUrlOf: string, role: TestRole, sql: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: role.urlFor(databaseUrlOf) });
  await client.connect();
  try {
    await client.query(sql);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    await client.end();
  }
}
