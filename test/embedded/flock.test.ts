import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flock, FLOCK_PROGRAMS } from '../../src/embedded/flock.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';

// The cluster's lock and leases are flock(2) locks taken by a helper program
// on a file description this process shares. Two handles of one file are two
// file descriptions, which conflict like two processes do.

let dir: TempDir;

beforeAll(async () => {
  dir = await createTempDir('authdb-flock-');
});

afterAll(async () => {
  await dir.remove();
});

describe.each(FLOCK_PROGRAMS)('flock through %s', (program) => {
  it('an exclusive lock excludes every other; shared locks coexist; closing the handle releases', async () => {
    const file = join(dir.path, `${program}.lock`);
    const a = await open(file, 'a+');
    const b = await open(file, 'a+');
    try {
      expect(await flock(a, 'exclusive', { wait: false, program })).toBe(true);
      expect(await flock(b, 'exclusive', { wait: false, program })).toBe(false);
      expect(await flock(b, 'shared', { wait: false, program })).toBe(false);
      expect(await flock(b, 'exclusive', { wait: true, timeoutMs: 200, program })).toBe(false); // gives up waiting
      await a.close();

      expect(await flock(b, 'shared', { wait: false, program })).toBe(true);
      const c = await open(file, 'a+');
      try {
        expect(await flock(c, 'shared', { wait: false, program })).toBe(true);
        expect(await flock(c, 'exclusive', { wait: false, program })).toBe(false); // b still shares it
      } finally {
        await c.close();
      }
      expect(await flock(b, 'exclusive', { wait: false, program })).toBe(true); // b is the last holder
    } finally {
      await a.close().catch(() => undefined);
      await b.close();
    }
  });

  it('a waiting lock is granted when the holder lets go', async () => {
    const file = join(dir.path, `${program}-wait.lock`);
    const holder = await open(file, 'a+');
    const waiter = await open(file, 'a+');
    try {
      expect(await flock(holder, 'exclusive', { wait: false, program })).toBe(true);
      const granted = flock(waiter, 'exclusive', { wait: true, program });
      await holder.close();
      expect(await granted).toBe(true);
    } finally {
      await waiter.close();
    }
  });
});
