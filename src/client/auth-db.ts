import type { Duration } from './duration.js';

/**
 * authdb from TypeScript: every write goes through the SQL functions of the
 * authdb migrations, so the database enforces the same rules for every
 * client. Create one with `createAuthDb`.
 *
 * Methods reject with the typed errors of `errors.ts` (all extending
 * `AuthDbError`, code `AU001`–`AU013`) for every rule the database enforces,
 * and with `InvalidArgumentError` (AU009) — before anything is sent — for
 * malformed arguments; any other database error is rethrown untouched.
 *
 * `Role` is the union of role names declared with
 * `createAuthDb<{ roles: … }>()`; `string` when none are declared.
 */
export interface AuthDb<Role extends string = string> {
  /**
   * Registers an e-mail address (stored trimmed and lower-cased) and issues a
   * verification token and a registration secret, via `register_user_with_token`.
   *
   * `outcome` is `'created'` for a new user and `'reissued'` for an existing,
   * still unconfirmed one; either way the password hash, phone and role of
   * *this* call are carried by the new token, and the password and phone
   * become the user's only when the token is verified **with this call's
   * `registrationSecret`**. Mail the token; keep the secret with the client
   * that registered (an HTTP-only cookie), never in the mail. Earlier
   * registrations' tokens stay valid: while 5 are usable, no new one is
   * issued (TooManyOutstandingTokensError). Mail the token to `email`, the
   * address as stored, not to the spelling the user typed. A `password` is
   * hashed with argon2id in this process first — always, whatever the
   * outcome, so the call takes about as long for a registered address as for
   * a new one.
   *
   * @throws EmailAlreadyRegisteredError AU001 · PhoneAlreadyRegisteredError AU002 ·
   *   UnknownRoleError AU003 · RoleNotSelfAssignableError AU004 · InvalidEmailError AU005 ·
   *   InvalidPhoneError AU006 · ResendTooSoonError AU008 · InvalidArgumentError AU009 ·
   *   TooManyOutstandingTokensError AU013
   */
  registerUser(input: RegisterUserInput<Role>): Promise<RegisteredUser>;

  /**
   * Consumes a verification token (`verify_email`): confirms the e-mail and
   * applies the token's role. With the registration's `registrationSecret`
   * the password hash and phone that registration carried take effect too;
   * without it (or with a wrong one) none of them does. A `password` (hashed
   * here with argon2id first) or `passwordHash` given here becomes the
   * password either way: whoever holds the mailed token chose it.
   * Call {@link previewEmailVerification} first to know whether to ask for one.
   * The token's role is checked again here: one made non-self-assignable
   * since the registration is refused (RoleNotSelfAssignableError, nothing
   * changes). Expiry is decided by the server's clock at the call.
   *
   * @throws UnknownTokenError AU010 · TokenExpiredError AU011 · TokenAlreadyUsedError AU012 ·
   *   RoleNotSelfAssignableError AU004 · InvalidArgumentError AU009
   */
  verifyEmail(token: string, options?: VerifyEmailOptions): Promise<VerifiedEmail>;

  /**
   * What {@link verifyEmail} would do with this token (and secret), without
   * doing it (`preview_email_verification`): whether the token is valid and
   * whether a password would be set — when not, ask the user for one.
   *
   * @throws InvalidArgumentError AU009
   */
  previewEmailVerification(token: string, options?: PreviewEmailVerificationOptions): Promise<EmailVerificationPreview<Role>>;

  /**
   * Issues a new token for an unconfirmed user (`resend_email_verification`).
   * With the `registrationSecret` of one of its registrations: a token for
   * that registration (its details, its earlier token revoked). Without: a
   * token that carries no credentials. Other registrations' tokens stay valid.
   * Mail the token to `email`, the address as stored.
   *
   * @throws EmailAlreadyRegisteredError AU001 · RoleNotSelfAssignableError AU004 (the role
   *   the token would carry is no longer self-assignable) · InvalidEmailError AU005 ·
   *   UserNotFoundError AU007 · ResendTooSoonError AU008 · InvalidArgumentError AU009 ·
   *   TooManyOutstandingTokensError AU013
   */
  resendEmailVerification(email: string, options?: ResendEmailVerificationOptions): Promise<IssuedToken>;

