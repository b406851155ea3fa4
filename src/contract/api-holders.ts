import type { ClientBase } from 'pg';
import { TRACKING_TABLE } from '../migrate/tracking-table.js';
import { findRoleRefusals } from './role-refusals.js';

/** One role that can call the API functions, and how. */
export interface ApiHolder {
  /** The role (`PUBLIC` for every role). */
  readonly role: string;
  /**
   * `grantee`: holds EXECUTE itself; `member`: through membership in a
   * grantee; `gateway-login`: the HTTP gateway's login role (PostgREST's
   * `authenticator`, LOGIN NOINHERIT, a direct member of a gateway role and
   * of the grantee), which switches to the grantee only for a request whose
   * signed JWT names it; `owner-member`: through membership in the install owner, which owns
   * the functions (and every table).
   */
  readonly how: 'grantee' | 'member' | 'gateway-login' | 'owner-member';
  /** The membership chain, from the role to the one holding EXECUTE (`anon → my_app`); empty for a grantee. */
  readonly path: readonly string[];
  /** The API functions it can call, as `name(argument types)`. */
  readonly functions: readonly string[];
  /** Why it must not hold them; empty when it may. */
  readonly problems: readonly string[];
}

/**
 * Every role that can execute one of `functions` (`schema.name(types)`):
 * the roles EXECUTE was granted to, PUBLIC included, every role that is a
 * member of one of them — directly or through other roles, inheriting or
 * not — and every member of the install owner. A problem, each: PUBLIC; a
 * member (it gets the API by a later `GRANT app TO other`, which no
 * `authdb grant` run saw — `anon` made a member of the application role is
 * the HTTP-gateway case), except the gateway's own login (`authenticator`,
 * LOGIN NOINHERIT, a direct member of a gateway role and of the grantee:
 * Supabase's reaching `service_role`), whose membership is how the gateway
 * serves the grantee's requests; a member of the install owner; a grantee that
 * `authdb grant` would refuse (see {@link findRoleRefusals}); and a gateway
 * role (`gatewayRoles`) holding it at all, unless `allowGatewayRole`.
 */
export async function listApiHolders(
  client: ClientBase,
  options: { readonly schema: string; readonly functions: readonly string[]; readonly gatewayRoles: readonly string[]; readonly allowGatewayRole: boolean },
): Promise<ApiHolder[]> {
  const { rows } = await client.query<{ role: string; how: ApiHolder['how']; path: string[]; functions: string[] } & GatewayFacts>(HOLDERS_SQL, [
    options.functions,
    options.schema,
    options.gatewayRoles,
  ]);
  const holders: ApiHolder[] = [];
  for (const { gateway_member, can_login, inherits, ...fields } of rows) {
    const row = isGatewayLogin(fields, { gateway_member, can_login, inherits }) ? { ...fields, how: 'gateway-login' as const } : fields;
    const problems: string[] = [];
    const via = row.path.length > 0 ? ` through ${[row.role, ...row.path].map((r) => `"${r}"`).join(' → ')}` : '';
    if (row.role === 'PUBLIC') problems.push('every role, present and future, can call them');
    if (row.how === 'member') problems.push(`it gets them by membership${via}, which no \`authdb grant\` run checked: revoke it (REVOKE ${client.escapeIdentifier(row.path[0] ?? '')} FROM ${client.escapeIdentifier(row.role)}) and grant to the role itself if it is meant to call them`);
    if (row.how === 'owner-member') problems.push(`it is a member of the install owner${via}, which owns every table`);
    if (options.gatewayRoles.includes(row.role) && !options.allowGatewayRole) problems.push('it is an HTTP-gateway role: any browser can act as it, and the registration functions return the plaintext verification token');
    if (row.how === 'grantee' && row.role !== 'PUBLIC') problems.push(...(await findRoleRefusals(client, row.role, options.schema)).map((r) => `${r.reason} (fix: ${r.fix})`));
    holders.push({ ...row, problems });
  }
  return holders;
}

/** PostgREST's login role, as Supabase and PostgREST's documentation name it. */
export const GATEWAY_LOGIN = 'authenticator';

