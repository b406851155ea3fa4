import { nodeOf, relationName, strings } from '../node-utils.js';
import { hit, statementsOf, type Rule, type RuleHit } from '../rule.js';
import { existingTableCommands } from './alter-table-commands.js';

const ADVICE = 'running application code still uses it while and after this migration runs; expand first (add the new, deploy code that stops using the old), contract in a later release, and suppress with that reason';

export const dropTableInUp: Rule = {
  id: 'drop-table-in-up',
  summary: 'DROP TABLE of an existing table in an up migration',
  check(context) {
    if (context.direction !== 'up') return [];
    const hits: RuleHit[] = [];
    for (const { statement, body } of statementsOf(context, 'DropStmt')) {
      if (body.removeType !== 'OBJECT_TABLE') continue;
      for (const object of body.objects ?? []) {
        const table = strings(nodeOf(object, 'List')?.items).at(-1) ?? '';
        if (!context.createdBefore(statement.index, table)) hits.push(hit(statement, `DROP TABLE ${table} destroys its data and breaks every query that uses it; ${ADVICE}`));
      }
    }
    return hits;
  },
};

export const dropColumnInUp: Rule = {
  id: 'drop-column-in-up',
  summary: 'DROP COLUMN on an existing table in an up migration',
  check(context) {
    if (context.direction !== 'up') return [];
    return existingTableCommands(context, 'AT_DropColumn').map(({ statement, table, cmd, location }) =>
      hit(statement, `DROP COLUMN "${table}".${cmd.name ?? ''} destroys its data and breaks every query that names it; ${ADVICE}`, location),
    );
  },
};

export const renameInUp: Rule = {
  id: 'rename-in-up',
  summary: 'RENAME of an existing table, column or other object in an up migration',
  check(context) {
    if (context.direction !== 'up') return [];
    return statementsOf(context, 'RenameStmt').flatMap(({ statement, body }) => {
      const table = relationName(body.relation);
      if (table !== '' && context.createdBefore(statement.index, table)) return [];
      const what = body.renameType === 'OBJECT_COLUMN' ? `column "${table}".${body.subname ?? ''}` : `${(body.renameType ?? '').replace(/^OBJECT_/, '').toLowerCase()} ${table || (body.subname ?? '')}`.trim();
      return [hit(statement, `renaming ${what} to ${body.newname ?? ''} breaks every query that uses the old name; ${ADVICE}`, body.relation?.location)];
    });
  },
};
