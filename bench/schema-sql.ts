/**
 * Every statement of the bench that knows authdb's tables or function
 * signatures, in one place: adjust here when the schema changes.
 *
 * Statements use pgbench's variable syntax (`:tag`, `:slot`, `:id`); the
 * driver runner turns them into `$n` parameters, so pgbench and `pg` run the
 * same SQL text. Each operation is identified by a tag (one per path,
 * concurrency and round) and a slot (1..n within it); addresses and tokens are
 * derived from both, so pre-loaded rows and measured calls agree.
 *
 * Functions are called by name with named arguments, and only the columns
 * the bench needs are selected, so new parameters with defaults and new
 * output columns do not break it.
 */

/** Role of every bench user and token (a self-assignable role that the migrations seed). */
export const BENCH_ROLE = 'user';

/**
 * A new address for (tag, slot): an md5 local part, so new registrations land
 * all over the e-mail index rather than at one end of it. Lower-case hex: the
 * canonical form of any normalisation.
 */
export const EMAIL = `concat(md5(concat(:tag::text, '-', :slot::int)), '@bench.example')`;

/** Plaintext verification token of a pre-loaded row (tag, slot). */
export const TOKEN = `concat('vt-', :tag::text, '-', :slot::int)`;

/** SHA-256 of a token, as authdb stores it. */
const TOKEN_HASH = `sha256(convert_to(${TOKEN}, 'UTF8'))`;

/** A fresh random 32-byte token hash (what the app-side and floor paths store). */
const RANDOM_TOKEN_HASH = `sha256(uuid_send(gen_random_uuid()))`;

/** Expiry of issued tokens (the functions' default TTL). */
const EXPIRES = `now() + interval '24 hours'`;

// ---------------------------------------------------------------------------
// Registration of a new address
// ---------------------------------------------------------------------------

/** The server floor: both inserts in one statement, nothing else. */
export const REGISTER_FLOOR = `WITH u AS (
  INSERT INTO users (id, email, role) VALUES (gen_random_uuid(), ${EMAIL}, '${BENCH_ROLE}') RETURNING id
)
INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at)
SELECT u.id, ${RANDOM_TOKEN_HASH}, '${BENCH_ROLE}', ${EXPIRES} FROM u`;

export const REGISTER_FUNCTION = `SELECT r.user_id FROM register_user_with_token(p_email => ${EMAIL}) AS r`;

/** The naive application-side transaction (BEGIN/COMMIT around these; the second sets :id). */
export const REGISTER_NAIVE: readonly string[] = [
  `SELECT u.id FROM users AS u WHERE u.email = ${EMAIL}`,
  `INSERT INTO users (id, email, role) VALUES (gen_random_uuid(), ${EMAIL}, '${BENCH_ROLE}') RETURNING id`,
  `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at) VALUES (:id::uuid, ${RANDOM_TOKEN_HASH}, '${BENCH_ROLE}', ${EXPIRES})`,
];

// ---------------------------------------------------------------------------
// Reissue: a new token for an existing, unconfirmed address
// ---------------------------------------------------------------------------

/** Its floor: find the user by address, revoke the outstanding token, insert the new one. */
export const REISSUE_FLOOR = `WITH u AS (
  SELECT id FROM users WHERE email = ${EMAIL}
), revoked AS (
  UPDATE email_verification_tokens AS t SET revoked_at = now()
    FROM u WHERE t.user_id = u.id AND t.consumed_at IS NULL AND t.revoked_at IS NULL
  RETURNING t.id
)
-- Reading "revoked" makes the UPDATE run before the INSERT (the one-outstanding index).
INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at)
SELECT u.id, ${RANDOM_TOKEN_HASH}, '${BENCH_ROLE}', ${EXPIRES} FROM u, (SELECT count(*) FROM revoked) AS r`;

