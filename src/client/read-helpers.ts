import { sql, type Kysely } from 'kysely';
import type { TokenMetadata, UserRecord } from './auth-db.js';
import type { Database } from './database-types.js';
import { fromUtcText, fromUtcTextOrNull, utcText } from './timestamp-text.js';

/** SQLSTATE of canonical_email() for a string that is not a valid address. */
const INVALID_EMAIL = 'AU005';

// Every function and operator below is pg_catalog-qualified and every
// parameter typed: the application's session may have any search_path, and
// a function or operator planted in a schema on it must never take the place
// of a built-in (nor a better-matching overload win against an untyped
// parameter). Tables are qualified by the caller's `withSchema`.

/**
 * The user whose stored address equals `canonical_email(email)`: the
 * database's own canonical form (the one register_user_with_token stores and
 * every SQL function looks up), computed by the server, never re-implemented
 * here. An address the database refuses as invalid (AU005) cannot belong to
 * any user: `undefined`. `db` must already be bound to the authdb schema,
 * which `schema` names (for the function).
 */
export async function findUserByEmail<Role extends string>(db: Kysely<Database>, schema: string, email: string): Promise<UserRecord<Role> | undefined> {
  const query = db
    .selectFrom('users')
    .select(['id', 'email', 'phone', 'role'])
    .select([
      utcText(sql.ref('email_confirmed_at')).as('email_confirmed_at'),
      utcText(sql.ref('phone_confirmed_at')).as('phone_confirmed_at'),
      utcText(sql.ref('created_at')).$castTo<string>().as('created_at'),
      utcText(sql.ref('updated_at')).$castTo<string>().as('updated_at'),
    ])
    .select((eb) => eb('password_hash', 'is not', null).$castTo<boolean>().as('has_password'))
    .where(sql<boolean>`${sql.ref('email')} OPERATOR(pg_catalog.=) ${sql.id(schema, 'canonical_email')}(${email}::pg_catalog.text)`);
  const row = await query.executeTakeFirst().catch((error: unknown) => {
    if ((error as { code?: unknown } | null)?.code === INVALID_EMAIL) return undefined;
    throw error;
  });
  if (row === undefined) return undefined;
  return {
    id: row.id,
    email: row.email,
    phone: row.phone,
    // The roles the caller declared are, by declaration, the roles table's names.
    role: row.role as Role,
    hasPassword: row.has_password,
    emailConfirmedAt: fromUtcTextOrNull(row.email_confirmed_at),
    phoneConfirmedAt: fromUtcTextOrNull(row.phone_confirmed_at),
    createdAt: fromUtcText(row.created_at),
    updatedAt: fromUtcText(row.updated_at),
  };
}

/**
 * Metadata of the user's outstanding (unconsumed, unrevoked) tokens, oldest
 * first. Selects no hash column. `db` must already be bound to the authdb schema.
 */
export async function listOutstandingTokens<Role extends string>(db: Kysely<Database>, userId: string): Promise<readonly TokenMetadata<Role>[]> {
  const rows = await db
    .selectFrom('email_verification_tokens')
    .select(['id', 'role', 'phone'])
    .select((eb) => [
      utcText(sql.ref('created_at')).$castTo<string>().as('created_at'),
      utcText(sql.ref('expires_at')).$castTo<string>().as('expires_at'),
      eb('password_hash', 'is not', null).$castTo<boolean>().as('has_password'),
      // The test verify_email makes: a token is unusable at its expires_at, by the clock.
      sql<boolean>`${sql.ref('expires_at')} OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp()`.as('expired'),
    ])
    .where(sql<boolean>`${sql.ref('user_id')} OPERATOR(pg_catalog.=) ${userId}::pg_catalog.uuid`)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    createdAt: fromUtcText(row.created_at),
    expiresAt: fromUtcText(row.expires_at),
    expired: row.expired,
    role: row.role as Role,
    phone: row.phone,
    hasPassword: row.has_password,
  }));
}
