import { chmod, open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterSession } from '../../src/embedded/cluster-session.js';
import { flock } from '../../src/embedded/flock.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';

// A command that waits for another authdb process holding the cluster's lock
// says who holds it, and gives up with AUTHDB_EMBEDDED_LOCK.

let work: TempDir;

beforeAll(async () => {
  work = await createTempDir('authdb-cluster-lock-');
  await chmod(work.path, 0o755);
});

afterAll(async () => {
  await work.remove();
});

describe('the embedded cluster lock', () => {
  it('a waiter names the holder’s pid and gives up after its timeout; it gets the lock once the holder lets go', async () => {
    const dir = join(work.path, 'cluster');
    const logged: string[] = [];
    const session = new ClusterSession({ dir, log: (line) => logged.push(line), lockTimeoutMs: 1500 });
    // Another "process" (another open file description) holds the lock, as exclusive() records it.
    await session.exclusive(() => Promise.resolve());
    const holder = await open(join(dir, 'lock'), 'r+');
    try {
      expect(await flock(holder, 'exclusive', { wait: false })).toBe(true);
      await holder.truncate(0);
      await holder.write('4242\n', 0);

      await expect(session.exclusive(() => Promise.resolve('never'))).rejects.toMatchObject({
        code: 'AUTHDB_EMBEDDED_LOCK',
        message: expect.stringContaining(`another authdb process (pid 4242) held the lock of the embedded PostgreSQL in ${dir}`) as unknown,
      });
      expect(logged).toContain(`authdb: waiting for another authdb process (pid 4242) that is creating, starting or stopping the embedded PostgreSQL in ${dir}`);
    } finally {
      await holder.close();
    }
    expect(await session.exclusive(() => Promise.resolve('got it'))).toBe('got it');
  });
});
