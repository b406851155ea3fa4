import type { AlterTableStmt, DropStmt, IndexStmt, ReindexStmt } from 'libpg-query';
import { nodeOf } from '../node-utils.js';
import type { ParsedStatement } from '../../sql/parse.js';
import { hit, type Rule } from '../rule.js';

export const concurrentlyInTransaction: Rule = {
  id: 'concurrently-in-transaction',
  summary: 'CONCURRENTLY in a file that runs in a transaction (PostgreSQL refuses it there)',
  check(context) {
    if (!context.transactional) return [];
    return context.statements.flatMap((statement) => {
      const what = concurrentOperation(statement);
      return what === undefined
        ? []
        : [hit(statement, `${what} cannot run inside a transaction block, and this file runs in one; make "-- authdb:no-transaction" its first line`)];
    });
  },
};

/** `CREATE INDEX CONCURRENTLY` and friends, or undefined. */
function concurrentOperation(statement: ParsedStatement): string | undefined {
  switch (statement.type) {
    case 'IndexStmt':
      return (statement.body as IndexStmt).concurrent === true ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return (statement.body as DropStmt).concurrent === true ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt':
      return ((statement.body as ReindexStmt).params ?? []).some((p) => nodeOf(p, 'DefElem')?.defname === 'concurrently')
        ? 'REINDEX CONCURRENTLY'
        : undefined;
    case 'AlterTableStmt':
      return ((statement.body as AlterTableStmt).cmds ?? []).some((c) => {
        const cmd = nodeOf(c, 'AlterTableCmd');
        return cmd?.subtype === 'AT_DetachPartition' && nodeOf(cmd.def, 'PartitionCmd')?.concurrent === true;
      })
        ? 'DETACH PARTITION CONCURRENTLY'
        : undefined;
    default:
      return undefined;
  }
}
