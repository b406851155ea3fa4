/**
 * `verifyPassword` met a stored password hash it cannot check: neither an
 * argon2 PHC string nor a bcrypt hash of a supported cost (a `passwordHash`
 * of another scheme given at registration or verification, or a damaged
 * one). Thrown after the same argon2 work as any other sign-in, so the
 * answer takes as long; the message never quotes the hash.
 */
export class UnsupportedPasswordHashError extends Error {
  /** Stable code. */
  readonly code = 'AUTHDB_PASSWORD_HASH';

  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'UnsupportedPasswordHashError';
  }
}