/** The bench reissues each address once per round: the throttle must not refuse it. */
export const REISSUE_FUNCTION = `SELECT r.user_id FROM register_user_with_token(p_email => ${EMAIL}, p_min_resend_interval => interval '1 microsecond') AS r`;

// ---------------------------------------------------------------------------
// Verification of a pre-loaded token
// ---------------------------------------------------------------------------

/** Its floor: one UPDATE … RETURNING of the token and the user. */
export const VERIFY_FLOOR = `WITH t AS (
  UPDATE email_verification_tokens SET consumed_at = now()
   WHERE token_hash = ${TOKEN_HASH} AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > now()
  RETURNING user_id
)
UPDATE users AS u SET email_confirmed_at = now() FROM t WHERE u.id = t.user_id RETURNING u.id`;

export const VERIFY_FUNCTION = `SELECT verify_email(p_token => ${TOKEN}) AS user_id`;

// ---------------------------------------------------------------------------
// The typed client against a bare `pg` call of the same function
// ---------------------------------------------------------------------------

/**
 * What `registerUser({ email, passwordHash })` sends, written by hand: the
 * driver floor. $1 address, $2 password hash. Selects the columns the client
 * returns.
 */
export const REGISTER_WITH_HASH_BARE =
  'SELECT r.user_id, r.token, r.expires_at, r.outcome FROM register_user_with_token(p_email => $1::text, p_password_hash => $2::text) AS r';

/** A precomputed password hash (a made-up argon2id string; nothing is hashed in the bench). */
export const PRECOMPUTED_PASSWORD_HASH = `$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0YmVuY2g$${'A'.repeat(43)}`;

// ---------------------------------------------------------------------------
// Bulk loading (INSERT … SELECT, never through the functions)
// ---------------------------------------------------------------------------

/** md5 of row g of tag $1: the local part of its address and its user id. */
const LOADED_MD5 = `md5(concat($1::text, '-', g))`;
/** The address of pre-loaded row g (same as EMAIL with :tag = $1, :slot = g). */
const LOADED_EMAIL = `concat(${LOADED_MD5}, '@bench.example')`;
/** Deterministic user id of row g: the same md5, so tokens need no join. */
const LOADED_ID = `${LOADED_MD5}::uuid`;

/**
 * Unconfirmed users with one outstanding token each, rows g = $2 .. $3 of
 * tag $1. The token of row g is TOKEN with :tag = $1, :slot = g. Rows are
 * inserted in md5 order, which is both the e-mail and the user-id order, so
 * most index inserts append instead of landing on random pages.
 */
export const BULK_LOAD: readonly string[] = [
  `INSERT INTO users (id, email, role)
   SELECT ${LOADED_ID}, ${LOADED_EMAIL}, '${BENCH_ROLE}' FROM generate_series($2::int, $3::int) AS g ORDER BY ${LOADED_MD5}`,
  `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at)
   SELECT ${LOADED_ID}, sha256(convert_to(concat('vt-', $1::text, '-', g), 'UTF8')), '${BENCH_ROLE}', now() + interval '7 days'
     FROM generate_series($2::int, $3::int) AS g ORDER BY ${LOADED_MD5}`,
];

/** Tables the bulk load writes, vacuumed and analysed after it. */
export const LOADED_TABLES: readonly string[] = ['users', 'email_verification_tokens'];

/** Row counts reported next to the scaling results. */
export const COUNT_USERS = 'SELECT count(*)::bigint AS n FROM users';

/**
 * What one operation of a path changes, counted before and after every run
 * (the difference must equal the operations run, or the run is rejected): a
 * floor that silently matched nothing would look fast.
 */
export const EFFECT_COUNT = {
  none: 'SELECT count(*)::bigint AS n FROM users',
  users: 'SELECT count(*)::bigint AS n FROM email_verification_tokens',
  tokens: 'SELECT count(*)::bigint AS n FROM email_verification_tokens WHERE consumed_at IS NOT NULL',
} as const;
