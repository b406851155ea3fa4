import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The OS account a PostgreSQL server runs as; `undefined` ids mean "the current user". */
export interface ServerAccount {
  readonly name: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** Name of the unprivileged OS user the server runs as when authdb itself runs as root. */
export const SERVER_OS_USER = 'postgres';

/**
 * PostgreSQL refuses to run as root. As root, returns the `postgres` OS user
 * (creating it as a system account when missing); otherwise the current user.
 */
export async function serverAccount(): Promise<ServerAccount> {
  if (process.getuid?.() !== 0) return { name: 'current user' };
  const existing = await lookup(SERVER_OS_USER);
  if (existing) return existing;
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_OS_USER]);
  } catch (error) {
    throw new Error(
      `running as root, the embedded PostgreSQL needs an unprivileged OS user "${SERVER_OS_USER}" and creating it failed; ` +
        `create it (useradd --system ${SERVER_OS_USER}) or run authdb as a normal user`,
      { cause: error },
    );
  }
  const created = await lookup(SERVER_OS_USER);
  if (!created) throw new Error(`OS user "${SERVER_OS_USER}" was created but cannot be looked up`);
  return created;
}

async function lookup(name: string): Promise<ServerAccount | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}
