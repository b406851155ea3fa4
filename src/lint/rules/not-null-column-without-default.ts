import { nodeOf } from '../node-utils.js';
import { hit, type Rule } from '../rule.js';
import { existingTableCommands } from './alter-table-commands.js';

const FILLS_VALUE = new Set(['CONSTR_DEFAULT', 'CONSTR_IDENTITY', 'CONSTR_GENERATED']);
const NOT_NULL = new Set(['CONSTR_NOTNULL', 'CONSTR_PRIMARY']);

export const notNullColumnWithoutDefault: Rule = {
  id: 'not-null-column-without-default',
  summary: 'ADD COLUMN … NOT NULL without a DEFAULT on an existing table (fails as soon as the table has a row)',
  check(context) {
    return existingTableCommands(context, 'AT_AddColumn').flatMap(({ statement, table, cmd }) => {
      const column = nodeOf(cmd.def, 'ColumnDef');
      const constraints = (column?.constraints ?? []).flatMap((c) => nodeOf(c, 'Constraint') ?? []);
      const notNull = column?.is_not_null === true || constraints.some((c) => NOT_NULL.has(c.contype ?? ''));
      const filled = column?.raw_default !== undefined || constraints.some((c) => FILLS_VALUE.has(c.contype ?? ''));
      if (!notNull || filled) return [];
      return [
        hit(
          statement,
          `ADD COLUMN ${column?.colname ?? ''} NOT NULL without a DEFAULT on existing table "${table}" fails as soon as the table has a row; ` +
            'give it a constant DEFAULT (instant since PostgreSQL 11), or add it nullable, backfill, and set NOT NULL in a later migration',
          column?.location,
        ),
      ];
    });
  },
};
