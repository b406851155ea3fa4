import { sql, type Kysely, type RawBuilder } from 'kysely';
import { DEFAULT_SCHEMA } from '../migrate/migrator.js';
import type {
  AuthDb,
  EmailVerificationPreview,
  IssuedToken,
  PasswordInput,
  PreviewEmailVerificationOptions,
  RegisteredUser,
  RegisterUserInput,
  ResendEmailVerificationOptions,
  SignedIn,
  TokenMetadata,
  UserRecord,
  VerifiedEmail,
  VerifyEmailOptions,
  VerifyPasswordInput,
} from './auth-db.js';
import { openConnection, type AuthDbConnection } from './connection.js';
import type { Database } from './database-types.js';
import { parseDuration, type Duration } from './duration.js';
import { InvalidArgumentError, toAuthDbError } from './errors.js';
import { requireInputBounds, withinInputBounds } from './input-bounds.js';
import { hashPassword, type PasswordHashingOptions } from './password-hashing.js';
import { PasswordVerifier } from './password-verification.js';
import { findUserByEmail, listOutstandingTokens } from './read-helpers.js';
import { fromUtcText, fromUtcTextOrNull, utcText } from './timestamp-text.js';

/** Compile-time configuration of {@link createAuthDb}, given as its type argument. */
export interface AuthDbConfig {
  /**
   * The names in your `roles` table. Declaring them makes any other role in
   * `registerUser` a type error. Default is `string` (any role compiles; the
   * database still rejects unknown ones with UnknownRoleError).
   */
  readonly roles: string;
}

export interface AuthDbOptions {
  /** A connection string, a `pg.Pool` or a `Kysely` instance; see {@link AuthDbConnection}. */
  readonly connection: AuthDbConnection;
  /** Schema the authdb migrations were applied to. Default is `public`. */
  readonly schema?: string | undefined;
  /** Argon2id costs for `registerUser({ password })`. Default is {@link DEFAULT_PASSWORD_HASHING}. */
  readonly passwordHashing?: PasswordHashingOptions | undefined;
}

/**
 * Creates the authdb client. It connects lazily, on the first call.
 *
 * @example
 * const authDb = createAuthDb<{ roles: 'user' | 'admin' }>({ connection: process.env.DATABASE_URL! });
 * const { token, registrationSecret } = await authDb.registerUser({ email: 'ada@example.com', password: 'correct horse battery staple' });
 * // … mail the token, keep registrationSecret in an HTTP-only cookie; when the user clicks the link:
 * const { userId } = await authDb.verifyEmail(token, { registrationSecret });
 * await authDb.destroy();
 */
