import { parseStatements, type ParsedStatement } from '../sql/parse.js';
import type { MigrationFile } from './migration-file.js';

/** A table, or one column of it, that a down file drops. */
export interface DroppedData {
  readonly schema: string;
  readonly table: string;
  /** Set for `ALTER TABLE … DROP COLUMN`; undefined when the whole table goes. */
  readonly column?: string | undefined;
}

/** Rows an up file inserts with constant values (`INSERT INTO t (cols) VALUES (…)`): the install's own seed rows. */
export interface SeedRows {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly string[];
  /** One entry per row, each value as its text form (what `value::text` gives), null for NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
}

/**
 * What the down files of `names` drop that can hold data: `DROP TABLE` and
 * `ALTER TABLE … DROP COLUMN`, schema-qualified or not (unqualified names are
 * in `schema`, the run's search_path). A column of a table the plan also drops
 * is left out: the table's row count covers it.
 */
export async function droppedData(files: readonly MigrationFile[], schema: string): Promise<DroppedData[]> {
  const found: DroppedData[] = [];
  for (const file of files) {
    for (const statement of await statementsOf(file, 'down')) found.push(...dropsOf(statement, schema));
  }
  const tables = new Set(found.filter((d) => d.column === undefined).map(key));
  const unique = new Map<string, DroppedData>();
  for (const drop of found) {
    if (drop.column !== undefined && tables.has(key({ schema: drop.schema, table: drop.table }))) continue;
    unique.set(`${key(drop)}\0${drop.column ?? ''}`, drop);
  }
  return [...unique.values()];
}

/**
 * The seed rows the up files insert, by table. A table whose constant inserts
 * do not all name the same columns, or whose inserts use anything but literals,
 * gets no seeds: all its rows then count as data.
 */
export async function seedRows(files: readonly MigrationFile[], schema: string): Promise<Map<string, SeedRows>> {
  const seeds = new Map<string, SeedRows | null>();
  for (const file of files) {
    for (const statement of await statementsOf(file, 'up')) {
      if (statement.type !== 'InsertStmt') continue;
      const insert = constantInsert(statement.body, schema);
      const relation = relationOf(statement.body.relation, schema);
      if (!relation) continue;
      const id = key(relation);
      const previous = seeds.get(id);
      if (!insert || previous === null || (previous && previous.columns.join('\0') !== insert.columns.join('\0'))) seeds.set(id, null);
      else seeds.set(id, previous ? { ...previous, rows: [...previous.rows, ...insert.rows] } : insert);
    }
  }
  return new Map([...seeds].flatMap(([id, s]): [string, SeedRows][] => (s ? [[id, s]] : [])));
}

/** `schema\0table`: how drops and seeds are matched. */
export function key(target: { readonly schema: string; readonly table: string }): string {
  return `${target.schema}\0${target.table}`;
}

async function statementsOf(file: MigrationFile, direction: 'up' | 'down'): Promise<readonly ParsedStatement[]> {
  const parsed = await parseStatements(direction === 'up' ? file.up : file.down);
  // A file that does not parse is refused with its location by the executor's prepare step.
  return parsed.ok ? parsed.statements : [];
}

function dropsOf(statement: ParsedStatement, schema: string): DroppedData[] {
  const body = statement.body;
  if (statement.type === 'DropStmt' && body.removeType === 'OBJECT_TABLE') {
    return asArray(body.objects).flatMap((object): DroppedData[] => {
      const names = asArray(field(field(object, 'List'), 'items')).map((item) => field(field(item, 'String'), 'sval'));
      if (!names.every((n): n is string => typeof n === 'string')) return [];
      const table = names.at(-1);
      const qualifier = names.length > 1 ? names.at(-2) : schema;
      return table === undefined || qualifier === undefined ? [] : [{ schema: qualifier, table }];
    });
  }
  if (statement.type === 'AlterTableStmt' && body.objtype === 'OBJECT_TABLE') {
    const relation = relationOf(body.relation, schema);
    if (!relation) return [];
    return asArray(body.cmds).flatMap((cmd): DroppedData[] => {
      const command = field(cmd, 'AlterTableCmd');
      const column = field(command, 'name');
      return field(command, 'subtype') === 'AT_DropColumn' && typeof column === 'string' ? [{ ...relation, column }] : [];
    });
  }
  return [];
}

function constantInsert(body: Readonly<Record<string, unknown>>, schema: string): SeedRows | undefined {
  const relation = relationOf(body.relation, schema);
  const columns = asArray(body.cols).map((c) => field(field(c, 'ResTarget'), 'name'));
  if (!relation || columns.length === 0 || !columns.every((c): c is string => typeof c === 'string')) return undefined;
  if (body.onConflictClause !== undefined || body.withClause !== undefined) return undefined;
  const lists = asArray(field(field(body.selectStmt, 'SelectStmt'), 'valuesLists'));
  if (lists.length === 0) return undefined;
  const rows = lists.map((list) => asArray(field(field(list, 'List'), 'items')).map(constantText));
  if (!rows.every((row) => row.length === columns.length && row.every((v) => v !== undefined))) return undefined;
  return { ...relation, columns, rows: rows as (string | null)[][] };
}

/** The text form of a literal (`A_Const`), null for NULL; undefined for anything else. */
function constantText(node: unknown): string | null | undefined {
  const constant = field(node, 'A_Const');
  if (constant === undefined) return undefined;
  if (field(constant, 'isnull') === true) return null;
  if (field(constant, 'sval') !== undefined) return literal(field(field(constant, 'sval'), 'sval'), '');
  // The parser leaves 0 and false out of its JSON.
  if (field(constant, 'ival') !== undefined) return literal(field(field(constant, 'ival'), 'ival'), 0);
  if (field(constant, 'boolval') !== undefined) return field(field(constant, 'boolval'), 'boolval') === true ? 'true' : 'false';
  return undefined;
}

function literal(value: unknown, absent: string | number): string | undefined {
  if (value === undefined) return String(absent);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function relationOf(relation: unknown, schema: string): { schema: string; table: string } | undefined {
  const table = field(relation, 'relname');
  const qualifier = field(relation, 'schemaname') ?? schema;
  return typeof table === 'string' && typeof qualifier === 'string' ? { schema: qualifier, table } : undefined;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
