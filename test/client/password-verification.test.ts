// PasswordVerifier: one verification per sign-in whatever is stored (issue 14 §5
// "Imported password hashes"). The real argon2 and bcrypt checks run, wrapped
// to record which ran on which hash and that it completed: the dummy argon2
// work is observed, not timed.
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/client/password-hashing.js';
import { DEFAULT_PASSWORD_CHECKS, MAX_BCRYPT_COST, PasswordVerifier, type PasswordChecks } from '../../src/client/password-verification.js';
import { UnsupportedPasswordHashError } from '../../src/index.js';

/** Cheap argon2 costs, so the dummy hash is recognisable by its parameters. */
const HASHING = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
/** A completed check of the dummy hash: argon2id with {@link HASHING}'s costs, answering false. */
const DUMMY_CHECK = /^argon2: \$argon2id\$v=19\$m=1024,t=1,p=1\$.* → false$/;

/** The real checks, recording `scheme: hash → result` for every call that completed (`→ threw` otherwise). */
function recordingChecks(): { readonly checks: PasswordChecks; readonly calls: string[] } {
  const calls: string[] = [];
  const record =
    (scheme: keyof PasswordChecks) =>
    async (hash: string, password: string): Promise<boolean> => {
      try {
        const matches = await DEFAULT_PASSWORD_CHECKS[scheme](hash, password);
        calls.push(`${scheme}: ${hash} → ${matches}`);
        return matches;
      } catch (error) {
        calls.push(`${scheme}: ${hash} → threw`);
        throw error;
      }
    };
  return { checks: { argon2: record('argon2'), bcrypt: record('bcrypt') }, calls };
}

describe('PasswordVerifier', () => {
  it('verifies an argon2 hash with one argon2 check', async () => {
    const { checks, calls } = recordingChecks();
    const verifier = new PasswordVerifier(HASHING, checks);
    const stored = await hashPassword('right', HASHING);
    expect(await verifier.matches(stored, 'right')).toBe(true);
    expect(await verifier.matches(stored, 'wrong')).toBe(false);
    expect(calls).toEqual([`argon2: ${stored} → true`, `argon2: ${stored} → false`]);
  });

  it.each(['$2a$', '$2b$', '$2y$'])('verifies a bcrypt %s hash with one bcrypt check and no argon2 work', async (prefix) => {
    const { checks, calls } = recordingChecks();
    const verifier = new PasswordVerifier(HASHING, checks);
    const stored = (await bcryptHash('imported', 4)).replace(/^\$2b\$/, prefix);
    expect(await verifier.matches(stored, 'imported')).toBe(true);
    expect(await verifier.matches(stored, 'wrong')).toBe(false);
    expect(calls).toEqual([`bcrypt: ${stored} → true`, `bcrypt: ${stored} → false`]);
  });

  it('checks the dummy argon2 hash of the configured costs when nothing is stored', async () => {
    const { checks, calls } = recordingChecks();
    const verifier = new PasswordVerifier(HASHING, checks);
    expect(await verifier.matches(null, 'pw')).toBe(false);
    expect(await verifier.matches(undefined, 'pw')).toBe(false);
    expect(calls).toHaveLength(2);
    expect(calls).toEqual([expect.stringMatching(DUMMY_CHECK), expect.stringMatching(DUMMY_CHECK)]);
  });

  const bcryptBody = '$abcdefghijklmnopqrstuuN9Hv1cTX8M8W5eIuBY9bMm9Ob6nmkzK';
  it.each([
    ['pbkdf2 (Django)', 'pbkdf2_sha256$600000$c2FsdA$aGFzaA=='],
    ['SHA-1 hex', '5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8'],
    ['scrypt PHC', '$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA'],
    [`bcrypt of cost ${MAX_BCRYPT_COST + 1}`, `$2b$${MAX_BCRYPT_COST + 1}${bcryptBody}`],
    ['bcrypt of cost 31', `$2b$31${bcryptBody}`],
    ['a truncated bcrypt hash', '$2b$10$abcdefghijklmnopqrstuu'],
    ['a damaged argon2 string', '$argon2id$v=19$m=19456,t=2,p=1$not-base64!$x'],
    ['an empty string', ''],
  ])('refuses %s with UnsupportedPasswordHashError after the same dummy argon2 check', async (_, stored) => {
    const { checks, calls } = recordingChecks();
    const verifier = new PasswordVerifier(HASHING, checks);
    const error = await verifier.matches(stored, 'pw').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedPasswordHashError);
    expect((error as UnsupportedPasswordHashError).code).toBe('AUTHDB_PASSWORD_HASH');
    if (stored !== '') expect((error as Error).message).not.toContain(stored);
    // A damaged hash of a known scheme may have been tried (and failed at once); the dummy check completed last.
    expect(calls.filter((call) => !call.endsWith('→ threw'))).toEqual([expect.stringMatching(DUMMY_CHECK)]);
  });
});
