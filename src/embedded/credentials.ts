import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { EmbeddedError } from './errors.js';

/** Superuser the embedded cluster is initialised with. */
export const EMBEDDED_SUPERUSER = 'postgres';

/**
 * Login role for applications that the embedded cluster keeps: created with no
 * privileges; `authdb grant --role authdb_app` gives it the SQL API.
 */
export const APPLICATION_ROLE = 'authdb_app';

/** One login: a role name and its password. */
export interface Login {
  readonly user: string;
  readonly password: string;
}

/** What `cluster.json` holds: the superuser's login and the application role's. */
export interface ClusterCredentials {
  readonly superuser: Login;
  readonly application: Login;
}

/** 24 random bytes, base64url: 32 characters, no quoting needed anywhere. */
const PASSWORD = /^[A-Za-z0-9_-]{32}$/;

/** New random passwords for both roles. */
export function newCredentials(): ClusterCredentials {
  const password = (): string => randomBytes(24).toString('base64url');
  return { superuser: { user: EMBEDDED_SUPERUSER, password: password() }, application: { user: APPLICATION_ROLE, password: password() } };
}

export function serializeCredentials(credentials: ClusterCredentials): string {
  return `${JSON.stringify(credentials, null, 2)}\n`;
}

/**
 * Parses `cluster.json`. A corrupted file fails with an error naming the file
 * and what to do, and never any part of its content (it holds passwords).
 */
export function parseCredentials(text: string, file: string, repair: string): ClusterCredentials {
  const fail = (problem: string): never => {
    throw new EmbeddedError('AUTHDB_EMBEDDED_STATE', `${file} ${problem}; ${repair}`);
  };
  if (text.trim() === '') fail('is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('is not valid JSON');
  }
  const record = isRecord(value) ? value : fail('is not a JSON object');
  if ('password' in record && !('superuser' in record)) fail('was written by an older authdb (it has no application role)');
  return {
    superuser: login(record.superuser, EMBEDDED_SUPERUSER, 'superuser', fail),
    application: login(record.application, APPLICATION_ROLE, 'application', fail),
  };
}

function login(value: unknown, user: string, key: string, fail: (problem: string) => never): Login {
  if (!isRecord(value)) return fail(`has no "${key}" login`);
  if (value.user !== user) return fail(`names another role than "${user}" under "${key}"`);
  if (typeof value.password !== 'string' || !PASSWORD.test(value.password)) return fail(`holds no valid password under "${key}" (authdb writes 32 base64url characters)`);
  return { user, password: value.password };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Iterations of PostgreSQL's default `scram_iterations`. */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 7677), so
 * SQL that sets a password never carries the password itself (a statement
 * can end up in a log).
 */
export function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
