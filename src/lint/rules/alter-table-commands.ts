import type { AlterTableCmd, AlterTableStmt } from 'libpg-query';
import { nodeOf, relationName } from '../node-utils.js';
import type { ParsedStatement } from '../../sql/parse.js';
import type { RuleContext } from '../rule.js';

/** One `ALTER TABLE` subcommand on a table that this file did not create (so it may be big and busy). */
export interface ExistingTableCommand {
  readonly statement: ParsedStatement;
  readonly table: string;
  readonly cmd: AlterTableCmd;
  /** Byte offset of the table name. */
  readonly location: number | undefined;
}

/** Every `ALTER TABLE` subcommand of `subtype` on an existing table. */
export function existingTableCommands(context: RuleContext, subtype: NonNullable<AlterTableCmd['subtype']>): ExistingTableCommand[] {
  return context.statements.flatMap((statement) => {
    if (statement.type !== 'AlterTableStmt') return [];
    const body = statement.body as AlterTableStmt;
    if (body.objtype !== 'OBJECT_TABLE') return [];
    const table = relationName(body.relation);
    if (context.createdBefore(statement.index, table)) return [];
    return (body.cmds ?? []).flatMap((c) => {
      const cmd = nodeOf(c, 'AlterTableCmd');
      return cmd?.subtype === subtype ? [{ statement, table, cmd, location: body.relation?.location }] : [];
    });
  });
}
