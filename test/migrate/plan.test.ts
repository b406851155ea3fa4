import { describe, expect, it } from 'vitest';
import { MigrationHistoryError, MigrationPlanError } from '../../src/migrate/errors.js';
import type { MigrationFile } from '../../src/migrate/migration-file.js';
import { assertHistoryIntact, migrationStatus, planDown, planUp } from '../../src/migrate/plan.js';
import type { AppliedMigration } from '../../src/migrate/tracking-table.js';
import { decodeSql, type SqlSource } from '../../src/sql/sql-source.js';

function decoded(path: string): SqlSource {
  const outcome = decodeSql(path, Buffer.from(''));
  if (!outcome.ok) throw new Error(outcome.problem.message);
  return outcome.source;
}

const file = (name: string, checksum = `sum-${name}`): MigrationFile => ({
  name,
  upPath: `/m/${name}.up.sql`,
  downPath: `/m/${name}.down.sql`,
  up: decoded(`/m/${name}.up.sql`),
  down: decoded(`/m/${name}.down.sql`),
  checksum,
});
const row = (name: string, checksum = `sum-${name}`): AppliedMigration => ({ name, checksum, appliedAt: new Date('2026-01-01T00:00:00Z'), durationMs: 1 });

const FILES = ['20260101000001_a', '20260101000002_b', '20260101000003_c', '20260101000004_d'].map((n) => file(n));

describe('migrationStatus', () => {
  it('marks each file applied, pending, changed or missing, sorted by name', () => {
    const statuses = migrationStatus(
      [file('20260101000003_c'), file('20260101000001_a'), file('20260101000002_b', 'edited')],
      [row('20260101000001_a'), row('20260101000002_b'), row('20260101000000_gone')],
    );
    expect(statuses.map((s) => [s.name, s.state])).toEqual([
      ['20260101000000_gone', 'missing'],
      ['20260101000001_a', 'applied'],
      ['20260101000002_b', 'changed'],
      ['20260101000003_c', 'pending'],
    ]);
    expect(statuses.find((s) => s.name === '20260101000002_b')?.checksum).toBe('sum-20260101000002_b');
    expect(statuses.find((s) => s.name === '20260101000003_c')).toMatchObject({ appliedAt: null, checksum: 'sum-20260101000003_c' });
  });
});

describe('assertHistoryIntact', () => {
  it('passes applied and pending migrations', () => {
    expect(() => {
      assertHistoryIntact(migrationStatus(FILES, [row('20260101000001_a')]), '/m');
    }).not.toThrow();
  });

  it('names every changed and missing file in one error', () => {
    const statuses = migrationStatus([file('20260101000001_a', 'edited')], [row('20260101000001_a'), row('20260101000002_b')]);
    let error: unknown;
    try {
      assertHistoryIntact(statuses, '/m');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MigrationHistoryError);
    expect((error as MigrationHistoryError).code).toBe('AUTHDB_HISTORY');
    expect((error as MigrationHistoryError).problems).toEqual([
      expect.stringContaining('/m/20260101000001_a.up.sql changed since it was applied'),
      expect.stringContaining('/m/20260101000002_b.up.sql no longer exists'),
    ]);
  });
});

describe('planUp', () => {
  const statuses = migrationStatus(FILES, [row('20260101000001_a')]);

  it('plans every pending migration in order', () => {
    expect(planUp(statuses)).toEqual(['20260101000002_b', '20260101000003_c', '20260101000004_d']);
  });

  it('stops after --to, inclusive', () => {
    expect(planUp(statuses, '20260101000003_c')).toEqual(['20260101000002_b', '20260101000003_c']);
  });

  it('rejects a --to that is unknown or not pending', () => {
    expect(() => planUp(statuses, '20260101000009_x')).toThrow(new MigrationPlanError('--to 20260101000009_x: no migration has that name'));
    expect(() => planUp(statuses, '20260101000001_a')).toThrow(/that migration is applied, not pending/);
  });
});

describe('planDown', () => {
  const statuses = migrationStatus(FILES, [row('20260101000001_a'), row('20260101000002_b'), row('20260101000003_c')]);

  it('reverts the latest migration by default, newest first', () => {
    expect(planDown(statuses, { steps: 1 })).toEqual(['20260101000003_c']);
    expect(planDown(statuses, { steps: 2 })).toEqual(['20260101000003_c', '20260101000002_b']);
    expect(planDown(statuses, { steps: 10 })).toEqual(['20260101000003_c', '20260101000002_b', '20260101000001_a']);
  });

  it('reverts everything after --to, which stays applied', () => {
    expect(planDown(statuses, { to: '20260101000001_a' })).toEqual(['20260101000003_c', '20260101000002_b']);
    expect(planDown(statuses, { to: '20260101000003_c' })).toEqual([]);
  });

  it('reverts everything with --all', () => {
    expect(planDown(statuses, { all: true })).toEqual(['20260101000003_c', '20260101000002_b', '20260101000001_a']);
  });

  it('rejects bad steps and a --to that is unknown or not applied', () => {
    expect(() => planDown(statuses, { steps: 0 })).toThrow(MigrationPlanError);
    expect(() => planDown(statuses, { steps: 1.5 })).toThrow(MigrationPlanError);
    expect(() => planDown(statuses, { to: '20260101000004_d' })).toThrow(/not applied, so there is nothing to roll back to/);
    expect(() => planDown(statuses, { to: 'nope' })).toThrow(/no migration has that name/);
  });
});
