import { hash, type Algorithm } from '@node-rs/argon2';

/** Argon2id cost parameters for the passwords `registerUser` hashes. */
export interface PasswordHashingOptions {
  /** Memory per hash, in KiB. Default is {@link DEFAULT_PASSWORD_HASHING}`.memoryCost` (19 MiB). */
  readonly memoryCost?: number;
  /** Passes over the memory. Default is {@link DEFAULT_PASSWORD_HASHING}`.timeCost` (2). */
  readonly timeCost?: number;
  /** Lanes computed in parallel. Default is {@link DEFAULT_PASSWORD_HASHING}`.parallelism` (1). */
  readonly parallelism?: number;
}

/** OWASP's minimum argon2id configuration (m=19456 KiB, t=2, p=1), which is also @node-rs/argon2's default. */
export const DEFAULT_PASSWORD_HASHING: Required<PasswordHashingOptions> = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });

// `Algorithm` is a const enum: the package exports no runtime object for it
// (`Algorithm.Argon2id` would be undefined at run time), so the member's
// value is spelled out, and checked against the declaration by the type.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- no runtime enum object to take the member from
const ARGON2ID = 2 as Algorithm.Argon2id;

/**
 * Hashes a password with argon2id and a random 16-byte salt, off the main
 * thread. Returns a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`)
 * that `verify` from @node-rs/argon2 (and every other argon2 library) checks.
 */
export function hashPassword(password: string, options: PasswordHashingOptions = {}): Promise<string> {
  return hash(password, { ...DEFAULT_PASSWORD_HASHING, ...options, algorithm: ARGON2ID });
}