  /**
   * Checks a sign-in (`sign_in_credentials`): the user's id and role when
   * `email` belongs to a **confirmed** account whose stored hash matches
   * `password` (argon2, or bcrypt `$2a$`/`$2b$`/`$2y$` imported as
   * `passwordHash`), otherwise `undefined`. Unknown, unconfirmed, passwordless and
   * wrong-password cases do the same work (an argon2id verification, against
   * a dummy hash when there is no real one), so timing does not tell them apart.
   *
   * @throws InvalidEmailError AU005 · InvalidArgumentError AU009 ·
   *   UnsupportedPasswordHashError AUTHDB_PASSWORD_HASH when the stored hash is of
   *   another scheme (after the same dummy argon2id work)
   */
  verifyPassword(input: VerifyPasswordInput): Promise<SignedIn<Role> | undefined>;

  /**
   * Deletes tokens that stopped being usable more than `olderThan` ago
   * (`purge_expired_email_verification_tokens`), then the unconfirmed users
   * left without any token (abandoned or squatted registrations). Returns
   * how many tokens were deleted.
   * Default `olderThan` is the function's default, 7 days.
   *
   * @throws InvalidArgumentError AU009
   */
  purgeExpiredTokens(olderThan?: Duration): Promise<number>;

  /**
   * The user with this e-mail address, compared in the database's canonical
   * form (`canonical_email(email)`, evaluated by the server, the form every
   * SQL function uses), or `undefined` (also for an address the database
   * refuses as invalid). Never returns the password hash.
   */
  findUserByEmail(email: string): Promise<UserRecord<Role> | undefined>;

  /**
   * Metadata of a user's outstanding verification tokens (neither consumed
   * nor revoked; expired ones included and flagged), oldest first: one per
   * pending registration, at most 5 unexpired. Never returns token or
   * password hashes.
   *
   * @throws InvalidArgumentError AU009 when `userId` is not a UUID
   */
  listOutstandingTokens(userId: string): Promise<readonly TokenMetadata<Role>[]>;

  /**
   * Closes the pool `createAuthDb` opened for a connection string. Does
   * nothing for a `pg.Pool` or `Kysely` instance you passed in: those
   * remain yours to close.
   */
  destroy(): Promise<void>;
}

/**
 * What `registerUser` takes. `email` is required; give `password` (hashed
 * here with argon2id), or `passwordHash` (already hashed by you), or neither
 * (a passwordless account) — never both: that does not compile.
 */
export type RegisterUserInput<Role extends string = string> = RegisterUserDetails<Role> & PasswordInput;

/** The fields of {@link RegisterUserInput} besides the password. */
export interface RegisterUserDetails<Role extends string = string> {
  /** The address to register; the database trims and lower-cases it. */
  readonly email: string;
  /** E.164 phone number; spaces, dashes, dots and parentheses are removed by the database. */
  readonly phone?: string | undefined;
  /** Role to register with; it must be self-assignable. Default is the function's default, `'user'`. */
  readonly role?: Role | undefined;
  /** How long the token stays valid. Default is the function's default, 24 hours. */
  readonly tokenTtl?: Duration | undefined;
  /** Minimum time between two tokens for one address (AU008 otherwise); 0 (or `'0 seconds'`) turns the throttle off. Default is the function's default, 60 seconds. */
  readonly minResendInterval?: Duration | undefined;
}

/** `password` or `passwordHash` or neither; `never` makes "both" a type error. */
export type PasswordInput =
  | {
      /** Plaintext password: hashed with argon2id before it leaves the process. */
      readonly password?: string | undefined;
      readonly passwordHash?: never;
    }
  | {
      readonly password?: never;
      /** A hash you computed (any scheme); stored as given. */
      readonly passwordHash?: string | undefined;
    };

