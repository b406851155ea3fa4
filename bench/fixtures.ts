/**
 * Pre-loaded rows: unconfirmed users with one outstanding token each,
 * written with INSERT … SELECT (never through the functions).
 *
 * When the role may (a superuser, which the bench needs anyway), the load
 * skips checks whose outcome it knows: foreign-key triggers
 * (session_replication_role = replica, as pg_restore does; every row
 * references a user or role loaded or seeded before it), and the tables'
 * CHECK constraints, which are dropped and added back NOT VALID (the rows are
 * generated valid; every row written later is checked as before). The e-mail
 * format CHECK alone costs more than the rest of a user row.
 */
import type pg from 'pg';
import { BULK_LOAD, LOADED_TABLES } from './schema-sql.js';

/** Rows per INSERT … SELECT, so a million rows do not become one huge transaction. Default is 250 000. */
export const DEFAULT_LOAD_BATCH = 250_000;

/** Loads rows 1..count of `tag` (or from `first`), then vacuums and analyses. */
export async function bulkLoad(client: pg.ClientBase, loads: readonly { readonly tag: string; readonly count: number; readonly first?: number }[]): Promise<void> {
  const skipTriggers = await client.query('SET session_replication_role = replica').then(
    () => true,
    () => false,
  );
  const checks = skipTriggers ? await dropChecks(client) : [];
  try {
    for (const { tag, count, first = 1 } of loads) {
      for (let from = first; from < first + count; from += DEFAULT_LOAD_BATCH) {
        const to = Math.min(first + count - 1, from + DEFAULT_LOAD_BATCH - 1);
        await client.query('BEGIN');
        try {
          for (const statement of BULK_LOAD) await client.query(statement, [tag, from, to]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    }
  } finally {
    if (skipTriggers) await client.query('RESET session_replication_role');
    for (const add of checks) await client.query(add);
  }
  await client.query(`VACUUM (ANALYZE) ${LOADED_TABLES.join(', ')}`);
}

/** Drops the CHECK constraints of the loaded tables; returns the statements that add them back NOT VALID. */
async function dropChecks(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ drop: string; add: string }>(
    `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop,
            format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) AS add
       FROM pg_constraint AS c
      WHERE c.contype = 'c' AND c.conrelid = ANY ($1::regclass[])`,
    [LOADED_TABLES],
  );
  for (const { drop } of rows) await client.query(drop);
  return rows.map((r) => r.add);
}