/**
 * PostgREST's login: the role named {@link GATEWAY_LOGIN}, LOGIN and
 * NOINHERIT (it holds nothing until it switches role for a request), a
 * direct member of a gateway role and of one grantee. The structure alone
 * cannot tell it from a role someone made to look like it, so the name is
 * required too; any other member is a stray membership.
 */
function isGatewayLogin(row: { readonly role: string; readonly how: ApiHolder['how']; readonly path: readonly string[] }, facts: GatewayFacts): boolean {
  return row.role === GATEWAY_LOGIN && row.how === 'member' && row.path.length === 1 && facts.gateway_member && facts.can_login && !facts.inherits;
}

interface GatewayFacts {
  readonly gateway_member: boolean;
  readonly can_login: boolean;
  readonly inherits: boolean;
}

const HOLDERS_SQL = `
WITH RECURSIVE fns AS (
  SELECT p.oid, p.proowner, p.proacl, s.signature FROM pg_catalog.unnest($1::pg_catalog.text[]) AS s(signature)
    JOIN pg_catalog.pg_proc AS p ON p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(s.signature)
), owner AS (
  SELECT coalesce((SELECT c.relowner FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                    WHERE n.nspname OPERATOR(pg_catalog.=) $2::pg_catalog.name AND c.relname OPERATOR(pg_catalog.=) '${TRACKING_TABLE}'::pg_catalog.name AND c.relkind OPERATOR(pg_catalog.=) 'r'),
                  (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)) AS oid
), grants AS (
  SELECT a.grantee, fns.signature FROM fns, pg_catalog.aclexplode(coalesce(fns.proacl, pg_catalog.acldefault('f'::pg_catalog."char", fns.proowner))) AS a
   WHERE a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE' AND a.grantee OPERATOR(pg_catalog.<>) fns.proowner
), holders (oid, how, path, signature) AS (
  SELECT g.grantee, 'grantee'::pg_catalog.text, ARRAY[]::pg_catalog.oid[], g.signature FROM grants AS g
  UNION ALL
  SELECT o.oid, 'owner-member', ARRAY[]::pg_catalog.oid[], fns.signature FROM owner AS o, fns
  UNION ALL
  SELECT m.member, CASE WHEN h.how OPERATOR(pg_catalog.=) 'grantee' THEN 'member' ELSE h.how END, ARRAY[h.oid] OPERATOR(pg_catalog.||) h.path, h.signature
    FROM holders AS h JOIN pg_catalog.pg_auth_members AS m ON m.roleid OPERATOR(pg_catalog.=) h.oid
   WHERE h.oid OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
), shortest AS (
  SELECT DISTINCT ON (h.oid, h.signature) h.oid, h.how, h.path, h.signature FROM holders AS h
   WHERE NOT (h.how OPERATOR(pg_catalog.=) 'owner-member' AND pg_catalog.cardinality(h.path) OPERATOR(pg_catalog.=) 0)
   ORDER BY h.oid, h.signature, (h.how OPERATOR(pg_catalog.=) 'grantee') DESC, pg_catalog.cardinality(h.path)
)
SELECT CASE WHEN s.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(s.oid)::pg_catalog.text END AS role,
       s.how, ARRAY(SELECT pg_catalog.pg_get_userbyid(x.oid)::pg_catalog.text FROM pg_catalog.unnest(s.path) WITH ORDINALITY AS x(oid, i) ORDER BY x.i) AS path,
       pg_catalog.array_agg(s.signature ORDER BY s.signature) AS functions,
       EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m JOIN pg_catalog.pg_roles AS g ON g.oid OPERATOR(pg_catalog.=) m.roleid
                WHERE m.member OPERATOR(pg_catalog.=) s.oid AND g.rolname OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.text[])) AS gateway_member,
       coalesce(r.rolcanlogin, false) AS can_login,
       coalesce(r.rolinherit, true) AS inherits
  FROM shortest AS s
  LEFT JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) s.oid
 WHERE s.oid OPERATOR(pg_catalog.<>) (SELECT oid FROM owner)
 GROUP BY s.oid, s.how, s.path, r.rolcanlogin, r.rolinherit
 ORDER BY 1, 2`;
