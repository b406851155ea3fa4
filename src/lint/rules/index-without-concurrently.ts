import { nodeOf, relationName, strings } from '../node-utils.js';
import { hit, statementsOf, type Rule, type RuleHit } from '../rule.js';

export const indexWithoutConcurrently: Rule = {
  id: 'index-without-concurrently',
  summary: 'CREATE INDEX or DROP INDEX on an existing table without CONCURRENTLY (blocks writes for the whole build)',
  check(context) {
    const hits: RuleHit[] = [];
    for (const { statement, body } of statementsOf(context, 'IndexStmt')) {
      const table = relationName(body.relation);
      if (body.concurrent === true || context.createdBefore(statement.index, table)) continue;
      hits.push(
        hit(
          statement,
          `CREATE INDEX ${body.idxname ?? ''} on existing table "${table}" without CONCURRENTLY blocks every INSERT, UPDATE and DELETE on it until the index is built; ` +
            'use CREATE INDEX CONCURRENTLY in a file whose first line is "-- authdb:no-transaction"',
          body.relation?.location,
        ),
      );
    }
    for (const { statement, body } of statementsOf(context, 'DropStmt')) {
      if (body.removeType !== 'OBJECT_INDEX' || body.concurrent === true) continue;
      for (const object of body.objects ?? []) {
        const index = strings(nodeOf(object, 'List')?.items).at(-1) ?? '';
        const table = context.tableOfIndex(index);
        // Dropping the index of a table this file creates or drops anyway takes no extra lock.
        if (table !== undefined && (context.createdBefore(statement.index, table) || context.droppedAfter(statement.index, table))) continue;
        hits.push(
          hit(
            statement,
            `DROP INDEX ${index} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on ${table === undefined ? 'its table' : `table "${table}"`}, queueing every query behind it; ` +
              'use DROP INDEX CONCURRENTLY in a file whose first line is "-- authdb:no-transaction"',
          ),
        );
      }
    }
    return hits;
  },
};
