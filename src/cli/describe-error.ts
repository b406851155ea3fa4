import { MigrationError } from '../migrate/errors.js';

/** The code a user or a script acts on: authdb's `AUTHDB_…`, the server's SQLSTATE, or undefined. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof MigrationError) return error.code;
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('AUTHDB_') || /^[0-9A-Z]{5}$/.test(code)) ? code : undefined;
}

/** One line for stderr: the message, and authdb's code in brackets or the server's SQLSTATE in front. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  if (code === undefined) return error.message;
  return code.startsWith('AUTHDB_') ? `${error.message} [${code}]` : `SQLSTATE ${code}: ${error.message}`;
}
