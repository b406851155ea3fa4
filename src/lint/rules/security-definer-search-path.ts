import type { AlterFunctionStmt, CreateFunctionStmt, DefElem, Node } from 'libpg-query';
import { nodeOf } from '../node-utils.js';
import type { ParsedStatement } from '../../sql/parse.js';
import { hit, type Rule, type RuleContext, type RuleHit } from '../rule.js';
import { createdFunction, namedFunction, sameFunction, signature, type FunctionIdentity } from './function-names.js';

export const securityDefinerSearchPath: Rule = {
  id: 'security-definer-search-path',
  summary: 'SECURITY DEFINER function without a pinned search_path (SET search_path = … or FROM CURRENT)',
  check(context) {
    const hits: RuleHit[] = [];
    for (const statement of context.statements) {
      const target = definerWithoutPath(statement);
      if (target === undefined || pinnedElsewhere(context, statement, target)) continue;
      hits.push(
        hit(
          statement,
          `SECURITY DEFINER function ${signature(target)} runs with its owner's privileges but resolves names through the caller's search_path, so a caller can shadow the tables and functions it uses; ` +
            'add SET search_path = <schema>, pg_temp (or SET search_path FROM CURRENT) to it',
        ),
      );
    }
    return hits;
  },
};

/** The function a statement makes SECURITY DEFINER without pinning its search_path, if any. */
function definerWithoutPath(statement: ParsedStatement): FunctionIdentity | undefined {
  if (statement.type === 'CreateFunctionStmt') {
    const body = statement.body as CreateFunctionStmt;
    return isDefiner(body.options) && !pinsSearchPath(body.options) ? createdFunction(body) : undefined;
  }
  if (statement.type === 'AlterFunctionStmt') {
    const body = statement.body as AlterFunctionStmt;
    return isDefiner(body.actions) && !pinsSearchPath(body.actions) ? namedFunction(body.func) : undefined;
  }
  return undefined;
}

/** The search_path is pinned by the function's CREATE earlier in the file or by an ALTER FUNCTION … SET later. */
function pinnedElsewhere(context: RuleContext, statement: ParsedStatement, target: FunctionIdentity): boolean {
  return context.statements.some((s) => {
    if (s.index === statement.index) return false;
    if (s.type === 'CreateFunctionStmt' && s.index < statement.index) {
      const body = s.body as CreateFunctionStmt;
      return sameFunction(createdFunction(body), target) && pinsSearchPath(body.options);
    }
    if (s.type === 'AlterFunctionStmt' && s.index > statement.index) {
      const body = s.body as AlterFunctionStmt;
      return sameFunction(target, namedFunction(body.func)) && pinsSearchPath(body.actions);
    }
    return false;
  });
}

function definitions(options: readonly Node[] | undefined): DefElem[] {
  return (options ?? []).flatMap((o) => nodeOf(o, 'DefElem') ?? []);
}

function isDefiner(options: readonly Node[] | undefined): boolean {
  return definitions(options).some((d) => d.defname === 'security' && nodeOf(d.arg, 'Boolean')?.boolval === true);
}

function pinsSearchPath(options: readonly Node[] | undefined): boolean {
  return definitions(options).some((d) => {
    const set = nodeOf(d.arg, 'VariableSetStmt');
    return d.defname === 'set' && set?.name === 'search_path' && (set.kind === 'VAR_SET_VALUE' || set.kind === 'VAR_SET_CURRENT');
  });
}
