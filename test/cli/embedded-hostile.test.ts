import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { serverAccount } from '../../src/embedded/os-user.js';
import { runCli } from '../support/cli.js';
import { processesMentioning } from '../support/cli-process.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';

// Root runs the CLI, the server runs as the OS user `postgres`, and another
// local user (`nobody`) is the attacker: it pre-creates directories, files and
// symlinks where root will put the cluster — such as a directory in a
// world-writable, sticky parent like /var/tmp.

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

let work: TempDir;
let shared: string;
const started: string[] = [];

beforeAll(async () => {
  work = await createTempDir('authdb-hostile-');
  await chmod(work.path, 0o755);
  shared = join(work.path, 'var-tmp');
  await mkdir(shared);
  await chmod(shared, 0o1777); // like /var/tmp
});

afterAll(async () => {
  for (const dir of started) await new EmbeddedCluster({ dir }).stop().catch(() => undefined);
  await work.remove();
});

/** Runs a shell script as the attacker. */
async function asAttacker(script: string): Promise<void> {
  await promisify(execFile)('sh', ['-c', script], { uid: NOBODY, gid: NOBODY, cwd: shared });
}

function dbStart(dir: string): ReturnType<typeof runCli> {
  started.push(dir);
  return runCli(['db', 'start', '--embedded-dir', dir], { cwd: work.path });
}

// Generous limits: each test starts real CLI processes and servers on a shared, loaded machine.
describe.skipIf(!isRoot)('hostile embedded directories (root runs authdb)', { timeout: 180_000 }, () => {
  it('refuses a directory another user pre-created with cluster.json and .pwfile-<pid> symlinks, and writes nothing through them', async () => {
    const victim = join(work.path, 'root-only-file');
    await writeFile(victim, 'root data\n', { mode: 0o600 });
    const dir = join(shared, 'authdb');
    await asAttacker(
      `mkdir -m 0755 authdb && : > loot && chmod 0644 loot && ln -s ${shared}/loot authdb/cluster.json && ` +
        `${process.execPath} -e 'for (let pid = 1; pid <= 5000; pid++) require("fs").symlinkSync(process.argv[1], "authdb/.pwfile-" + pid)' ${victim}`,
    );

    const result = await dbStart(dir);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`refusing to use ${dir} as the embedded PostgreSQL directory: it is owned by uid ${NOBODY}`);
    expect(result.stderr).toContain('[AUTHDB_EMBEDDED_DIR]');
    expect(await readFile(join(shared, 'loot'), 'utf8')).toBe('');
    expect(await readFile(victim, 'utf8')).toBe('root data\n');
    expect((await stat(victim)).uid).toBe(0);
    expect(await processesMentioning(dir)).toEqual([]);
  });

  it('refuses a symlink as the directory, even to a directory root owns', async () => {
    const target = join(work.path, 'link-target');
    await mkdir(target, { mode: 0o700 });
    await asAttacker(`ln -s ${target} authdb-link`);

    const result = await dbStart(join(shared, 'authdb-link'));

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is a symbolic link');
    expect(await readdir(target)).toEqual([]);
  });

  it('refuses a directory writable by others, and a parent writable by others without the sticky bit', async () => {
    const open = join(work.path, 'world-writable');
    await mkdir(open);
    await chmod(open, 0o777);
    const inside = await dbStart(join(open, 'authdb'));
    expect(inside.code).toBe(1);
    expect(inside.stderr).toContain(`refusing to put the embedded PostgreSQL under ${open}: it is writable by others (mode 777) without the sticky bit`);

    const writable = join(shared, 'writable');
    await mkdir(writable);
    await chmod(writable, 0o777);
    const itself = await dbStart(writable);
    expect(itself.code).toBe(1);
    expect(itself.stderr).toContain('is writable by others (mode 777)');
  });

  it('refuses a non-empty directory that is not a cluster, and leaves its owner and mode alone', async () => {
    const notes = join(work.path, 'notes');
    await mkdir(notes, { mode: 0o755 });
    await writeFile(join(notes, 'todo.txt'), 'x');

    const result = await dbStart(notes);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not empty and not an authdb cluster directory (it holds todo.txt)');
    const info = await stat(notes);
    expect({ uid: info.uid, mode: info.mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 });
  });

  it('creates its directory 0700 for the server’s OS user, its own files 0600, and refuses a symlink planted in it later', async () => {
    const dir = join(shared, 'mine');
    const account = await serverAccount();

    const result = await dbStart(dir);
    expect(result.code, result.stderr).toBe(0);

    const info = await lstat(dir);
    expect({ uid: info.uid, mode: info.mode & 0o7777 }).toEqual({ uid: account.uid, mode: 0o700 });
    const entries = (await readdir(dir)).sort();
    expect(entries).toEqual(['cluster.json', 'data', 'keep-running', 'lock', 'postgres.log']);
    for (const name of ['cluster.json', 'keep-running', 'lock']) {
      const file = await lstat(join(dir, name));
      expect({ name, uid: file.uid, mode: file.mode & 0o777 }).toEqual({ name, uid: 0, mode: 0o600 });
    }

    // The server's OS user owns the directory; if it swaps cluster.json for a symlink, root does not follow it.
    const copy = join(work.path, 'credentials-copy');
    await writeFile(copy, await readFile(join(dir, 'cluster.json'), 'utf8'), { mode: 0o600 });
    await promisify(execFile)('mv', [join(dir, 'cluster.json'), join(work.path, 'moved-away.json')]);
    await symlink(copy, join(dir, 'cluster.json'));
    const url = await runCli(['db', 'url', '--embedded-dir', dir], { cwd: work.path });
    expect(url.code).toBe(1);
    expect(url.stderr).toContain(`refusing to use ${dir}/cluster.json: it is a symbolic link`);
    expect(url.stdout).toBe('');

    expect((await runCli(['db', 'stop', '--embedded-dir', dir], { cwd: work.path })).code).toBe(0);
  });
});
