import pg from 'pg';
import type { PostgrestRole } from './supabase-cluster.js';

/**
 * `POST /rest/v1/rpc/<fn>` as PostgREST (v12, what Supabase runs) serves it,
 * emulated in SQL because no PostgREST server installs here:
 *
 * - it is logged in as `authenticator` and, per request, in one transaction,
 *   sets the role the JWT names (`set_config('role', …, true)`: `SET LOCAL
 *   ROLE`) and the request settings (`request.jwt.claims`, `request.method`,
 *   `request.path`, `request.headers`);
 * - it finds the function by name and by the JSON body's keys in its schema
 *   cache (catalog) and calls it with named arguments (`"p_email" := …`), each
 *   read from the body with `json_to_record` and the parameter's own type;
 * - a set-returning function's rows come back as a JSON array, a scalar as the value;
 * - an error becomes `{ code, message, details, hint }` with the HTTP status of
 *   PostgREST's table (docs.postgrest.org, "Errors"): a SQLSTATE it does not
 *   list, such as authdb's `AU…`, is 400.
 */
export interface RpcResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface RpcRequest {
  /** The exposed schema the function is in (`Content-Profile`). */
  readonly schema: string;
  readonly fn: string;
  /** The JSON body: one key per named argument. */
  readonly body: Readonly<Record<string, unknown>>;
  /** The role of the key or JWT (`anon` key, a user's JWT, the service key). */
  readonly role: PostgrestRole;
}

interface Parameter {
  readonly name: string;
  readonly type: string;
}

export async function postgrestRpc(authenticatorUrl: string, request: RpcRequest): Promise<RpcResponse> {
  const client = new pg.Client({ connectionString: authenticatorUrl });
  await client.connect();
  try {
    return await call(client, request);
  } finally {
    await client.end();
  }
}

async function call(client: pg.Client, request: RpcRequest): Promise<RpcResponse> {
  const claims = JSON.stringify({ role: request.role, ...(request.role === 'authenticated' ? { sub: '00000000-0000-4000-8000-000000000001' } : {}) });
  await client.query('BEGIN');
  try {
    await client.query(
      `SELECT pg_catalog.set_config('role', $1, true), pg_catalog.set_config('request.jwt.claims', $2, true),
              pg_catalog.set_config('request.method', 'POST', true), pg_catalog.set_config('request.path', $3, true),
              pg_catalog.set_config('request.headers', $4, true)`,
      [request.role, claims, `/rpc/${request.fn}`, JSON.stringify({ 'content-profile': request.schema, 'content-type': 'application/json' })],
    );
    const found = await findFunction(client, request);
    if (found === undefined) {
      await client.query('ROLLBACK');
      return {
        status: 404,
        body: { code: 'PGRST202', message: `Could not find the function ${request.schema}.${request.fn}(${Object.keys(request.body).sort().join(', ')}) in the schema cache`, details: null, hint: null },
      };
    }
    const { parameters, returnsSet } = found;
    const q = (name: string): string => client.escapeIdentifier(name);
    const record = parameters.map((p) => `${q(p.name)} ${p.type}`).join(', ');
    const args = parameters.map((p) => `${q(p.name)} := (SELECT ${q(p.name)} FROM pgrst_args)`).join(', ');
    const target = `${q(request.schema)}.${q(request.fn)}(${args})`;
    const source = returnsSet ? `SELECT pgrst_call.* FROM ${target} AS pgrst_call` : `SELECT ${target} AS pgrst_scalar`;
    const argsCte = parameters.length === 0 ? '' : `pgrst_args AS (SELECT * FROM pg_catalog.json_to_record((SELECT json_data FROM pgrst_payload)) AS _(${record})),`;
    const sql = `WITH pgrst_payload AS (SELECT $1::json AS json_data), ${argsCte}
      pgrst_source AS (${source})
      SELECT ${returnsSet ? "coalesce(pg_catalog.json_agg(_postgrest_t), '[]')" : '(SELECT pg_catalog.to_json(pgrst_scalar) FROM pgrst_source)'} AS body
        FROM ${returnsSet ? '(SELECT * FROM pgrst_source) AS _postgrest_t' : '(SELECT 1) AS _postgrest_t'}`;
    const { rows } = await client.query<{ body: unknown }>(sql, [JSON.stringify(request.body)]);
    await client.query('COMMIT');
    return { status: 200, body: rows[0]?.body ?? null };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const e = error as pg.DatabaseError;
    if (typeof e.code !== 'string') throw error;
    return { status: httpStatus(e.code, request.role), body: { code: e.code, message: e.message, details: e.detail ?? null, hint: e.hint ?? null } };
  }
}

/** The schema cache lookup: the function of that name whose parameter names are the body's keys (defaults may be left out). */
async function findFunction(client: pg.Client, request: RpcRequest): Promise<{ parameters: Parameter[]; returnsSet: boolean } | undefined> {
  const { rows } = await client.query<{ names: string[]; types: string[]; defaults: number; retset: boolean }>(
    `SELECT coalesce(p.proargnames[1:p.pronargs], '{}') AS names,
            ARRAY(SELECT pg_catalog.format_type(t, NULL) FROM pg_catalog.unnest(p.proargtypes) AS t) AS types,
            p.pronargdefaults AS defaults, p.proretset AS retset
       FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2`,
    [request.schema, request.fn],
  );
  const keys = new Set(Object.keys(request.body));
  for (const row of rows) {
    const required = row.names.slice(0, row.names.length - row.defaults);
    if (required.every((n) => keys.has(n)) && [...keys].every((k) => row.names.includes(k))) {
      const parameters = row.names.map((name, i) => ({ name, type: row.types[i] ?? 'text' })).filter((p) => keys.has(p.name));
      return { parameters, returnsSet: row.retset };
    }
  }
  return undefined;
}

/** PostgREST's SQLSTATE → HTTP status table; what it does not list is 400. */
export function httpStatus(code: string, role: PostgrestRole): number {
  if (code === '42501') return role === 'anon' ? 401 : 403;
  const exact: Record<string, number> = { '23503': 409, '23505': 409, '25006': 405, '53400': 500, P0001: 400, '42883': 404, '42P01': 404, '42P17': 500 };
  const byExact = exact[code];
  if (byExact !== undefined) return byExact;
  const byClass: Record<string, number> = {
    '08': 503, '09': 500, '0L': 403, '0P': 403, '25': 500, '28': 403, '2D': 500, '38': 500, '39': 500, '3B': 500,
    '40': 500, '53': 503, '54': 500, '55': 500, '57': 500, '58': 500, F0: 500, HV: 500, P0: 500, XX: 500,
  };
  return byClass[code.slice(0, 2)] ?? 400;
}
