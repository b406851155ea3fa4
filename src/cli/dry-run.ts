import { describeData, type DataAtRisk } from '../migrate/down-data.js';
import type { PlannedMigration } from '../migrate/migrator.js';
import type { Output } from './output.js';

/** Prints, on stdout, the exact SQL a run would execute, in order; for a down, the data it would drop. */
export function printPlan(output: Output, planned: readonly PlannedMigration[], schema: string, data?: readonly DataAtRisk[]): void {
  if (planned.length === 0) {
    output.err(`authdb: dry run: nothing would run (schema "${schema}")`);
    return;
  }
  output.out(`-- authdb dry run: ${planned.length} migration(s) would run in schema "${schema}"; nothing was changed`);
  for (const migration of planned) {
    const tracking = migration.direction === 'up' ? `INSERT INTO authdb_migrations ('${migration.name}', …)` : `DELETE FROM authdb_migrations WHERE name = '${migration.name}'`;
    output.out(`\n-- ${migration.direction} ${migration.name} (${migration.path})`);
    if (migration.transaction) output.out('BEGIN;');
    output.out(migration.sql.trimEnd());
    output.out(`-- then: ${tracking}`);
    if (migration.transaction) output.out('COMMIT;');
  }
  if (data === undefined) return;
  if (data.length === 0) {
    output.out('\n-- data: the tables and columns this would drop hold no rows (beyond authdb\'s seed rows)');
    return;
  }
  output.out('\n-- data this would drop (the run needs --force; back it up first):');
  for (const d of data) output.out(`--   ${describeData(d)}`);
}
