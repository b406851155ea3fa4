import { nodeOf } from '../node-utils.js';
import { hit, type Rule } from '../rule.js';
import { existingTableCommands } from './alter-table-commands.js';

const KINDS: Readonly<Record<string, string>> = { CONSTR_FOREIGN: 'FOREIGN KEY', CONSTR_CHECK: 'CHECK' };

export const constraintWithoutNotValid: Rule = {
  id: 'constraint-without-not-valid',
  summary: 'a FOREIGN KEY or CHECK constraint added to an existing table without NOT VALID (validates every row under lock)',
  check(context) {
    return existingTableCommands(context, 'AT_AddConstraint').flatMap(({ statement, table, cmd }) => {
      const constraint = nodeOf(cmd.def, 'Constraint');
      const kind = KINDS[constraint?.contype ?? ''];
      if (kind === undefined || constraint?.skip_validation === true) return [];
      return [
        hit(
          statement,
          `ADD CONSTRAINT ${constraint?.conname ?? ''} ${kind} on existing table "${table}" checks every row while blocking writes${kind === 'FOREIGN KEY' ? ' (to both tables)' : ''}; ` +
            'add it NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later migration (validation does not block writes)',
          constraint?.location,
        ),
      ];
    });
  },
};
