import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationSourceError } from '../../src/migrate/errors.js';
import { checksumSql } from '../../src/migrate/migration-file.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from '../../src/migrate/migration-source.js';
import { createTempDir, writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

describe('loadMigrations', () => {
  it('reads up/down pairs sorted by name, with checksums of the up files', async () => {
    dir = await writeMigrationDir({
      '20260101000002_b': { up: 'CREATE TABLE b ();\r\n', down: 'DROP TABLE b;' },
      '20260101000001_a': { up: 'CREATE TABLE a ();\n', down: 'DROP TABLE a;' },
    });
    await writeFile(join(dir.path, 'README.md'), 'not a migration');
    const files = await loadMigrations(dir.path);
    expect(files.map((f) => f.name)).toEqual(['20260101000001_a', '20260101000002_b']);
    expect(files[1]).toMatchObject({
      name: '20260101000002_b',
      upPath: join(dir.path, '20260101000002_b.up.sql'),
      downPath: join(dir.path, '20260101000002_b.down.sql'),
      up: { path: join(dir.path, '20260101000002_b.up.sql'), text: 'CREATE TABLE b ();\r\n' },
      down: { path: join(dir.path, '20260101000002_b.down.sql'), text: 'DROP TABLE b;' },
      checksum: checksumSql('CREATE TABLE b ();\n'),
    });
  });

  it('collects every misnamed or unpaired file before failing', async () => {
    dir = await createTempDir();
    for (const name of ['20260101000001_a.up.sql', '20260101000002_b.down.sql', '20260101000003_c.sql', 'add_users.up.sql', '20260101000004_d.up.sql', '20260101000004_d.down.sql']) {
      await writeFile(join(dir.path, name), '');
    }
    const error = await loadMigrations(dir.path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationSourceError);
    const { problems, code } = error as MigrationSourceError;
    expect(code).toBe('AUTHDB_MIGRATIONS_DIR');
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toContain('20260101000001_a.down.sql: missing');
    expect(problems.join('\n')).toContain('20260101000002_b.up.sql: missing');
    expect(problems.join('\n')).toContain('20260101000003_c.sql: not named NAME.up.sql or NAME.down.sql');
    expect(problems.join('\n')).toContain('add_users.up.sql: name must be a 14-digit timestamp');
  });

  it('says which directory it cannot read', async () => {
    await expect(loadMigrations('/nonexistent/authdb-migrations')).rejects.toThrow(/cannot read the migrations directory \/nonexistent\/authdb-migrations/);
  });

  it('finds the shipped migrations by default', async () => {
    const files = await loadMigrations(DEFAULT_MIGRATIONS_DIR);
    expect(files.length).toBeGreaterThan(0);
    expect(files[0]?.name).toBe('20261125000001_roles');
  });
});
