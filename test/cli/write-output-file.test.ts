import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOutputFile } from '../../src/cli/write-output-file.js';
import { runCli } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';

// Issue 14 §5 "`--out` through symlinks": `schema dump --out` and `codegen --out`
// wrote through a symlink at the target (as root: into any root-only file).
// They now write a file beside it and rename it over the link.

let db: TestDatabase;
let dir: string;
const OUTSIDE = 'root-only file: must stay as it is\n';

beforeAll(async () => {
  db = await createMigratedDatabase();
  dir = await mkdtemp(join(tmpdir(), 'authdb-out-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await db.close();
});

/** `<case>/outside` (a file the command must not touch) and `<case>/out`, a symlink to it. */
async function planted(name: string): Promise<{ readonly out: string; readonly outside: string; readonly folder: string }> {
  const folder = join(dir, name);
  await mkdir(folder);
  const outside = join(folder, 'outside');
  await writeFile(outside, OUTSIDE, { mode: 0o600 });
  const out = join(folder, 'out');
  await symlink(outside, out);
  return { out, outside, folder };
}

describe('--out at a symbolic link', () => {
  it.each([
    ['schema dump', ['schema', 'dump'], '"objects"'],
    ['codegen', ['codegen'], 'export interface Database'],
  ])('%s --out replaces the link with a regular file; the file it pointed to is unchanged', async (name, command, expected) => {
    const { out, outside, folder } = await planted(name.replace(' ', '-'));
    const result = await runCli([...command, '--out', out, '--database-url', db.url]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(outside, 'utf8')).toBe(OUTSIDE);
    expect((await lstat(out)).isFile()).toBe(true);
    expect(await readFile(out, 'utf8')).toContain(expected);
    // Nothing left beside it.
    expect((await readdir(folder)).sort()).toEqual(['out', 'outside']);
  });
});

describe('writeOutputFile', () => {
  it('replaces a dangling link, and writes a new file', async () => {
    const folder = join(dir, 'dangling');
    await mkdir(folder);
    const out = join(folder, 'out');
    await symlink(join(folder, 'would-be-created'), out);
    await writeOutputFile(out, 'new\n');
    expect((await lstat(out)).isFile()).toBe(true);
    expect(await readFile(out, 'utf8')).toBe('new\n');
    expect(await readdir(folder)).toEqual(['out']);
    await writeOutputFile(join(folder, 'fresh'), 'fresh\n');
    expect(await readFile(join(folder, 'fresh'), 'utf8')).toBe('fresh\n');
  });

  it('keeps the permission bits of a regular file it replaces', async () => {
    const out = join(dir, 'private.json');
    await writeFile(out, 'old\n', { mode: 0o600 });
    await writeOutputFile(out, 'new\n');
    expect(await readFile(out, 'utf8')).toBe('new\n');
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it('leaves nothing half-written when the rename fails: the target and its folder are as they were', async () => {
    const folder = join(dir, 'failing');
    const target = join(folder, 'out');
    await mkdir(join(target, 'child'), { recursive: true }); // a non-empty directory: rename cannot replace it
    const error = await writeOutputFile(target, 'new\n').catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toMatch(/^(EISDIR|ENOTEMPTY|EEXIST)$/);
    expect(await readdir(folder)).toEqual(['out']);
    expect(await readdir(target)).toEqual(['child']);
  });
});
