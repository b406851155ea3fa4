import { hit, type Rule } from '../rule.js';
import { existingTableCommands } from './alter-table-commands.js';

export const setNotNull: Rule = {
  id: 'set-not-null',
  summary: 'ALTER COLUMN … SET NOT NULL on an existing table (scans the whole table under an ACCESS EXCLUSIVE lock)',
  check(context) {
    return existingTableCommands(context, 'AT_SetNotNull').map(({ statement, table, cmd, location }) =>
      hit(
        statement,
        `SET NOT NULL on "${table}".${cmd.name ?? ''} scans the whole table while holding an ACCESS EXCLUSIVE lock; ` +
          `first ADD CONSTRAINT … CHECK (${cmd.name ?? 'column'} IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL (it uses the validated check and skips the scan)`,
        location,
      ),
    );
  },
};
