import { InvalidArgumentError, InvalidEmailError, InvalidPhoneError, UnknownRoleError, type AuthDbError } from './errors.js';
import {
  MAX_DOMAIN_LABEL_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_PASSWORD_HASH_LENGTH,
  MAX_PASSWORD_LENGTH,
  MAX_PHONE_LENGTH,
  MAX_ROLE_LENGTH,
  MAX_TOKEN_LENGTH,
} from './input-limits.js';

/** The string arguments of the client's methods, each with its bound (input-limits.ts). */
export interface BoundedInput {
  readonly email?: string | undefined;
  readonly password?: string | undefined;
  readonly passwordHash?: string | undefined;
  readonly phone?: string | undefined;
  readonly role?: string | undefined;
  readonly token?: string | undefined;
  readonly registrationSecret?: string | undefined;
}

type Bound = readonly [max: number, error: (message: string, argument: string) => AuthDbError];

const invalidArgument = (message: string, argument: string): AuthDbError => new InvalidArgumentError(message, { argument });

/** In the order of the SQL functions' parameters; each refused with the class of the SQLSTATE the database would raise. */
const BOUNDS: { readonly [K in keyof Required<BoundedInput>]: Bound } = {
  email: [MAX_EMAIL_LENGTH, (message) => new InvalidEmailError(message)],
  token: [MAX_TOKEN_LENGTH, invalidArgument],
  registrationSecret: [MAX_TOKEN_LENGTH, invalidArgument],
  password: [MAX_PASSWORD_LENGTH, invalidArgument],
  passwordHash: [MAX_PASSWORD_HASH_LENGTH, invalidArgument],
  phone: [MAX_PHONE_LENGTH, (message) => new InvalidPhoneError(message)],
  role: [MAX_ROLE_LENGTH, (message) => new UnknownRoleError(message)],
};

/**
 * The characters that end a domain label as given, as a regular-expression
 * class body: the same as canonical_email's (authdb_email_canonical_once).
 */
const LABEL_SEPARATORS = '.\\u2024-\\u2026\\u2488-\\u249b\\u3002\\u33c2\\u33c7\\u33d8\\ufe12\\ufe19\\ufe30\\ufe52\\uff0e\\uff61\\u{1f100} \\t\\n\\r\\f\\v';

/** A run of more than {@link MAX_DOMAIN_LABEL_LENGTH} characters of one label, after the first "@". */
const LONG_LABEL = new RegExp(`@.*?[^@${LABEL_SEPARATORS}]{${MAX_DOMAIN_LABEL_LENGTH + 1}}`, 'su');

/**
 * Refuses, before any work, every given value longer than its bound — and an
 * e-mail address with a domain label longer than 63 characters — with the
 * error the SQL function would raise (the message names the argument and
 * the limit, never the value). Constant work whatever the values' length.
 */
export function requireInputBounds(input: BoundedInput): void {
  const error = inputBoundsError(input);
  if (error !== undefined) throw error;
}

/** Whether {@link requireInputBounds} accepts `input`. */
export function withinInputBounds(input: BoundedInput): boolean {
  return inputBoundsError(input) === undefined;
}

function inputBoundsError(input: BoundedInput): AuthDbError | undefined {
  for (const argument of Object.keys(BOUNDS) as (keyof BoundedInput)[]) {
    const value = input[argument];
    if (value === undefined) continue;
    const [max, error] = BOUNDS[argument];
    if (!fits(value, max)) return error(`${argument}: must be at most ${max} characters`, argument);
    if (argument === 'email' && LONG_LABEL.test(value)) {
      return error(`email: each domain label must be at most ${MAX_DOMAIN_LABEL_LENGTH} characters`, argument);
    }
  }
  return undefined;
}

/**
 * Whether `value` has at most `max` code points. A code point is one or two
 * UTF-16 units, so only a string of `max` to `2 * max` units is counted.
 */
function fits(value: string, max: number): boolean {
  if (value.length <= max) return true;
  if (value.length > 2 * max) return false;
  let codePoints = 0;
  for (let i = 0; i < value.length; i += (value.codePointAt(i) ?? 0) > 0xffff ? 2 : 1) codePoints++;
  return codePoints <= max;
}
