import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { embeddedBinariesPackage } from './server-provider.js';

/** A primary and a hot standby streaming from it, both throwaway embedded clusters of TEST_POSTGRES_VERSION. */
export interface PrimaryAndStandby {
  /** Superuser URLs of database `postgres`. */
  readonly primaryUrl: string;
  readonly standbyUrl: string;
  stop(): Promise<void>;
}

/**
 * The embedded packages ship no pg_basebackup, so the standby starts from a
 * copy of the cleanly stopped primary (a consistent base backup, as
 * pg_basebackup's is) with what `pg_basebackup -R` writes: standby.signal and
 * primary_conninfo. It runs as a hot standby (hot_standby is on by default):
 * it answers queries, pg_is_in_recovery() is true, and it accepts no write.
 */
export async function startPrimaryAndStandby(): Promise<PrimaryAndStandby> {
  const [primaryDir, standbyDir] = [await mkdtemp(join(tmpdir(), 'authdb-primary-')), await mkdtemp(join(tmpdir(), 'authdb-standby-'))];
  const binariesPackage = embeddedBinariesPackage();
  const options = { ephemeral: true, ...(binariesPackage ? { binariesPackage } : {}) };
  const primary = new EmbeddedCluster({ dir: primaryDir, ...options });
  const standby = new EmbeddedCluster({ dir: standbyDir, ...options });
  const stop = async (): Promise<void> => {
    await standby.stop().catch(() => undefined);
    await primary.stop().catch(() => undefined);
    await rm(primaryDir, { recursive: true, force: true });
    await rm(standbyDir, { recursive: true, force: true });
  };
  try {
    await primary.initialise();
    await primary.start();
    await primary.stop();
    // cp -a keeps the owner (the OS user the server runs as) and modes.
    await promisify(execFile)('cp', ['-a', `${primaryDir}/.`, `${standbyDir}/`]);
    await primary.start();
    const primaryUrl = new URL(await primary.superuserUrl());
    const conninfo = `host=127.0.0.1 port=${primaryUrl.port} user=${decodeURIComponent(primaryUrl.username)} password=${decodeURIComponent(primaryUrl.password)}`;
    await writeFile(join(standby.dataDir, 'standby.signal'), '');
    await appendFile(join(standby.dataDir, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo}'\n`);
    await standby.start();
    return { primaryUrl: primaryUrl.toString(), standbyUrl: await standby.superuserUrl(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
