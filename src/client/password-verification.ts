import { randomBytes } from 'node:crypto';
import { verify as argon2Verify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import { hashPassword, type PasswordHashingOptions } from './password-hashing.js';
import { UnsupportedPasswordHashError } from './unsupported-password-hash-error.js';

/** The highest bcrypt cost factor checked (2^16 rounds, 64 times cost 10); a higher one is refused rather than run for minutes. */
export const MAX_BCRYPT_COST = 16;

/** The checks {@link PasswordVerifier} runs; each resolves to whether `password` matches `hash`. Default is {@link DEFAULT_PASSWORD_CHECKS}. */
export interface PasswordChecks {
  readonly argon2: (hash: string, password: string) => Promise<boolean>;
  readonly bcrypt: (hash: string, password: string) => Promise<boolean>;
}

/** @node-rs/argon2 and @node-rs/bcrypt, both off the main thread. */
export const DEFAULT_PASSWORD_CHECKS: PasswordChecks = Object.freeze({
  argon2: (hash: string, password: string) => argon2Verify(hash, password),
  bcrypt: (hash: string, password: string) => bcryptVerify(password, hash),
});

/** `$2a$`, `$2b$` or `$2y$`, a two-digit cost, 22 characters of salt and 31 of hash (bcrypt's base64). */
const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/**
 * Checks passwords against stored hashes in constant work: one password-hash
 * verification per call, whatever is stored.
 *
 * - an argon2 PHC string (`$argon2id$…`, what `registerUser` stores): verified with its parameters;
 * - a bcrypt hash (`$2a$`/`$2b$`/`$2y$`, cost up to {@link MAX_BCRYPT_COST}; a
 *   `passwordHash` imported from another system): verified at its own cost;
 * - no hash (unknown, unconfirmed or passwordless account): verified against a
 *   dummy argon2 hash of the configured costs, answering false;
 * - anything else: the same dummy verification, then {@link UnsupportedPasswordHashError}.
 */
export class PasswordVerifier {
  readonly #hashing: PasswordHashingOptions;
  readonly #checks: PasswordChecks;
  /** A hash of a random password nobody knows, made once with the configured costs. */
  #dummy: Promise<string> | undefined;

  constructor(hashing: PasswordHashingOptions, checks: PasswordChecks = DEFAULT_PASSWORD_CHECKS) {
    this.#hashing = hashing;
    this.#checks = checks;
  }

  /** Whether `password` matches `storedHash`; see the class for each kind of stored hash. */
  async matches(storedHash: string | null | undefined, password: string): Promise<boolean> {
    if (storedHash === null || storedHash === undefined) {
      await this.#dummyCheck(password);
      return false;
    }
    const check = this.#checkFor(storedHash);
    if (check === undefined) return this.#refuse(password);
    try {
      return await check(storedHash, password);
    } catch (error) {
      // A damaged hash of a known scheme fails before any work: do it, then refuse.
      return this.#refuse(password, error);
    }
  }

  #checkFor(storedHash: string): PasswordChecks[keyof PasswordChecks] | undefined {
    if (storedHash.startsWith('$argon2')) return this.#checks.argon2;
    const bcrypt = BCRYPT.exec(storedHash);
    if (bcrypt !== null && Number(bcrypt[1]) <= MAX_BCRYPT_COST) return this.#checks.bcrypt;
    return undefined;
  }

  async #refuse(password: string, cause?: unknown): Promise<never> {
    await this.#dummyCheck(password);
    throw new UnsupportedPasswordHashError(
      `authdb: the stored password hash of this account is neither an argon2 PHC string ($argon2id$…) nor a bcrypt hash ($2a$, $2b$, $2y$, cost at most ${MAX_BCRYPT_COST}), ` +
        'so verifyPassword cannot check it; store such hashes in one of those schemes, or check them with sign_in_credentials and your own code',
      cause === undefined ? {} : { cause },
    );
  }

  async #dummyCheck(password: string): Promise<void> {
    this.#dummy ??= hashPassword(randomBytes(32).toString('base64url'), this.#hashing);
    await this.#checks.argon2(await this.#dummy, password);
  }
}