export function createAuthDb<Config extends AuthDbConfig = AuthDbConfig>(options: AuthDbOptions): AuthDb<Config['roles']> {
  return new AuthDbClient<Config['roles']>(options);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class AuthDbClient<Role extends string> implements AuthDb<Role> {
  /** Plugin-free; runs the function calls, whose names carry the schema. */
  readonly #db: Kysely<Database>;
  /** The same, bound to the schema: reads the tables. */
  readonly #tables: Kysely<Database>;
  readonly #close: () => Promise<void>;
  readonly #schema: string;
  readonly #hashing: PasswordHashingOptions;
  readonly #verifier: PasswordVerifier;

  constructor(options: AuthDbOptions) {
    const { db, close } = openConnection(options.connection);
    this.#schema = options.schema ?? DEFAULT_SCHEMA;
    this.#db = db;
    this.#tables = db.withSchema(this.#schema);
    this.#close = close;
    this.#hashing = options.passwordHashing ?? {};
    this.#verifier = new PasswordVerifier(this.#hashing);
  }

  async registerUser(input: RegisterUserInput<Role>): Promise<RegisteredUser> {
    const { email, password, passwordHash, phone, role } = input;
    requireString(email, 'email');
    // Both cannot compile; this is for JavaScript callers.
    requirePasswordInput(input);
    if (phone !== undefined) requireString(phone, 'phone');
    if (role !== undefined) requireString(role, 'role');
    requireInputBounds({ email, password, passwordHash, phone, role });
    const tokenTtl = optionalDuration(input.tokenTtl, 'tokenTtl');
    const minResendInterval = optionalDuration(input.minResendInterval, 'minResendInterval', { allowZero: true });
    // Hash first, whatever the outcome will be: an address that is already
    // registered must not answer faster than a new one.
    const hash = password === undefined ? passwordHash : await hashPassword(password, this.#hashing);
    const row = await this.#call<{
      user_id: string;
      token: string;
      expires_at: string;
      outcome: RegisteredUser['outcome'];
      registration_secret: string;
      email: string;
    }>(
      sql`select r.user_id, r.token, ${utcText(sql.ref('r.expires_at'))} as expires_at, r.outcome, r.registration_secret, r.email from ${this.#function('register_user_with_token')}(${namedArguments([
        ['p_email', email, 'text'],
        ['p_password_hash', hash, 'text'],
        ['p_phone', phone, 'text'],
        ['p_role', role, 'text'],
        ['p_token_ttl', tokenTtl, 'interval'],
        ['p_min_resend_interval', minResendInterval, 'interval'],
      ])}) as r`,
    );
    return {
      userId: row.user_id,
      token: row.token,
      expiresAt: fromUtcText(row.expires_at),
      outcome: row.outcome,
      registrationSecret: row.registration_secret,
      email: row.email,
    };
  }

  async verifyEmail(token: string, options: VerifyEmailOptions = {}): Promise<VerifiedEmail> {
    requireString(token, 'token');
    const { registrationSecret, password, passwordHash } = options;
    if (registrationSecret !== undefined) requireString(registrationSecret, 'registrationSecret');
    requirePasswordInput(options);
    requireInputBounds({ token, registrationSecret, password, passwordHash });
    const hash = password === undefined ? passwordHash : await hashPassword(password, this.#hashing);
    const row = await this.#call<{ user_id: string }>(
      sql`select ${this.#function('verify_email')}(${namedArguments([
        ['p_token', token, 'text'],
        ['p_registration_secret', registrationSecret, 'text'],
        ['p_password_hash', hash, 'text'],
      ])}) as user_id`,
    );
    return { userId: row.user_id };
  }

  async previewEmailVerification(token: string, options: PreviewEmailVerificationOptions = {}): Promise<EmailVerificationPreview<Role>> {
    requireString(token, 'token');
    if (options.registrationSecret !== undefined) requireString(options.registrationSecret, 'registrationSecret');
    requireInputBounds({ token, registrationSecret: options.registrationSecret });
    const row = await this.#call<{
      user_id: string | null;
      token_state: EmailVerificationPreview['tokenState'];
      token_valid: boolean;
      registration_secret_matches: boolean;
      sets_password: boolean;
      sets_phone: boolean;
      role: string | null;
      expires_at: string | null;
    }>(
      sql`select p.user_id, p.token_state, p.token_valid, p.registration_secret_matches, p.sets_password, p.sets_phone, p.role, ${utcText(sql.ref('p.expires_at'))} as expires_at
            from ${this.#function('preview_email_verification')}(${namedArguments([
              ['p_token', token, 'text'],
              ['p_registration_secret', options.registrationSecret, 'text'],
            ])}) as p`,
    );
    return {
      userId: row.user_id,
      tokenState: row.token_state,
      tokenValid: row.token_valid,
      registrationSecretMatches: row.registration_secret_matches,
      setsPassword: row.sets_password,
      setsPhone: row.sets_phone,
      // The roles the caller declared are, by declaration, the roles table's names.
      role: row.role as Role | null,
      expiresAt: fromUtcTextOrNull(row.expires_at),
    };
  }

  async resendEmailVerification(email: string, options: ResendEmailVerificationOptions = {}): Promise<IssuedToken> {
    requireString(email, 'email');
    const tokenTtl = optionalDuration(options.tokenTtl, 'tokenTtl');
    const minResendInterval = optionalDuration(options.minResendInterval, 'minResendInterval', { allowZero: true });
    if (options.registrationSecret !== undefined) requireString(options.registrationSecret, 'registrationSecret');
    requireInputBounds({ email, registrationSecret: options.registrationSecret });
    const row = await this.#call<{ user_id: string; token: string; expires_at: string; email: string }>(
      sql`select r.user_id, r.token, ${utcText(sql.ref('r.expires_at'))} as expires_at, r.email from ${this.#function('resend_email_verification')}(${namedArguments([
        ['p_email', email, 'text'],
        ['p_token_ttl', tokenTtl, 'interval'],
        ['p_min_resend_interval', minResendInterval, 'interval'],
        ['p_registration_secret', options.registrationSecret, 'text'],
      ])}) as r`,
    );
    return { userId: row.user_id, token: row.token, expiresAt: fromUtcText(row.expires_at), email: row.email };
  }

  async verifyPassword(input: VerifyPasswordInput): Promise<SignedIn<Role> | undefined> {
    requireString(input.email, 'email');
    requireString(input.password, 'password');
    requireInputBounds({ email: input.email, password: input.password });
    let rows: { user_id: string; password_hash: string | null; role: string }[];
    try {
      ({ rows } = await sql<{ user_id: string; password_hash: string | null; role: string }>`select c.user_id, c.password_hash, c.role
          from ${this.#function('sign_in_credentials')}(${namedArguments([['p_email', input.email, 'text']])}) as c`.execute(this.#db));
    } catch (error) {
      throw toAuthDbError(error);
    }
    // One argon2 verification whatever the outcome: unknown, unconfirmed and
    // passwordless accounts are checked against the dummy hash.
    const [row] = rows;
    const matches = await this.#verifier.matches(row?.password_hash, input.password);
    return row !== undefined && matches ? { userId: row.user_id, role: row.role as Role } : undefined;
  }

  async purgeExpiredTokens(olderThan?: Duration): Promise<number> {
    const interval = optionalDuration(olderThan, 'olderThan');
    const row = await this.#call<{ deleted: string | number | bigint }>(
      sql`select ${this.#function('purge_expired_email_verification_tokens')}(${namedArguments([['p_older_than', interval, 'interval']])}) as deleted`,
    );
    return Number(row.deleted);
  }

  async findUserByEmail(email: string): Promise<UserRecord<Role> | undefined> {
    requireString(email, 'email');
    // Over its bounds the database refuses the address (AU005), and an address it refuses belongs to no user.
    if (!withinInputBounds({ email })) return undefined;
    return findUserByEmail<Role>(this.#tables, this.#schema, email);
  }

  async listOutstandingTokens(userId: string): Promise<readonly TokenMetadata<Role>[]> {
    requireString(userId, 'userId');
    if (!UUID.test(userId)) throw new InvalidArgumentError(`userId: ${JSON.stringify(userId.slice(0, 60))} is not a UUID`, { argument: 'userId' });
    return listOutstandingTokens<Role>(this.#tables, userId);
  }

  destroy(): Promise<void> {
    return this.#close();
  }

  /** The schema-qualified name of an authdb SQL function. */
  #function(name: string): RawBuilder<unknown> {
    return sql.id(this.#schema, name);
  }

  /** Runs a call that returns exactly one row; authdb SQLSTATEs become typed errors. */
  async #call<Row>(query: RawBuilder<Row>): Promise<Row> {
    let rows: Row[];
    try {
      ({ rows } = await query.execute(this.#db));
    } catch (error) {
      throw toAuthDbError(error);
    }
    const [row] = rows;
    if (row === undefined) throw new Error('authdb: the SQL function returned no row; are the authdb migrations applied to this schema?');
    return row;
  }
}

type SqlArgument = readonly [name: string, value: string | undefined, type: 'text' | 'interval'];

/**
 * `name => $n::pg_catalog.type, …` for the arguments that have a value.
 * Omitted ones take the SQL function's own default, so defaults live in one
 * place. The type is qualified: an unqualified `text` resolves through the
 * connection's search_path, where a domain `public.text` with a CHECK would
 * see every bound value (test/security/shadowing-client.test.ts).
 */
function namedArguments(args: readonly SqlArgument[]): RawBuilder<unknown> {
  const present = args.filter(([, value]) => value !== undefined);
  return sql.join(present.map(([name, value, type]) => sql`${sql.id(name)} => ${value}::${sql.id('pg_catalog', type)}`));
}

/** `password` xor `passwordHash` (both cannot compile; this is for JavaScript callers), each a string when given. */
function requirePasswordInput(input: PasswordInput): void {
  const untyped = input as { readonly password?: unknown; readonly passwordHash?: unknown };
  if (untyped.password !== undefined && untyped.passwordHash !== undefined) {
    throw new InvalidArgumentError('password, passwordHash: give one of them, not both', { argument: 'password' });
  }
  if (untyped.password !== undefined) requireString(untyped.password, 'password', { nonEmpty: true });
  if (untyped.passwordHash !== undefined) requireString(untyped.passwordHash, 'passwordHash');
}

function requireString(value: unknown, argument: string, options: { readonly nonEmpty?: boolean } = {}): asserts value is string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${argument}: must be a string, got ${value === null ? 'null' : typeof value}`, { argument });
  if (options.nonEmpty && value === '') throw new InvalidArgumentError(`${argument}: must not be empty`, { argument });
}

function optionalDuration(value: Duration | undefined, argument: string, options: { readonly allowZero?: boolean } = {}): string | undefined {
  return value === undefined ? undefined : parseDuration(value, argument, options).interval;
}
