/**
 * The SQLSTATEs the authdb SQL functions raise (class `AU`), each mapped to
 * the error class the client throws for it.
 *
 * `AuthDbErrorCode` is `keyof` this map, and `AuthDbErrorOf<C>` looks a code
 * up in it, so the three can never drift apart.
 */
export interface AuthDbErrorMap {
  readonly AU001: EmailAlreadyRegisteredError;
  readonly AU002: PhoneAlreadyRegisteredError;
  readonly AU003: UnknownRoleError;
  readonly AU004: RoleNotSelfAssignableError;
  readonly AU005: InvalidEmailError;
  readonly AU006: InvalidPhoneError;
  readonly AU007: UserNotFoundError;
  readonly AU008: ResendTooSoonError;
  readonly AU009: InvalidArgumentError;
  readonly AU010: UnknownTokenError;
  readonly AU011: TokenExpiredError;
  readonly AU012: TokenAlreadyUsedError;
  readonly AU013: TooManyOutstandingTokensError;
}

/** Every SQLSTATE the client turns into a typed error: `'AU001' | … | 'AU013'`. */
export type AuthDbErrorCode = keyof AuthDbErrorMap;

/**
 * The error class of one code, or — for the default, every code — the union
 * of all of them, discriminated by `code`:
 *
 * @example
 * function answer(error: AuthDbErrorOf): number {
 *   switch (error.code) {
 *     case 'AU001': return 409; // error: EmailAlreadyRegisteredError
 *     // … one case per code …
 *     default: { const unhandled: never = error; throw unhandled; }
 *   }
 * }
 */
export type AuthDbErrorOf<C extends AuthDbErrorCode = AuthDbErrorCode> = AuthDbErrorMap[C];

/** Construction options of every {@link AuthDbError}. */
export interface AuthDbErrorOptions {
  /** The database error (a `pg` `DatabaseError`), or nothing when the client itself rejected the call. */
  readonly cause?: unknown;
  /** The server's DETAIL line. */
  readonly detail?: string | undefined;
  /** The server's HINT line: what to do about it. */
  readonly hint?: string | undefined;
}

/**
 * Base class of the errors authdb's SQL functions raise on purpose. `code` is
 * the SQLSTATE; `cause` the original database error (absent when the client
 * rejected an argument before sending anything). Narrow a caught value with
 * {@link isAuthDbError} to switch over `code` exhaustively.
 *
 * Messages, details and hints may quote e-mail addresses, phone numbers and
 * role names; they never contain passwords, password hashes or tokens.
 */
export abstract class AuthDbError<C extends AuthDbErrorCode = AuthDbErrorCode> extends Error {
  abstract readonly code: C;
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: AuthDbErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.detail = options.detail;
    this.hint = options.hint;
  }
}

/** AU001: the e-mail address belongs to a confirmed account. */
export class EmailAlreadyRegisteredError extends AuthDbError<'AU001'> {
  readonly code = 'AU001';
}

/** AU002: the phone number is confirmed by another account. */
export class PhoneAlreadyRegisteredError extends AuthDbError<'AU002'> {
  readonly code = 'AU002';
}

/** AU003: no row of the roles table has that name. */
export class UnknownRoleError extends AuthDbError<'AU003'> {
  readonly code = 'AU003';
}

/** AU004: the role exists but users may not choose it at registration. */
export class RoleNotSelfAssignableError extends AuthDbError<'AU004'> {
  readonly code = 'AU004';
}

/** AU005: not an e-mail address (empty, too long, whitespace, not exactly one "@", …). */
export class InvalidEmailError extends AuthDbError<'AU005'> {
  readonly code = 'AU005';
}

/** AU006: not an E.164 phone number ("+" and 8 to 15 digits, after removing separators). */
export class InvalidPhoneError extends AuthDbError<'AU006'> {
  readonly code = 'AU006';
}

