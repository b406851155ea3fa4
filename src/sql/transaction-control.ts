import type { TransactionStmt } from 'libpg-query';
import type { ParsedStatement } from './parse.js';

const KINDS: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE SAVEPOINT',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/**
 * The transaction-control command a top-level statement is (`BEGIN`,
 * `COMMIT AND CHAIN`, `SAVEPOINT`…; `END` is `COMMIT`, `ABORT` is `ROLLBACK`),
 * or undefined. authdb runs a transactional file inside a transaction of its
 * own, together with its tracking row; any of these would commit, split or
 * hand over that transaction.
 */
export function transactionControl(statement: Pick<ParsedStatement, 'type' | 'body'>): string | undefined {
  if (statement.type !== 'TransactionStmt') return undefined;
  const body = statement.body as TransactionStmt;
  const kind = KINDS[body.kind ?? ''] ?? 'transaction control';
  return body.chain === true ? `${kind} AND CHAIN` : kind;
}

/** The message for a transaction-control statement in a file that runs in authdb's transaction. */
export function transactionControlMessage(command: string): string {
  return (
    `${command} controls the transaction, but authdb already runs this file in one transaction together with its ` +
    'authdb_migrations row, and this statement would commit, split or end it; remove it (BEGIN/COMMIT around a file are ' +
    'not needed), or, for statements that cannot run in a transaction, make "-- authdb:no-transaction" the first line'
  );
}
