import type { MigrationFile, MigrationSourceSpec } from '../migrate/migration-file.js';
import { loadSources } from '../migrate/migration-source.js';
import { parseStatementOutlines, type ParsedStatement } from '../sql/parse.js';
import type { SnapshotObject } from './snapshot-objects.js';

// An application's migrations live in authdb's schema beside authdb's own
// (Rails engines and Django apps share one database the same way). `schema
// check` holds authdb's objects to authdb's contract; what the application's
// up files create is the application's, and not drift. Which objects those
// are is read from the files' parse trees, by name, so nothing has to run:
// a table, view, sequence, type, function, index, trigger, policy or rule
// they create (with everything attached to a table they create), a column or
// a named constraint they add to one of authdb's tables, and rows they insert
// into one of authdb's seeded tables. Anything else (an object made by hand,
// by dynamic SQL, or an unnamed constraint on an authdb table) stays drift.

/** Names of what an application's up files create, by kind. */
export interface ApplicationObjects {
  readonly relations: ReadonlySet<string>;
  readonly functions: ReadonlySet<string>;
  readonly indexes: ReadonlySet<string>;
  /** `table.name` of columns, constraints, triggers, policies and rules. */
  readonly attached: ReadonlySet<string>;
  /** Tables the files insert rows into. */
  readonly insertedInto: ReadonlySet<string>;
}

interface Mutable {
  relations: Set<string>;
  functions: Set<string>;
  indexes: Set<string>;
  attached: Set<string>;
  insertedInto: Set<string>;
}

/** What the up files of the application's sources create; a file that does not parse contributes nothing (the engine refuses it anyway). */
export async function applicationObjects(files: readonly MigrationFile[]): Promise<ApplicationObjects> {
  const found: Mutable = { relations: new Set(), functions: new Set(), indexes: new Set(), attached: new Set(), insertedInto: new Set() };
  for (const file of files) {
    const parsed = await parseStatementOutlines(file.up);
    if (parsed.ok) for (const statement of parsed.statements) collect(statement, found);
  }
  return found;
}

/** Whether the snapshot object under `key` is one the application's files create. */
export function isApplicationObject(key: string, object: SnapshotObject, app: ApplicationObjects): boolean {
  const attached = ATTACHED_KEY.exec(key);
  if (attached) {
    const [, , table = '', name = ''] = attached;
    return app.relations.has(table) || app.attached.has(`${table}.${name}`);
  }
  const relation = RELATION_KEY.exec(key);
  if (relation) {
    const name = relation[2] ?? '';
    const ownedBy = typeof object.ownedBy === 'string' ? object.ownedBy.split('.')[0] : undefined;
    return app.relations.has(name) || (ownedBy !== undefined && app.relations.has(ownedBy));
  }
  if (key.startsWith('index ')) return app.indexes.has(key.slice('index '.length)) || (typeof object.table === 'string' && app.relations.has(object.table));
  const routine = routineName(key);
  if (routine !== undefined) return app.functions.has(routine);
  const row = ROW_KEY.exec(key);
  return row !== null && app.insertedInto.has(row[1] ?? '');
}

const ATTACHED_KEY = /^(column|constraint|trigger|policy|rule) ([^.]+)\.(.+)$/;
const RELATION_KEY = /^(table|view|materialized view|foreign table|sequence|type) (.+)$/;
const ROUTINE_KEY = /^(?:function|procedure|aggregate|window function) ([^(]+)\(/;

/** The name of the routine a snapshot key names (`function name(args)` → `name`), if it names one. */
export function routineName(key: string): string | undefined {
  return ROUTINE_KEY.exec(key)?.[1];
}

/** What the up files of the given application sources create; `undefined` without any. */
export async function loadApplicationObjects(sources: readonly MigrationSourceSpec[]): Promise<ApplicationObjects | undefined> {
  return sources.length === 0 ? undefined : applicationObjects(await loadSources(sources));
}
const ROW_KEY = /^row (\S+) /;

type Body = Readonly<Record<string, unknown>>;

function collect(statement: ParsedStatement, found: Mutable): void {
  const body = statement.body;
  const rel = (field: string): string | undefined => relname(body[field]);
  switch (statement.type) {
    case 'CreateStmt':
    case 'CreateForeignTableStmt':
      add(found.relations, rel('relation') ?? relname((body.base as Body | undefined)?.relation));
      break;
    case 'ViewStmt':
      add(found.relations, rel('view'));
      break;
    case 'CreateTableAsStmt':
      add(found.relations, relname((body.into as Body | undefined)?.rel));
      break;
    case 'CreateSeqStmt':
      add(found.relations, rel('sequence'));
      break;
    case 'CompositeTypeStmt':
      add(found.relations, rel('typevar'));
      break;
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
      add(found.relations, lastName(body.typeName));
      break;
    case 'CreateDomainStmt':
      add(found.relations, lastName(body.domainname));
      break;
    case 'DefineStmt':
      if (body.kind === 'OBJECT_AGGREGATE') add(found.functions, lastName(body.defnames));
      else if (body.kind === 'OBJECT_TYPE') add(found.relations, lastName(body.defnames));
      break;
    case 'CreateFunctionStmt':
      add(found.functions, lastName(body.funcname));
      break;
    case 'IndexStmt':
      add(found.indexes, typeof body.idxname === 'string' ? body.idxname : undefined);
      break;
    case 'CreateTrigStmt':
      attach(found, rel('relation'), body.trigname);
      break;
    case 'CreatePolicyStmt':
      attach(found, rel('table'), body.policy_name);
      break;
    case 'RuleStmt':
      attach(found, rel('relation'), body.rulename);
      break;
    case 'AlterTableStmt':
      for (const cmd of (body.cmds as readonly { AlterTableCmd?: Body }[] | undefined) ?? []) alterTableCommand(found, rel('relation'), cmd.AlterTableCmd);
      break;
    case 'InsertStmt':
      add(found.insertedInto, rel('relation'));
      break;
    default:
      break;
  }
}

function alterTableCommand(found: Mutable, table: string | undefined, cmd: Body | undefined): void {
  const def = cmd?.def as { ColumnDef?: Body; Constraint?: Body } | undefined;
  if (cmd?.subtype === 'AT_AddColumn') attach(found, table, def?.ColumnDef?.colname);
  else if (cmd?.subtype === 'AT_AddConstraint') attach(found, table, def?.Constraint?.conname);
}

function attach(found: Mutable, table: string | undefined, name: unknown): void {
  if (table !== undefined && typeof name === 'string') found.attached.add(`${table}.${name}`);
}

function add(set: Set<string>, name: string | undefined): void {
  if (name !== undefined) set.add(name);
}

function relname(node: unknown): string | undefined {
  const name = (node as Body | undefined)?.relname;
  return typeof name === 'string' ? name : undefined;
}

/** The last element of a qualified name list (`[{String: {sval}}…]`). */
function lastName(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const last = (list.at(-1) as { String?: { sval?: unknown } } | undefined)?.String?.sval;
  return typeof last === 'string' ? last : undefined;
}
