// Type-level tests. `tsc --noEmit -p .` (npm run typecheck) compiles this
// file: every `@ts-expect-error` line must fail to compile, or the check
// fails ("unused @ts-expect-error"). At run time vitest only evaluates the
// expectTypeOf calls; the wrong calls sit in functions that are never called.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createAuthDb,
  isAuthDbError,
  type AuthDb,
  type AuthDbConnection,
  type AuthDbErrorCode,
  type AuthDbErrorOf,
  type Database,
  type EmailAlreadyRegisteredError,
  type RegisteredUser,
  type RegisterUserInput,
  type TokenExpiredError,
  type UserRecord,
  type Users,
} from '../../src/index.js';

type AppRole = 'user' | 'admin' | 'editor';

describe('createAuthDb types', () => {
  it('declared roles type registerUser and the read helpers', () => {
    expectTypeOf(createAuthDb<{ roles: AppRole }>).returns.toEqualTypeOf<AuthDb<AppRole>>();
    expectTypeOf<RegisterUserInput<AppRole>['role']>().toEqualTypeOf<AppRole | undefined>();
    expectTypeOf<UserRecord<AppRole>['role']>().toEqualTypeOf<AppRole>();
    // Without a declaration any role compiles (the database still checks it).
    expectTypeOf(createAuthDb).returns.toEqualTypeOf<AuthDb>();
    expectTypeOf<RegisterUserInput['role']>().toEqualTypeOf<string | undefined>();
  });

  it('registerUser accepts an email with a password, a hash, or neither', () => {
    expectTypeOf<AuthDb['registerUser']>().toBeCallableWith({ email: 'a@example.com' });
    expectTypeOf<AuthDb['registerUser']>().toBeCallableWith({ email: 'a@example.com', password: 'pw' });
    expectTypeOf<AuthDb['registerUser']>().toBeCallableWith({ email: 'a@example.com', passwordHash: '$argon2id$…' });
    expectTypeOf<AuthDb['registerUser']>().toBeCallableWith({ email: 'a@example.com', password: undefined, phone: '+4930123456789', tokenTtl: '1 hour', minResendInterval: 30_000 });
    expectTypeOf<AuthDb['registerUser']>().returns.resolves.toEqualTypeOf<RegisteredUser>();
    expectTypeOf<RegisteredUser['outcome']>().toEqualTypeOf<'created' | 'reissued'>();
  });

  it('connections: a URL, a pg.Pool, or a Kysely instance of any database type', () => {
    expectTypeOf(createAuthDb).toBeCallableWith({ connection: 'postgres://localhost/app', schema: 'auth' });
    expectTypeOf<pg.Pool>().toExtend<AuthDbConnection>();
    expectTypeOf<Kysely<{ pets: { id: number } }>>().toExtend<AuthDbConnection>();
    expectTypeOf<Transaction<{ pets: { id: number } }>>().toExtend<AuthDbConnection>();
    expectTypeOf<Kysely<Database>>().toExtend<AuthDbConnection>();
    // A pg.Client is not a supported connection (use a Pool).
    expectTypeOf<pg.Client>().not.toExtend<AuthDbConnection>();
  });

  it('the generated table types describe the tables', () => {
    expectTypeOf<keyof Database>().toEqualTypeOf<'email_verification_tokens' | 'roles' | 'users'>();
    expectTypeOf<Selectable<Users>['email_confirmed_at']>().toEqualTypeOf<Date | null>();
    expectTypeOf<Selectable<Users>['id']>().toEqualTypeOf<string>();
  });

  it('errors: AuthDbErrorOf maps codes to classes, and a switch over code narrows exhaustively', () => {
    expectTypeOf<AuthDbErrorOf<'AU001'>>().toEqualTypeOf<EmailAlreadyRegisteredError>();
    expectTypeOf<AuthDbErrorOf['code']>().toEqualTypeOf<AuthDbErrorCode>();
    expectTypeOf<EmailAlreadyRegisteredError['code']>().toEqualTypeOf<'AU001'>();
    expectTypeOf(isAuthDbError).guards.toEqualTypeOf<AuthDbErrorOf>();

    function status(error: AuthDbErrorOf): number {
      switch (error.code) {
        case 'AU001':
          expectTypeOf(error).toEqualTypeOf<EmailAlreadyRegisteredError>();
          return 409;
        case 'AU002':
          return 409;
        case 'AU003':
        case 'AU004':
        case 'AU005':
        case 'AU006':
        case 'AU009':
          return 422;
        case 'AU007':
          return 404;
        case 'AU008':
        case 'AU013':
          return 429;
        case 'AU011':
          expectTypeOf(error).toEqualTypeOf<TokenExpiredError>();
          return 410;
        case 'AU010':
        case 'AU012':
          return 410;
        default: {
          const unhandled: never = error;
          return unhandled;
        }
      }
    }
    expectTypeOf(status).parameter(0).toEqualTypeOf<AuthDbErrorOf>();

    // A switch that forgets a code does not compile.
    function incomplete(error: AuthDbErrorOf): number {
      switch (error.code) {
        case 'AU001':
        case 'AU002':
        case 'AU003':
        case 'AU004':
        case 'AU005':
        case 'AU006':
        case 'AU007':
        case 'AU008':
        case 'AU009':
        case 'AU010':
        case 'AU011':
        case 'AU013':
          return 1;
        default: {
          // @ts-expect-error -- AU012 (TokenAlreadyUsedError) is not handled
          const unhandled: never = error;
          return unhandled;
        }
      }
    }
    expectTypeOf(incomplete).returns.toBeNumber();
  });
});

// Wrong calls: each line below must be a compile error. Never called.
export function wrongCalls(plain: AuthDb, typed: AuthDb<AppRole>): void {
  // @ts-expect-error -- unknown role when roles are declared
  void typed.registerUser({ email: 'a@example.com', role: 'superuser' });
  void typed.registerUser({ email: 'a@example.com', role: 'editor' });
  void plain.registerUser({ email: 'a@example.com', role: 'anything' });

  // @ts-expect-error -- both password and passwordHash
  void plain.registerUser({ email: 'a@example.com', password: 'pw', passwordHash: '$argon2id$…' });
  // @ts-expect-error -- both, even when one may be undefined
  void plain.registerUser({ email: 'a@example.com', password: 'pw' as string | undefined, passwordHash: '$argon2id$…' });

  // @ts-expect-error -- missing email
  void plain.registerUser({ password: 'pw' });
  // @ts-expect-error -- email must be a string
  void plain.registerUser({ email: null });
  // @ts-expect-error -- unknown option
  void plain.registerUser({ email: 'a@example.com', passwrd: 'pw' });
  // @ts-expect-error -- durations are numbers or strings
  void plain.registerUser({ email: 'a@example.com', tokenTtl: new Date() });
  // @ts-expect-error -- verifyEmail takes the token string
  void plain.verifyEmail({ token: 't' });
  // @ts-expect-error -- resendEmailVerification options have no role
  void plain.resendEmailVerification('a@example.com', { role: 'user' });
  // @ts-expect-error -- the connection is required
  createAuthDb({ schema: 'auth' });
  // @ts-expect-error -- roles must be strings
  createAuthDb<{ roles: 1 | 2 }>({ connection: '' });
}
