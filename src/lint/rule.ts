import type { NodeFields, NodeType } from './node-utils.js';
import type { ParsedStatement } from '../sql/parse.js';

/** What a rule knows about the file it checks. */
export interface RuleContext {
  /** `down` for `*.down.sql`, else `up`. */
  readonly direction: 'up' | 'down';
  /** False when the first line is `-- authdb:no-transaction`. */
  readonly transactional: boolean;
  readonly statements: readonly ParsedStatement[];
  /** True when a statement before `index` in this file creates `table`: it is new, not an existing (busy) table. */
  createdBefore(index: number, table: string): boolean;
  /** True when a statement after `index` in this file drops `table`. */
  droppedAfter(index: number, table: string): boolean;
  /** The table an index is on, from the `CREATE INDEX` statements of this file and its related files. */
  tableOfIndex(index: string): string | undefined;
}

/** A rule's finding: which statement, why, and optionally where exactly (a byte offset the parser gave). */
export interface RuleHit {
  readonly statement: ParsedStatement;
  readonly message: string;
  /** UTF-8 byte offset of the offending node. Default is the statement's first token. */
  readonly location?: number;
}

/** One lint rule. `id` is what `-- authdb-lint-ignore ID: reason` names. */
export interface Rule {
  readonly id: string;
  /** One line for `authdb lint --help` and the docs. */
  readonly summary: string;
  check(context: RuleContext): RuleHit[];
}

/** A hit on `statement`, located at `location` when the parser gave one. */
export function hit(statement: ParsedStatement, message: string, location?: number): RuleHit {
  return location === undefined || location < 0 ? { statement, message } : { statement, message, location };
}

/** The statements of one node type, with their fields typed. */
export function statementsOf<K extends NodeType>(context: RuleContext, type: K): { statement: ParsedStatement; body: NodeFields<K> }[] {
  return context.statements.filter((s) => s.type === type).map((statement) => ({ statement, body: statement.body as NodeFields<K> }));
}
