import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkContract, DEFAULT_CONTRACT_FILE, readContractFile } from '../../src/contract/check.js';
import { runMain } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';

// The contract records the target schema's owner (<owner>) and privileges, so
// a later GRANT on the schema is drift.

const roles = new TestRoles();
let db: TestDatabase;
let other: TestRole;

beforeAll(async () => {
  db = await createMigratedDatabase();
  other = await roles.create('authdb_schema_entry');
});

afterAll(async () => {
  await db.close();
  await roles.dropAll([]);
});

describe('the schema entry of the contract', () => {
  it('is <owner> with ALL in the committed contract, and a public install matches it', async () => {
    const contract = await readContractFile(DEFAULT_CONTRACT_FILE);
    expect(contract.objects['schema <schema>']).toEqual({ owner: '<owner>', grants: {} });
    const result = await runMain(['schema', 'check', '--database-url', db.url]);
    expect(result.code).toBe(0);
  });

  it('reports GRANT CREATE ON SCHEMA … TO … as drift (and the CLI refuses the schema outright)', async () => {
    await db.pool.query(`GRANT CREATE ON SCHEMA public TO ${other.name}`);
    try {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { drifts } = await checkContract({ client, schema: 'public', contract: await readContractFile(DEFAULT_CONTRACT_FILE) });
        expect(drifts).toEqual([
          expect.objectContaining({ key: 'schema <schema>', change: 'changed' }),
        ]);
      } finally {
        await client.end();
      }
      const result = await runMain(['schema', 'check', '--database-url', db.url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`REVOKE CREATE ON SCHEMA public FROM ${other.name};`);
    } finally {
      await db.pool.query(`REVOKE CREATE ON SCHEMA public FROM ${other.name}`);
    }
  });

  it('reports GRANT USAGE ON SCHEMA … TO a role as drift', async () => {
    await db.pool.query(`GRANT USAGE ON SCHEMA public TO ${other.name}`);
    try {
      const result = await runMain(['schema', 'check', '--database-url', db.url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('~ schema <schema>');
      expect(result.stdout).toContain(`grants.${other.name}: (absent) → ["USAGE"]`);
    } finally {
      await db.pool.query(`REVOKE USAGE ON SCHEMA public FROM ${other.name}`);
    }
  });
});