/** AU007: no user has that e-mail address. */
export class UserNotFoundError extends AuthDbError<'AU007'> {
  readonly code = 'AU007';
}

/** AU008: the user's last verification token was issued less than the minimum resend interval ago. */
export class ResendTooSoonError extends AuthDbError<'AU008'> {
  readonly code = 'AU008';
}

/**
 * AU009: any other invalid argument — raised by the database (NULL where a
 * value is required, an empty password hash, an interval that is not
 * positive) or, before anything is sent, by the client (a malformed
 * duration, both `password` and `passwordHash`, …). `argument` names it.
 */
export class InvalidArgumentError extends AuthDbError<'AU009'> {
  readonly code = 'AU009';
  /** The offending argument: the option name for client-side rejections, the SQL parameter (`p_token_ttl`) otherwise. */
  readonly argument: string | undefined;

  constructor(message: string, options: AuthDbErrorOptions & { readonly argument?: string | undefined } = {}) {
    super(message, options);
    this.argument = options.argument ?? /^(p_[a-z_]+):/.exec(message)?.[1];
  }
}

/** AU010: no verification token has that value (mistyped, or deleted by a purge). */
export class UnknownTokenError extends AuthDbError<'AU010'> {
  readonly code = 'AU010';
}

/** AU011: the verification token's lifetime is over. */
export class TokenExpiredError extends AuthDbError<'AU011'> {
  readonly code = 'AU011';
}

/** AU012: the verification token was used already, or revoked (another token of the user was verified, or a resend with its registration secret replaced it). */
export class TokenAlreadyUsedError extends AuthDbError<'AU012'> {
  readonly code = 'AU012';
}

/**
 * AU013: the address has 5 usable verification links outstanding; no new one
 * is issued (none is revoked to make room) before the oldest expires — the
 * message and `hint` say when. Tell the user to use a link already mailed.
 */
export class TooManyOutstandingTokensError extends AuthDbError<'AU013'> {
  readonly code = 'AU013';
}

type AuthDbErrorConstructor<C extends AuthDbErrorCode> = new (message: string, options?: AuthDbErrorOptions) => AuthDbErrorOf<C>;

const ERROR_CLASSES: { readonly [C in AuthDbErrorCode]: AuthDbErrorConstructor<C> } = {
  AU001: EmailAlreadyRegisteredError,
  AU002: PhoneAlreadyRegisteredError,
  AU003: UnknownRoleError,
  AU004: RoleNotSelfAssignableError,
  AU005: InvalidEmailError,
  AU006: InvalidPhoneError,
  AU007: UserNotFoundError,
  AU008: ResendTooSoonError,
  AU009: InvalidArgumentError,
  AU010: UnknownTokenError,
  AU011: TokenExpiredError,
  AU012: TokenAlreadyUsedError,
  AU013: TooManyOutstandingTokensError,
};

/** Every code, in order. */
export const AUTH_DB_ERROR_CODES: readonly AuthDbErrorCode[] = Object.freeze(Object.keys(ERROR_CLASSES) as AuthDbErrorCode[]);

/**
 * Narrows a caught value to the union of authdb's error classes, so that a
 * `switch (error.code)` narrows `error` itself and can be checked for
 * exhaustiveness.
 */
export function isAuthDbError(error: unknown): error is AuthDbErrorOf {
  return error instanceof AuthDbError;
}

/** Whether `code` is one of authdb's SQLSTATEs. */
export function isAuthDbErrorCode(code: unknown): code is AuthDbErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CLASSES, code);
}

/**
 * The typed error for a database error with an authdb SQLSTATE; any other
 * value is returned untouched (same object), so it can be rethrown as is.
 */
export function toAuthDbError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { code, message, detail, hint } = error as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
  if (!isAuthDbErrorCode(code) || typeof message !== 'string') return error;
  return new ERROR_CLASSES[code](message, { cause: error, detail: optionalString(detail), hint: optionalString(hint) });
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
