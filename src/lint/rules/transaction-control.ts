import { transactionControl, transactionControlMessage } from '../../sql/transaction-control.js';
import { hit, type Rule } from '../rule.js';

export const transactionControlInTransaction: Rule = {
  id: 'transaction-control',
  summary: 'BEGIN, COMMIT, ROLLBACK, SAVEPOINT… in a file that runs in a transaction (authdb refuses to run it)',
  check(context) {
    if (!context.transactional) return [];
    return context.statements.flatMap((statement) => {
      const command = transactionControl(statement);
      return command === undefined ? [] : [hit(statement, transactionControlMessage(command))];
    });
  },
};
