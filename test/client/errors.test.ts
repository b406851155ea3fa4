// The error classes as a table (pure; no database). Every class is also
// raised by the real functions in register-user / verify-resend-purge tests.
import { describe, expect, it } from 'vitest';
import { toAuthDbError } from '../../src/client/errors.js';
import {
  AUTH_DB_ERROR_CODES,
  AuthDbError,
  EmailAlreadyRegisteredError,
  InvalidArgumentError,
  InvalidEmailError,
  InvalidPhoneError,
  isAuthDbError,
  isAuthDbErrorCode,
  PhoneAlreadyRegisteredError,
  ResendTooSoonError,
  RoleNotSelfAssignableError,
  TokenAlreadyUsedError,
  TokenExpiredError,
  TooManyOutstandingTokensError,
  UnknownRoleError,
  UnknownTokenError,
  UserNotFoundError,
} from '../../src/index.js';

const CLASSES = [
  ['AU001', EmailAlreadyRegisteredError],
  ['AU002', PhoneAlreadyRegisteredError],
  ['AU003', UnknownRoleError],
  ['AU004', RoleNotSelfAssignableError],
  ['AU005', InvalidEmailError],
  ['AU006', InvalidPhoneError],
  ['AU007', UserNotFoundError],
  ['AU008', ResendTooSoonError],
  ['AU009', InvalidArgumentError],
  ['AU010', UnknownTokenError],
  ['AU011', TokenExpiredError],
  ['AU012', TokenAlreadyUsedError],
  ['AU013', TooManyOutstandingTokensError],
] as const;

describe('error classes', () => {
  it('cover exactly AU001 to AU013, in order', () => {
    expect(AUTH_DB_ERROR_CODES).toEqual(CLASSES.map(([code]) => code));
    expect(Object.isFrozen(AUTH_DB_ERROR_CODES)).toBe(true);
  });

  it.each(CLASSES)('%s is %o: an AuthDbError with its code, name, detail, hint and cause', (code, errorClass) => {
    const cause = Object.assign(new Error(`p_x: something about ${code}`), { code, detail: 'the detail', hint: 'the hint' });
    const error = toAuthDbError(cause);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(AuthDbError);
    expect(error).toBeInstanceOf(Error);
    expect(isAuthDbError(error)).toBe(true);
    const typed = error as AuthDbError;
    expect(typed.code).toBe(code);
    expect(typed.name).toBe(errorClass.name);
    expect(typed.message).toBe(cause.message);
    expect(typed.detail).toBe('the detail');
    expect(typed.hint).toBe('the hint');
    expect(typed.cause).toBe(cause);
  });

  it('lets every other error through untouched (the same object)', () => {
    for (const other of [
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      Object.assign(new Error('class AU but not ours'), { code: 'AU999' }),
      new TypeError('no code'),
      'a string',
      undefined,
    ]) {
      expect(toAuthDbError(other)).toBe(other);
      expect(isAuthDbError(other)).toBe(false);
    }
  });

  it('isAuthDbErrorCode knows the codes and nothing else', () => {
    expect(AUTH_DB_ERROR_CODES.every(isAuthDbErrorCode)).toBe(true);
    for (const other of ['AU000', 'AU014', 'au001', '23505', 'toString', 1, null]) expect(isAuthDbErrorCode(other)).toBe(false);
  });

  it('InvalidArgumentError names the argument: from the client, or from the p_ prefix of the server message', () => {
    expect(new InvalidArgumentError('tokenTtl: bad', { argument: 'tokenTtl' }).argument).toBe('tokenTtl');
    expect((toAuthDbError(Object.assign(new Error('p_token_ttl: must be a positive interval, got 00:00:00'), { code: 'AU009' })) as InvalidArgumentError).argument).toBe(
      'p_token_ttl',
    );
    expect(new InvalidArgumentError('no prefix').argument).toBeUndefined();
  });
});
