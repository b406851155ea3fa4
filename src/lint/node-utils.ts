import type { Node, RangeVar, TypeName } from 'libpg-query';

/** Every node type name: `IndexStmt`, `ColumnDef`, `String`… */
export type NodeType = Node extends infer U ? (U extends unknown ? keyof U : never) : never;

/** The fields of a node of type `K`. */
export type NodeFields<K extends NodeType> = Extract<Node, Record<K, unknown>>[K];

/** The fields of `node` when it is a `type` node (`IndexStmt`, `ColumnDef`…). */
export function nodeOf<K extends NodeType>(node: Node | undefined, type: K): NodeFields<K> | undefined {
  return node === undefined ? undefined : ((node as Record<string, unknown>)[type] as NodeFields<K> | undefined);
}

/** The `sval`s of a list of `String` nodes: `['pg_catalog', 'int4']`. */
export function strings(nodes: readonly Node[] | undefined): string[] {
  return (nodes ?? []).flatMap((n) => {
    const value = nodeOf(n, 'String')?.sval;
    return value === undefined ? [] : [value];
  });
}

/** The unqualified name of a relation. */
export function relationName(relation: RangeVar | undefined): string {
  return relation?.relname ?? '';
}

/** The last part of a qualified name list. */
export function lastName(nodes: readonly Node[] | undefined): string {
  return strings(nodes).at(-1) ?? '';
}

/**
 * A type name reduced to what identifies it across spellings: `integer` and
 * `int4` are both `int4`, `character varying` is `varchar`; arrays end in `[]`.
 */
export function typeKey(type: TypeName | undefined): string {
  return `${lastName(type?.names).toLowerCase()}${'[]'.repeat(type?.arrayBounds?.length ?? 0)}`;
}

/**
 * Calls `visit` with every node in a tree, depth first, as `(type, fields)`.
 * Iterative, without generators: lint walks every statement of files of
 * many megabytes with it.
 */
export function visitNodes(value: unknown, visit: (type: string, fields: Record<string, unknown>) => void): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current instanceof NodeMark) {
      visit(current.type, current.fields);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push(current[i]);
      continue;
    }
    const entries: [string, unknown][] = Object.entries(current);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] ?? ['', undefined];
      if (typeof child !== 'object' || child === null) continue;
      stack.push(child);
      const first = key.charCodeAt(0);
      // Node wrappers are keyed by their type name (`ColumnDef`, `TypeName`…); fields are lower-case.
      if (first >= 65 && first <= 90 && !Array.isArray(child)) stack.push(new NodeMark(key, child as Record<string, unknown>));
    }
  }
}

/** A node found under its type key, waiting on the stack to be visited before its children. */
class NodeMark {
  constructor(
    readonly type: string,
    readonly fields: Record<string, unknown>,
  ) {}
}
