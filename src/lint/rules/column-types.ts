import type { ColumnDef, CreateDomainStmt, CreateFunctionStmt, FunctionParameter, TypeName } from 'libpg-query';
import { strings, visitNodes } from '../node-utils.js';
import type { ParsedStatement } from '../../sql/parse.js';
import { hit, type Rule, type RuleHit } from '../rule.js';

export const timestampWithoutTimeZone: Rule = {
  id: 'timestamp-without-time-zone',
  summary: 'timestamp (without time zone) in a column, parameter, result or domain; use timestamptz',
  check(context) {
    return declaredTypes(context.statements, (type) =>
      strings(type.names).at(-1) === 'timestamp'
        ? 'timestamp without time zone stores wall-clock time with no zone, so the same instant reads differently per session TimeZone and DST shifts are lost; use timestamptz'
        : undefined,
    );
  },
};

export const charVarcharLength: Rule = {
  id: 'char-varchar-length',
  summary: 'char(n) or varchar(n) where text fits',
  check(context) {
    return declaredTypes(context.statements, (type) => {
      const names = strings(type.names);
      const name = names.at(-1);
      const sized = (type.typmods?.length ?? 0) > 0;
      if (name === 'bpchar' && (names[0] === 'pg_catalog' || sized)) {
        return 'char(n) pads values with blanks and compares them ignoring trailing spaces; use text (with a CHECK (char_length(…) <= n) if the limit is a business rule)';
      }
      if (name === 'varchar' && sized) {
        return 'varchar(n) is text with a length check that needs an ACCESS EXCLUSIVE lock to change; use text with CHECK (char_length(…) <= n) if the limit is a business rule';
      }
      return undefined;
    });
  },
};

/**
 * Applies `problem` to every declared type: column definitions (CREATE TABLE,
 * ADD COLUMN, ALTER COLUMN TYPE, composite types), function parameters and
 * results, domains. Casts inside expressions are not declarations.
 */
function declaredTypes(statements: readonly ParsedStatement[], problem: (type: TypeName) => string | undefined): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const { statement, type } of declarations(statements)) {
    const message = problem(type);
    if (message !== undefined) hits.push(hit(statement, message, type.location));
  }
  return hits;
}

/** Declared types of a file, found in one walk shared by the rules that check them. */
const declarationCache = new WeakMap<readonly ParsedStatement[], readonly { statement: ParsedStatement; type: TypeName }[]>();

function declarations(statements: readonly ParsedStatement[]): readonly { statement: ParsedStatement; type: TypeName }[] {
  const cached = declarationCache.get(statements);
  if (cached) return cached;
  const found: { statement: ParsedStatement; type: TypeName }[] = [];
  for (const statement of statements) {
    visitNodes(statement.node, (type, fields) => {
      for (const declared of typesOf(type, fields)) found.push({ statement, type: declared });
    });
  }
  declarationCache.set(statements, found);
  return found;
}

function typesOf(type: string, fields: Record<string, unknown>): TypeName[] {
  const declared =
    type === 'ColumnDef'
      ? (fields as ColumnDef).typeName
      : type === 'FunctionParameter'
        ? (fields as FunctionParameter).argType
        : type === 'CreateFunctionStmt'
          ? (fields as CreateFunctionStmt).returnType
          : type === 'CreateDomainStmt'
            ? (fields as CreateDomainStmt).typeName
            : undefined;
  return declared === undefined ? [] : [declared];
}
