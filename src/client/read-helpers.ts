import { sql, type Kysely } from 'kysely';
import type { TokenMetadata, UserRecord } from './auth-db.js';
import type { Database } from './database-types.js';

/**
 * The characters authdb_normalize_email() trims: ASCII space, tab, LF, CR,
 * FF and VT (`btrim(p_email, E' \t\n\r\f\x0b')`).
 */
const EMAIL_TRIM_CHARACTERS = ' \t\n\r\f\v';

// Every function and operator below is pg_catalog-qualified and every
// parameter typed: the application's session may have any search_path, and
// a function or operator planted in a schema on it must never take the place
// of a built-in (nor a better-matching overload win against an untyped
// parameter). Tables are qualified by the caller's `withSchema`.

/**
 * The user whose stored (normalised) address equals `email` normalised the
 * way the database does it. The normalisation is evaluated by the server —
 * the same btrim() and lower() with the same collation — so non-ASCII
 * letters compare exactly as register_user_with_token stored them.
 * `db` must already be bound to the authdb schema.
 */
export async function findUserByEmail<Role extends string>(db: Kysely<Database>, email: string): Promise<UserRecord<Role> | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'phone', 'role', 'email_confirmed_at', 'phone_confirmed_at', 'created_at', 'updated_at'])
    .select((eb) => eb('password_hash', 'is not', null).$castTo<boolean>().as('has_password'))
    .where(sql<boolean>`${sql.ref('email')} OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(${email}::pg_catalog.text, ${EMAIL_TRIM_CHARACTERS}::pg_catalog.text))`)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    id: row.id,
    email: row.email,
    phone: row.phone,
    // The roles the caller declared are, by declaration, the roles table's names.
    role: row.role as Role,
    hasPassword: row.has_password,
    emailConfirmedAt: row.email_confirmed_at,
    phoneConfirmedAt: row.phone_confirmed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Metadata of the user's outstanding (unconsumed, unrevoked) tokens, oldest
 * first. Selects no hash column. `db` must already be bound to the authdb schema.
 */
export async function listOutstandingTokens<Role extends string>(db: Kysely<Database>, userId: string): Promise<readonly TokenMetadata<Role>[]> {
  const rows = await db
    .selectFrom('email_verification_tokens')
    .select(['id', 'created_at', 'expires_at', 'role', 'phone'])
    .select((eb) => [
      eb('password_hash', 'is not', null).$castTo<boolean>().as('has_password'),
      // The test verify_email makes: a token is unusable at its expires_at.
      sql<boolean>`${sql.ref('expires_at')} OPERATOR(pg_catalog.<=) pg_catalog.now()`.as('expired'),
    ])
    .where(sql<boolean>`${sql.ref('user_id')} OPERATOR(pg_catalog.=) ${userId}::pg_catalog.uuid`)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    expired: row.expired,
    role: row.role as Role,
    phone: row.phone,
    hasPassword: row.has_password,
  }));
}
