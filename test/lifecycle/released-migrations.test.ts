import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/migrate/migration-source.js';
import { shippedMigrationNames, createTempDir, type TempDir } from '../support/migration-fixtures.js';
import { runScript } from '../support/script.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations/', import.meta.url));
const FIX = "a released migration never changes: ship an upgrade migration instead (see README 'Releases and upgrades')";
const FILE = '20261125000004_registration_functions.up.sql';

describe('check:releases', () => {
  let copy: TempDir;

  beforeEach(async () => {
    copy = await createTempDir('authdb-released-');
    await cp(MIGRATIONS, copy.path, { recursive: true });
  });
  afterEach(() => copy.remove());

  it('passes on the repository: every file of 0.1.0 has its released bytes', async () => {
    const result = await runScript('check-released-migrations.ts', []);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^released migrations unchanged: 8 files of 1 release\(s\)/);
  });

  it('fails naming a released file with one byte changed', async () => {
    const path = join(copy.path, FILE);
    const bytes = await readFile(path);
    const at = bytes.indexOf('AU013');
    bytes[at + 4] = '4'.charCodeAt(0);
    await writeFile(path, bytes);
    const result = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path}: changed since release 0.1.0 (sha256 now `);
    expect(result.stderr).toContain(FIX);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('fails on CRLF line endings, which the history checksum does not count', async () => {
    const path = join(copy.path, '20261125000001_roles.down.sql');
    await writeFile(path, (await readFile(path, 'utf8')).replace(/\n/g, '\r\n'));
    const result = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path}: changed since release 0.1.0`);
  });

  it('fails naming a released file that was deleted', async () => {
    const path = join(copy.path, '20261125000003_email_verification_tokens.down.sql');
    await rm(path);
    const result = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path}: released in 0.1.0, now deleted; ${FIX}`);
  });

  it('accepts a new migration beside the released ones, and --record lists only the unreleased files', async () => {
    const released = JSON.parse(await readFile(join(copy.path, 'releases.json'), 'utf8')) as { releases: { files: object }[] };
    const known = new Set(released.releases.flatMap((r) => Object.keys(r.files)));
    const unreleased = (await readdir(copy.path)).filter((name) => name.endsWith('.sql') && !known.has(name));
    await writeFile(join(copy.path, '20270101000000_next.up.sql'), 'SELECT 1;\n');
    await writeFile(join(copy.path, '20270101000000_next.down.sql'), 'SELECT 1;\n');
    expect((await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path])).code).toBe(0);
    const recorded = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path, '--record', '0.2.0']);
    expect(recorded.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(copy.path, 'releases.json'), 'utf8')) as { releases: { version: string; files: object }[] };
    expect(manifest.releases.map((r) => [r.version, Object.keys(r.files)])).toEqual([
      ['0.1.0', expect.any(Array)],
      ['0.2.0', [...unreleased, '20270101000000_next.down.sql', '20270101000000_next.up.sql'].sort()],
    ]);
    const again = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path, '--record', '0.2.0']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already lists release 0.2.0');
  });

  it('fails naming a new migration that sorts before a released one', async () => {
    await writeFile(join(copy.path, '20261125000003_inserted.up.sql'), 'SELECT 1;\n');
    await writeFile(join(copy.path, '20261125000003_inserted.down.sql'), 'SELECT 1;\n');
    const result = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${join(copy.path, '20261125000003_inserted.up.sql')}: not released, but sorts before the released 20261125000004_registration_functions; a new migration comes after every released one`,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('refuses a manifest that is not one, naming it', async () => {
    await writeFile(join(copy.path, 'releases.json'), '{"releases": [{"version": "0.1.0", "files": {"a.up.sql": "nope"}}]}');
    const result = await runScript('check-released-migrations.ts', ['--migrations-dir', copy.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(copy.path, 'releases.json')} is not a release manifest`);
  });

  it('releases.json is not a migration: the loader reads the same pairs with it as without it', async () => {
    const withManifest = await loadMigrations(copy.path);
    await rm(join(copy.path, 'releases.json'));
    expect((await loadMigrations(copy.path)).map((m) => m.name)).toEqual(withManifest.map((m) => m.name));
    expect(withManifest).toHaveLength(shippedMigrationNames().length);
  });
});
