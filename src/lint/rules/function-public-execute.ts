import type { AlterDefaultPrivilegesStmt, GrantStmt, Node } from 'libpg-query';
import { nodeOf } from '../node-utils.js';
import type { ParsedStatement } from '../parse-sql.js';
import { hit, statementsOf, type Rule } from '../rule.js';
import { createdFunction, namedFunction, sameFunction, signature, type FunctionIdentity } from './function-names.js';

const FUNCTION_OBJECTS = new Set(['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE']);

export const functionPublicExecute: Rule = {
  id: 'function-public-execute',
  summary: 'CREATE FUNCTION without a later REVOKE EXECUTE … FROM PUBLIC in the same file (PostgreSQL lets everyone call new functions)',
  check(context) {
    return statementsOf(context, 'CreateFunctionStmt').flatMap(({ statement, body }) => {
      const fn = createdFunction(body);
      const revoked = context.statements.some(
        (s) => (s.index > statement.index && revokesFromPublic(s, fn)) || (s.index < statement.index && revokesByDefault(s)),
      );
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

/** `REVOKE EXECUTE|ALL ON FUNCTION fn(…)|ALL FUNCTIONS IN SCHEMA … FROM PUBLIC`. */
function revokesFromPublic(statement: ParsedStatement, fn: FunctionIdentity): boolean {
  if (statement.type !== 'GrantStmt') return false;
  const grant = statement.body as GrantStmt;
  if (!isPublicExecuteRevoke(grant)) return false;
  if (grant.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') return true;
  return (grant.objects ?? []).some((o: Node) => sameFunction(fn, namedFunction(nodeOf(o, 'ObjectWithArgs'))));
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
