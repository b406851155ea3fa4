import { describe, expect, it } from 'vitest';
import { MigrationHistoryError, MigrationOrderError, MigrationPlanError } from '../../src/migrate/errors.js';
import type { MigrationFile } from '../../src/migrate/migration-file.js';
import { assertHistoryIntact, migrationStatus, planDown, planUp } from '../../src/migrate/plan.js';
import type { AppliedMigration } from '../../src/migrate/tracking-table.js';
import { decodeSql, type SqlSource } from '../../src/sql/sql-source.js';

function decoded(path: string): SqlSource {
  const outcome = decodeSql(path, Buffer.from(''));
  if (!outcome.ok) throw new Error(outcome.problem.message);
  return outcome.source;
}

const file = (name: string, checksum = `sum-${name}`, source = 'authdb'): MigrationFile => ({
  name,
  source,
  upPath: `/m/${name}.up.sql`,
  downPath: `/m/${name}.down.sql`,
  up: decoded(`/m/${name}.up.sql`),
  down: decoded(`/m/${name}.down.sql`),
  checksum,
});
const row = (name: string, checksum = `sum-${name}`, source = 'authdb'): AppliedMigration => ({ name, source, checksum, appliedAt: new Date('2026-01-01T00:00:00Z'), durationMs: 1 });

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
      assertHistoryIntact(migrationStatus(FILES, [row('20260101000001_a')]), new Map([['authdb', '/m']]));
    }).not.toThrow();
  });

  it('names every changed and missing file in one error', () => {
    const statuses = migrationStatus([file('20260101000001_a', 'edited')], [row('20260101000001_a'), row('20260101000002_b')]);
    let error: unknown;
    try {
      assertHistoryIntact(statuses, new Map([['authdb', '/m']]));
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
    expect(planUp(statuses, { to: '20260101000003_c' })).toEqual(['20260101000002_b', '20260101000003_c']);
  });

  it('rejects a --to that is unknown or not pending', () => {
    expect(() => planUp(statuses, { to: '20260101000009_x' })).toThrow(new MigrationPlanError('--to 20260101000009_x: no migration has that name'));
    expect(() => planUp(statuses, { to: '20260101000001_a' })).toThrow(/that migration is applied, not pending/);
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

describe('sources', () => {
  const authdb = ['20261125000001_roles', '20261125000002_users', '20270101000001_upgrade'].map((n) => file(n));
  const app = ['20260601000001_profiles', '20261201000001_nicknames'].map((n) => file(n, `sum-${n}`, 'app'));

  it('runs authdb first, then the application, each by name; an authdb upgrade older than the app is not out of order', () => {
    const applied = [row('20261125000001_roles'), row('20261125000002_users'), row('20260601000001_profiles', undefined, 'app'), row('20261201000001_nicknames', undefined, 'app')];
    const statuses = migrationStatus([...authdb, ...app], applied, ['authdb', 'app']);
    expect(statuses.map((s) => [s.source, s.name, s.state])).toEqual([
      ['authdb', '20261125000001_roles', 'applied'],
      ['authdb', '20261125000002_users', 'applied'],
      ['authdb', '20270101000001_upgrade', 'pending'],
      ['app', '20260601000001_profiles', 'applied'],
      ['app', '20261201000001_nicknames', 'applied'],
    ]);
    expect(planUp(statuses)).toEqual(['20270101000001_upgrade']);
  });

  it("reports another source's rows as unloaded, never missing, when its directory is not given", () => {
    const applied = [row('20261125000001_roles'), row('20260601000001_profiles', undefined, 'app')];
    const statuses = migrationStatus(authdb, applied, ['authdb']);
    expect(statuses.find((s) => s.name === '20260601000001_profiles')?.state).toBe('unloaded');
    expect(() => {
      assertHistoryIntact(statuses, new Map([['authdb', '/m']]));
    }).not.toThrow();
    // ...and authdb's rows are not the application's missing files either.
    const appOnly = migrationStatus([...authdb, ...app], applied, ['authdb', 'app']);
    expect(appOnly.filter((s) => s.state === 'missing')).toEqual([]);
  });

  it('marks a pending migration older than an applied one of its source out of order, and refuses it unless allowed', () => {
    const applied = [row('20261125000001_roles'), row('20261201000001_nicknames', undefined, 'app')];
    const statuses = migrationStatus([...authdb, ...app], applied, ['authdb', 'app']);
    expect(statuses.find((s) => s.name === '20260601000001_profiles')).toMatchObject({ state: 'out-of-order', after: '20261201000001_nicknames' });
    // authdb's pending ones are in order within authdb.
    expect(statuses.find((s) => s.name === '20261125000002_users')?.state).toBe('pending');
    const error = (() => {
      try {
        planUp(statuses);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(MigrationOrderError);
    expect((error as MigrationOrderError).code).toBe('AUTHDB_OUT_OF_ORDER');
    expect((error as Error).message).toContain('20260601000001_profiles (source "app") is pending, but 20261201000001_nicknames is applied');
    expect(planUp(statuses, { allowOutOfOrder: true })).toEqual(['20261125000002_users', '20270101000001_upgrade', '20260601000001_profiles']);
  });

  it('reverts in the reverse of the order migrations were applied in', () => {
    const applied = [row('20261125000001_roles'), row('20260601000001_profiles', undefined, 'app'), row('20261125000002_users')];
    const statuses = migrationStatus([...authdb, ...app], applied, ['authdb', 'app']);
    const order = applied.map((r) => r.name);
    expect(planDown(statuses, { steps: 1 }, order)).toEqual(['20261125000002_users']);
    expect(planDown(statuses, { all: true }, order)).toEqual(['20261125000002_users', '20260601000001_profiles', '20261125000001_roles']);
  });

  it("refuses to revert past a migration of a source the run was not given, and never skips it", () => {
    const applied = [row('20261125000001_roles'), row('20261125000002_users'), row('20260601000001_profiles', undefined, 'app')];
    const statuses = migrationStatus(authdb, applied, ['authdb']);
    const order = applied.map((r) => r.name);
    expect(() => planDown(statuses, { steps: 1 }, order)).toThrow(/20260601000001_profiles \(source "app"\).*--app-migrations/);
    expect(() => planDown(statuses, { all: true }, order)).toThrow(MigrationPlanError);
    // Applied before the authdb ones to revert: not in the way.
    const earlier = [row('20260601000001_profiles', undefined, 'app'), row('20261125000001_roles'), row('20261125000002_users')];
    expect(planDown(migrationStatus(authdb, earlier, ['authdb']), { steps: 1 }, earlier.map((r) => r.name))).toEqual(['20261125000002_users']);
  });
});
