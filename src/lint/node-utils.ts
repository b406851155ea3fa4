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

/** Every node in a tree, depth first, as `[type, fields]`. */
export function* walk(value: unknown): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const item of value) yield* walk(item);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (/^[A-Z]/.test(key) && typeof child === 'object' && child !== null && !Array.isArray(child)) yield [key, child as Record<string, unknown>];
    yield* walk(child);
  }
}
