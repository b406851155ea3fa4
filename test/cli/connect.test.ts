import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runMain } from '../support/cli.js';

// Connecting is bounded: a server that accepts TCP and never answers (a wrong
// port behind a proxy, a hung pooler) fails the command after the connect
// timeout, naming the server with its password redacted. Connection URLs are
// checked before anything connects.

const SECRET = 'Sup3r-Secret-Pw';

let silent: Server;
let silentUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // Accepts every connection and never sends a byte.
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  silentUrl = `postgres://deployer:${SECRET}@127.0.0.1:${address.port}/app`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

function expectTimeout(result: { code: number; stdout: string; stderr: string }, origin: string, seconds: number): void {
  const { port } = new URL(silentUrl);
  expect(result.stderr).toContain(`cannot connect to postgres://deployer:***@127.0.0.1:${port}/app (from ${origin}): `);
  expect(result.stderr).toContain(`did not complete the connection within ${seconds} s`);
  expect(result.stderr).toContain('[AUTHDB_CONNECT]');
  expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET);
  expect(result.code).toBe(1);
}

describe('a server that accepts TCP and never answers', () => {
  it('fails after --connect-timeout, naming the server with the password redacted', async () => {
    expectTimeout(await runCli(['migrate', 'status', '--database-url', silentUrl, '--connect-timeout', '1s']), '--database-url', 1);
  });

  it('honours PGCONNECT_TIMEOUT (seconds, as libpq reads it)', async () => {
    expectTimeout(await runCli(['schema', 'check'], { env: { DATABASE_URL: silentUrl, PGCONNECT_TIMEOUT: '2' } }), 'DATABASE_URL', 2);
  });

  it('fails after the default 10 s with neither set', async () => {
    expectTimeout(await runCli(['migrate', 'up', '--database-url', silentUrl]), '--database-url', 10);
  }, 40_000);
});

describe('connection URLs are checked before anything connects', () => {
  const cases: readonly (readonly [string, readonly string[], Record<string, string>, string])[] = [
    ['free text in --database-url', ['--database-url', 'use the staging database please'], {}, '--database-url: the value is not a URL'],
    ['free text in DATABASE_URL', [], { DATABASE_URL: 'db01.internal' }, 'DATABASE_URL: the value is not a URL'],
    ['another scheme', ['--database-url', `mysql://root:${SECRET}@db01.internal/app`], {}, '--database-url: the value has the scheme "mysql:"; only postgres:// and postgresql:// URLs are accepted'],
    ['an http URL in DATABASE_URL', [], { DATABASE_URL: 'https://db01.internal/app' }, 'DATABASE_URL: the value has the scheme "https:"'],
    ['a broken postgres URL', ['--database-url', `postgres://deployer:${SECRET}@db 01.internal/app`], {}, '--database-url: the value is not a valid URL'],
  ];
  for (const [what, args, env, message] of cases) {
    it(`refuses ${what} as a usage error (exit 2), naming where it came from and not the value`, async () => {
      const result = await runMain(['migrate', 'status', ...args], { AUTHDB_EMBEDDED_DIR: '/dev/null/authdb', ...env });
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain(SECRET);
      expect(result.stderr).not.toMatch(/ENOTFOUND|EAI_AGAIN|getaddrinfo/);
      expect(result.code).toBe(2);
    });
  }

  it('checks --scratch-url the same way', async () => {
    const result = await runMain(['migrate', 'verify-reversible', '--database-url', silentUrl, '--scratch-url', 'scratch please']);
    expect(result.stderr).toContain('--scratch-url: the value is not a URL');
    expect(result.code).toBe(2);
  });
});
