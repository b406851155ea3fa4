import type { AlterDefaultPrivilegesStmt, GrantStmt } from 'libpg-query';
import { nodeOf } from '../node-utils.js';
import type { ParsedStatement } from '../../sql/parse.js';
import { hit, statementsOf, type Rule } from '../rule.js';
import { createdFunction, namedFunction, sameFunction, signature, type FunctionIdentity } from './function-names.js';

const FUNCTION_OBJECTS = new Set(['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE']);

export const functionPublicExecute: Rule = {
  id: 'function-public-execute',
  summary: 'CREATE FUNCTION without a later REVOKE EXECUTE … FROM PUBLIC in the same file (PostgreSQL lets everyone call new functions)',
  check(context) {
    const revokes = publicRevokes(context.statements);
    return statementsOf(context, 'CreateFunctionStmt').flatMap(({ statement, body }) => {
      const fn = createdFunction(body);
      const revoked =
        revokes.firstByDefault < statement.index ||
        revokes.lastAllInSchema > statement.index ||
        (revokes.byName.get(fn.name) ?? []).some(({ index, reference }) => index > statement.index && sameFunction(fn, reference));
      if (revoked) return [];
      const kind = body.is_procedure === true ? 'PROCEDURE' : 'FUNCTION';
      return [
        hit(
          statement,
          `${kind} ${signature(fn)} stays executable by PUBLIC (every role) because PostgreSQL grants EXECUTE on new functions to PUBLIC; ` +
            `add REVOKE EXECUTE ON ${kind} ${signature(fn)} FROM PUBLIC after it and grant EXECUTE to the roles that need it` +
            (body.replace === true ? ' (CREATE OR REPLACE of an existing function keeps its privileges: if it was revoked before, suppress with that reason)' : ''),
        ),
      ];
    });
  },
};

/** The file's revokes of EXECUTE from PUBLIC, indexed by function name (one pass, not one per function). */
interface PublicRevokes {
  /** Index of the first `ALTER DEFAULT PRIVILEGES … REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`, else Infinity. */
  readonly firstByDefault: number;
  /** Index of the last `REVOKE … ON ALL FUNCTIONS IN SCHEMA … FROM PUBLIC`, else -1. */
  readonly lastAllInSchema: number;
  /** `REVOKE EXECUTE|ALL ON FUNCTION fn(…) FROM PUBLIC`, by function name. */
  readonly byName: ReadonlyMap<string, readonly { index: number; reference: FunctionIdentity }[]>;
}

function publicRevokes(statements: readonly ParsedStatement[]): PublicRevokes {
  let firstByDefault = Infinity;
  let lastAllInSchema = -1;
  const byName = new Map<string, { index: number; reference: FunctionIdentity }[]>();
  for (const statement of statements) {
    if (revokesByDefault(statement)) firstByDefault = Math.min(firstByDefault, statement.index);
    if (statement.type !== 'GrantStmt') continue;
    const grant = statement.body as GrantStmt;
    if (!isPublicExecuteRevoke(grant)) continue;
    if (grant.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') lastAllInSchema = statement.index;
    for (const o of grant.objects ?? []) {
      const reference = namedFunction(nodeOf(o, 'ObjectWithArgs'));
      const list = byName.get(reference.name) ?? [];
      list.push({ index: statement.index, reference });
      byName.set(reference.name, list);
    }
  }
  return { firstByDefault, lastAllInSchema, byName };
}

/** `ALTER DEFAULT PRIVILEGES … REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC` before the function. */
function revokesByDefault(statement: ParsedStatement): boolean {
  if (statement.type !== 'AlterDefaultPrivilegesStmt') return false;
  const action = (statement.body as AlterDefaultPrivilegesStmt).action;
  return action !== undefined && isPublicExecuteRevoke(action);
}

function isPublicExecuteRevoke(grant: GrantStmt): boolean {
  if (grant.is_grant === true || !FUNCTION_OBJECTS.has(grant.objtype ?? '')) return false;
  const privileges = (grant.privileges ?? []).flatMap((p) => nodeOf(p, 'AccessPriv')?.priv_name ?? []);
  const execute = privileges.length === 0 || privileges.includes('execute') || privileges.includes('all');
  return execute && (grant.grantees ?? []).some((g) => nodeOf(g, 'RoleSpec')?.roletype === 'ROLESPEC_PUBLIC');
}
