import type { CreateFunctionStmt, Node, ObjectWithArgs } from 'libpg-query';
import { lastName, nodeOf, typeKey } from '../node-utils.js';

/** A function as `DROP/REVOKE … ON FUNCTION name(types)` identifies it. */
export interface FunctionIdentity {
  readonly name: string;
  /** Input argument types; undefined when a statement names the function without arguments. */
  readonly args: readonly string[] | undefined;
}

const INPUT_MODES = new Set(['FUNC_PARAM_IN', 'FUNC_PARAM_INOUT', 'FUNC_PARAM_VARIADIC', 'FUNC_PARAM_DEFAULT', undefined]);

/** Name and input argument types of a `CREATE FUNCTION` (OUT and TABLE parameters excluded). */
export function createdFunction(body: CreateFunctionStmt): FunctionIdentity {
  const args = (body.parameters ?? [])
    .flatMap((p) => nodeOf(p, 'FunctionParameter') ?? [])
    .filter((p) => INPUT_MODES.has(p.mode))
    .map((p) => typeKey(p.argType));
  return { name: lastName(body.funcname).toLowerCase(), args };
}

/** Name and argument types of an `ObjectWithArgs` (the target of GRANT, REVOKE, ALTER FUNCTION). */
export function namedFunction(object: ObjectWithArgs | undefined): FunctionIdentity {
  const args = object?.args_unspecified === true ? undefined : (object?.objargs ?? []).map((a: Node) => typeKey(nodeOf(a, 'TypeName')));
  return { name: lastName(object?.objname).toLowerCase(), args };
}

/** Whether a reference (possibly without arguments) designates the function. */
export function sameFunction(fn: FunctionIdentity, reference: FunctionIdentity): boolean {
  if (fn.name !== reference.name) return false;
  if (reference.args === undefined || fn.args === undefined) return true;
  return reference.args.length === fn.args.length && reference.args.every((a, i) => a === fn.args?.[i]);
}

/** `name(type, type)` for messages. */
export function signature(fn: FunctionIdentity): string {
  return `${fn.name}(${(fn.args ?? []).join(', ')})`;
}
