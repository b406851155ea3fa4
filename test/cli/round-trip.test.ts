import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/migrate/migration-source.js';
import { runMain, withoutPasswordWarning } from '../support/cli.js';
import { dumpSchema } from '../support/catalog.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';

// The shipped migrations: every down file exactly undoes its up file, and the
// up/down targeting options of the CLI revert and apply the right ones.

let db: TestDatabase;
let names: string[];
let args: string[];

beforeAll(async () => {
  db = await createEmptyDatabase();
  names = (await loadMigrations('migrations')).map((m) => m.name);
  args = ['--database-url', db.url, '--schema', 'rt'];
});

afterAll(async () => {
  await db.close();
});

async function applied(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM rt.authdb_migrations ORDER BY name');
  return rows.map((r) => r.name);
}

function migrate(...command: string[]): ReturnType<typeof runMain> {
  return runMain(['migrate', ...command, ...args]);
}

describe('the shipped migrations', () => {
  it('up → down --all → up leaves an identical schema, and down --all leaves only the tracking table', async () => {
    expect(names.length).toBeGreaterThanOrEqual(3);
    const empty = await dumpSchema(db.pool, 'rt');

    expect((await migrate('up')).code).toBe(0);
    const first = await dumpSchema(db.pool, 'rt');
    expect(first.some((line) => line.startsWith('function CREATE OR REPLACE FUNCTION rt.'))).toBe(true);
    expect(first.some((line) => line.startsWith('trigger '))).toBe(true);

    const down = await migrate('down', '--all');
    expect(down.code).toBe(0);
    expect(down.stdout.match(/^reverted/gm)).toHaveLength(names.length);
    expect(await applied()).toEqual([]);
    // Everything authdb created is gone (extension lines are left out of the comparison).
    const reverted = await dumpSchema(db.pool, 'rt');
    const withoutExtensions = (dump: string[]): string[] => dump.filter((line) => !line.startsWith('extension '));
    expect(withoutExtensions(reverted).filter((line) => !line.includes('authdb_migrations'))).toEqual(withoutExtensions(empty));

    expect((await migrate('up')).code).toBe(0);
    expect(await dumpSchema(db.pool, 'rt')).toEqual(first);
    expect(await applied()).toEqual(names);
  });

  it('down --steps N reverts the latest N; down --to NAME keeps NAME; up --to NAME stops after NAME', async () => {
    expect((await migrate('up')).code).toBe(0);

    const steps = await migrate('down', '--steps', '2');
    expect(steps.code).toBe(0);
    expect(steps.stdout.match(/^reverted\s+\S+/gm)?.map((l) => l.split(/\s+/)[1])).toEqual(names.slice(-2).reverse());
    expect(await applied()).toEqual(names.slice(0, -2));

    const [first, second] = names;
    const to = await migrate('down', '--to', first ?? '');
    expect(to.code).toBe(0);
    expect(await applied()).toEqual([first]);

    const up = await migrate('up', '--to', second ?? '');
    expect(up.code).toBe(0);
    expect(up.stdout.match(/^applied/gm)).toHaveLength(1);
    expect(await applied()).toEqual([first, second]);

    expect((await migrate('up')).code).toBe(0);
    expect(await applied()).toEqual(names);
  });

  it('an unknown --to is exit 1 with a message, and changes nothing', async () => {
    for (const command of ['up', 'down']) {
      const result = await migrate(command, '--to', '20990101000000_nope');
      expect(result.code).toBe(1);
      expect(withoutPasswordWarning(result.stderr)).toBe(`authdb migrate ${command}: error: --to 20990101000000_nope: no migration has that name [AUTHDB_PLAN]\n`);
    }
    expect(await applied()).toEqual(names);
  });
});
