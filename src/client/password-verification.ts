import { randomBytes } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import { hashPassword, type PasswordHashingOptions } from './password-hashing.js';

/**
 * Checks passwords against stored argon2id hashes in constant work: when
 * there is no stored hash to check (unknown, unconfirmed or passwordless
 * account) it verifies against a dummy hash of the same cost instead, so every
 * sign-in attempt costs one argon2 verification and timing does not reveal
 * which addresses have accounts.
 */
export class PasswordVerifier {
  readonly #hashing: PasswordHashingOptions;
  /** A hash of a random password nobody knows, made once with the configured costs. */
  #dummy: Promise<string> | undefined;

  constructor(hashing: PasswordHashingOptions) {
    this.#hashing = hashing;
  }

  /**
   * Whether `password` matches `storedHash`; for an `undefined` or `null`
   * hash, does the same work against the dummy hash and answers false.
   * Throws (without quoting the hash) when the stored hash is not an argon2
   * PHC string, e.g. a bcrypt hash given as `passwordHash` at registration.
   */
  async matches(storedHash: string | null | undefined, password: string): Promise<boolean> {
    if (storedHash === null || storedHash === undefined) {
      await verify(await this.#dummyHash(), password);
      return false;
    }
    if (!storedHash.startsWith('$argon2')) {
      throw new Error('authdb: the stored password hash is not an argon2 PHC string; verifyPassword checks argon2 hashes only (use sign_in_credentials and your own scheme)');
    }
    return verify(storedHash, password);
  }

  #dummyHash(): Promise<string> {
    this.#dummy ??= hashPassword(randomBytes(32).toString('base64url'), this.#hashing);
    return this.#dummy;
  }
}