export interface RegisteredUser {
  readonly userId: string;
  /** The verification token, in plaintext. Only its SHA-256 is stored: mail it now, do not log it. */
  readonly token: string;
  readonly expiresAt: Date;
  /** `'created'`: a new user. `'reissued'`: the address was registered but unconfirmed; earlier registrations' tokens stay valid. */
  readonly outcome: 'created' | 'reissued';
  /** The address as stored (`canonical_email(email)`): mail the token to this, not to what the user typed. */
  readonly email: string;
  /**
   * For the registering client only (an HTTP-only cookie), never for the
   * mail: `verifyEmail` applies this registration's password and phone only
   * with it. 43 characters (244 random bits); only its SHA-256 is stored.
   */
  readonly registrationSecret: string;
}

export interface VerifiedEmail {
  readonly userId: string;
}

/** What `verifyEmail` takes besides the token. */
export type VerifyEmailOptions = {
  /** The `registrationSecret` `registerUser` returned to this client, if it has it. */
  readonly registrationSecret?: string | undefined;
} & PasswordInput;

export interface PreviewEmailVerificationOptions {
  /** The `registrationSecret` `registerUser` returned to this client, if it has it. */
  readonly registrationSecret?: string | undefined;
}

/** What `verifyEmail` would do; see `preview_email_verification`. */
export interface EmailVerificationPreview<Role extends string = string> {
  /** The token's user; `null` for an unknown token. */
  readonly userId: string | null;
  /** `'valid'`, or why `verifyEmail` would fail: `'unknown'` (AU010), `'expired'` (AU011), `'used'` / `'revoked'` (AU012). */
  readonly tokenState: 'valid' | 'unknown' | 'expired' | 'used' | 'revoked';
  readonly tokenValid: boolean;
  /** The secret given is that of the registration that issued the token. */
  readonly registrationSecretMatches: boolean;
  /** `verifyEmail` without a password would set one (the registration's). When false, ask the user for a password. */
  readonly setsPassword: boolean;
  /** `verifyEmail` would set the registration's phone. */
  readonly setsPhone: boolean;
  /** The role verification would give; `null` for an unknown token. */
  readonly role: Role | null;
  readonly expiresAt: Date | null;
}

export interface ResendEmailVerificationOptions {
  /** How long the new token stays valid. Default is the function's default, 24 hours. */
  readonly tokenTtl?: Duration | undefined;
  /** Minimum time since the previous token (AU008 otherwise); 0 (or `'0 seconds'`) turns the throttle off. Default is the function's default, 60 seconds. */
  readonly minResendInterval?: Duration | undefined;
  /** The `registrationSecret` of the registration to resend for. Without it the new token carries no credentials. */
  readonly registrationSecret?: string | undefined;
}

export interface VerifyPasswordInput {
  readonly email: string;
  /** The plaintext password, checked against the stored hash (argon2 or bcrypt) in this process. */
  readonly password: string;
}

/** A successful sign-in check. */
export interface SignedIn<Role extends string = string> {
  readonly userId: string;
  readonly role: Role;
}

export interface IssuedToken {
  readonly userId: string;
  /** The verification token, in plaintext. Only its SHA-256 is stored. */
  readonly token: string;
  readonly expiresAt: Date;
  /** The address as stored: mail the token to this. */
  readonly email: string;
}

/** A user as admin tools see it: no password hash. */
export interface UserRecord<Role extends string = string> {
  readonly id: string;
  /** Normalised (trimmed, lower-cased). */
  readonly email: string;
  readonly phone: string | null;
  readonly role: Role;
  /** Whether a password hash is stored (false for passwordless accounts). */
  readonly hasPassword: boolean;
  readonly emailConfirmedAt: Date | null;
  readonly phoneConfirmedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A verification token without its hash, and the registration details it carries. */
export interface TokenMetadata<Role extends string = string> {
  /** Row id (a bigint, as a string). */
  readonly id: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** `expiresAt` has passed: verifying it would fail with TokenExpiredError. */
  readonly expired: boolean;
  /** Role the user gets when this token is verified. */
  readonly role: Role;
  /** Phone the user gets when this token is verified. */
  readonly phone: string | null;
  /** Whether verifying this token sets a password hash (false: the account becomes passwordless). */
  readonly hasPassword: boolean;
}
