/**
 * Pre-loaded rows: unconfirmed users with one outstanding token each,
 * written with INSERT … SELECT (never through the functions). Foreign-key
 * triggers are skipped when the role may (session_replication_role = replica,
 * as pg_restore does): every row references a user or role loaded or seeded
 * before it.
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
  }
  await client.query(`VACUUM (ANALYZE) ${LOADED_TABLES.join(', ')}`);
}
