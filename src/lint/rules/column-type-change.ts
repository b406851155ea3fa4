import { nodeOf } from '../node-utils.js';
import { hit, type Rule } from '../rule.js';
import { existingTableCommands } from './alter-table-commands.js';

export const columnTypeChange: Rule = {
  id: 'column-type-change',
  summary: 'ALTER COLUMN … TYPE on an existing table (usually rewrites the table under an ACCESS EXCLUSIVE lock)',
  check(context) {
    return existingTableCommands(context, 'AT_AlterColumnType').map(({ statement, table, cmd, location }) =>
      hit(
        statement,
        `changing the type of "${table}".${cmd.name ?? ''} rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless the types are binary-compatible, e.g. varchar(n) → text); ` +
          'add a new column, backfill it in batches and switch over, or suppress with the reason the change is binary-compatible',
        nodeOf(cmd.def, 'ColumnDef')?.location ?? location,
      ),
    );
  },
};
