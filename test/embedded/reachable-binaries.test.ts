import { chmod, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresBinaries } from '../../src/embedded/binaries.js';
import { serverAccount } from '../../src/embedded/os-user.js';
import { reachableBinaries } from '../../src/embedded/reachable-binaries.js';
import { runAs } from '../../src/embedded/run-as.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';

// As root the server runs as `postgres`; binaries installed under a directory
// it cannot enter (a project in a 0700 home) are copied beside the cluster
// directory, once, and copied again when the installed build changes.

let work: TempDir;
let build: string;
let binaries: PostgresBinaries;

beforeAll(async () => {
  work = await createTempDir('authdb-binaries-');
  await chmod(work.path, 0o755);
  // A build under a private directory, as in a project under /root.
  build = join(work.path, 'private', 'node_modules', 'native');
  await mkdir(join(build, 'bin'), { recursive: true });
  await mkdir(join(build, 'lib'));
  await chmod(join(work.path, 'private'), 0o700);
  for (const name of ['initdb', 'pg_ctl', 'postgres']) await writeFile(join(build, 'bin', name), `#!/bin/sh\necho ${name} v1\n`, { mode: 0o755 });
  await writeFile(join(build, 'lib', 'libpq.so.5'), 'library', { mode: 0o644 });
  binaries = { initdb: join(build, 'bin', 'initdb'), pg_ctl: join(build, 'bin', 'pg_ctl'), postgres: join(build, 'bin', 'postgres') };
});

afterAll(async () => {
  await work.remove();
});

describe.skipIf(process.getuid?.() !== 0)('binaries the server OS user cannot reach (as root)', () => {
  it('are copied beside the cluster directory, run there as postgres, reused, and copied again when the build changes', async () => {
    const account = await serverAccount();
    const cluster = join(work.path, 'shared', 'cluster');
    await mkdir(join(work.path, 'shared'), { mode: 0o755 });
    await expect(runAs(account, binaries.postgres, [])).rejects.toThrow(/EACCES|Permission denied/);

    const logged: string[] = [];
    const copied = await reachableBinaries(binaries, account, cluster, (line) => logged.push(line));
    expect(copied.postgres).toBe(join(`${cluster}-postgres`, 'bin', 'postgres'));
    expect((await runAs(account, copied.postgres, [])).stdout).toBe('postgres v1\n');
    expect(await readFile(join(`${cluster}-postgres`, 'lib', 'libpq.so.5'), 'utf8')).toBe('library');
    expect(logged).toEqual([expect.stringContaining(`are out of reach of OS user "postgres" (${join(work.path, 'private')} has mode 700); copying them to ${cluster}-postgres`)]);

    expect(await reachableBinaries(binaries, account, cluster, (line) => logged.push(line))).toEqual(copied);
    expect(logged).toHaveLength(1);

    // An upgraded build (another postgres binary) replaces the copy.
    await writeFile(binaries.postgres, '#!/bin/sh\necho postgres v2\n');
    await utimes(binaries.postgres, new Date(), new Date(Date.now() + 5000));
    await reachableBinaries(binaries, account, cluster, (line) => logged.push(line));
    expect(logged).toHaveLength(2);
    expect((await runAs(account, copied.postgres, [])).stdout).toBe('postgres v2\n');
  });

  it('uses reachable binaries where they are, and refuses a copy directory others can write', async () => {
    const account = await serverAccount();
    const reachable = { ...binaries, postgres: '/bin/true' };
    expect(await reachableBinaries(reachable, account, join(work.path, 'unused'))).toBe(reachable);

    const cluster = join(work.path, 'shared', 'open');
    await mkdir(`${cluster}-postgres`, { mode: 0o777 });
    await chmod(`${cluster}-postgres`, 0o777);
    await expect(reachableBinaries(binaries, account, cluster)).rejects.toThrow(`${cluster}-postgres (where authdb keeps a copy of the PostgreSQL binaries`);
  });
});
