/**
 * The input bounds of authdb: the longest value each argument may have, in
 * characters (Unicode code points, what PostgreSQL's `char_length` counts).
 * The SQL functions refuse longer text arguments before any other work
 * (README, "Input bounds"); the typed client refuses the same values before
 * any work of its own — no argon2 hashing, no round trip — with the error
 * class the database would raise.
 *
 * Use them for your forms too (`maxlength`), so a user never meets the bound.
 */

/**
 * An e-mail address as given, before trimming or normalisation: 1024
 * characters. Its canonical form is at most 254 (local part 1 to 64); the
 * bound on the input is what keeps the work on a hostile value small.
 * Longer: `InvalidEmailError` (AU005).
 */
export const MAX_EMAIL_LENGTH = 1024;

/**
 * Each label of an e-mail address's domain, as given: 63 characters (the DNS
 * limit). Labels as given are separated by ".", by every character the
 * IDNA mapping turns into a full stop (U+3002, U+FF0E, U+FF61, U+2024 and
 * the others NFKC maps to one) and by the whitespace trimmed around an
 * address — as canonical_email cuts them, before it normalises anything.
 * Longer: `InvalidEmailError` (AU005).
 */
export const MAX_DOMAIN_LABEL_LENGTH = 63;

/** A password hash (`passwordHash`, `p_password_hash`): 1024 characters. Longer: `InvalidArgumentError` (AU009). */
export const MAX_PASSWORD_HASH_LENGTH = 1024;

/**
 * A plaintext `password` given to the client: 1024 characters, checked
 * before it is hashed (argon2 itself takes any length; the bound keeps a
 * hostile request from costing more than a normal one). Longer:
 * `InvalidArgumentError` (AU009), at registration, verification and sign-in.
 */
export const MAX_PASSWORD_LENGTH = 1024;

/** A phone number as typed, separators included: 64 characters. Longer: `InvalidPhoneError` (AU006). */
export const MAX_PHONE_LENGTH = 64;

/** A role name: 63 characters, the longest the roles table holds. Longer: `UnknownRoleError` (AU003). */
export const MAX_ROLE_LENGTH = 63;

/**
 * A verification token or registration secret: 64 characters (authdb issues
 * 43). Longer: `InvalidArgumentError` (AU009), before it is hashed or looked up.
 */
export const MAX_TOKEN_LENGTH = 64;
