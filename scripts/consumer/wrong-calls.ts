// Calls a consumer's strict type check must reject. Each line below a
// `@ts-expect-error` must fail to compile: if one compiled, the directive would
// be unused and tsc would fail (TS2578). Compiled by scripts/consumer-smoke.sh,
// never run.
import { createAuthDb, type AuthDbErrorOf } from 'pg-authdb';

// @ts-expect-error the connection is a URL, a pg.Pool or a Kysely, not a number
createAuthDb({ connection: 42 });
// @ts-expect-error the connection is required
createAuthDb({});
// @ts-expect-error no such option (a misspelt schema)
createAuthDb({ connection: 'postgres://localhost/app', shema: 'auth' });
// @ts-expect-error the schema is a name
createAuthDb({ connection: 'postgres://localhost/app', schema: 1 });

const authDb = createAuthDb<{ roles: 'user' | 'admin' }>({ connection: 'postgres://localhost/app' });
// @ts-expect-error a role the application did not declare
void authDb.registerUser({ email: 'ada@example.com', password: 'correct horse', role: 'root' });
// @ts-expect-error the e-mail address is required
void authDb.registerUser({ password: 'correct horse' });
// @ts-expect-error a password or its hash, not both
void authDb.registerUser({ email: 'ada@example.com', password: 'correct horse', passwordHash: '$argon2id$…' });
// @ts-expect-error the token is a string
void authDb.verifyEmail(42);

export function code(error: AuthDbErrorOf): 'AU001' {
  // @ts-expect-error not every authdb error is AU001
  return error.code;
}
