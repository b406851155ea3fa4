import pg from 'pg';

/**
 * Generated shadowing tests (issue 7 §1): find every function a piece of SQL
 * calls — PL/pgSQL bodies included — and plant, in a schema an attacker can
 * write, a same-signature shadow and better-matching overloads of each, all of
 * which record who ran them. Code immune to shadowing leaves the record empty.
 *
 * The record survives a rollback: each planted function advances a sequence
 * (never rolled back) besides inserting a row naming `current_user`.
 */

/** The name of every function `sql` calls (unqualified or `pg_catalog.`-qualified), lower-case. */
export async function calledFunctionNames(sql: string): Promise<Set<string>> {
  const { parse, parsePlPgSQL } = await import('libpg-query');
  const names = new Set<string>();
  const visitSql = async (text: string): Promise<void> => {
    let tree: unknown;
    try {
      tree = await parse(text);
    } catch {
      return; // not a complete statement (e.g. a fragment): nothing to add
    }
    const bodies: string[] = [];
    walk(tree, (key, value) => {
      if (key === 'FuncCall') addFuncCall(value, names);
      if (key === 'CreateFunctionStmt' && languageOf(value) === 'sql') bodies.push(...stringBodies(value));
    });
    for (const body of bodies) await visitSql(body);
  };
  await visitSql(sql);
  // PL/pgSQL: every expression and statement of every function body.
  if (/language\s+'?plpgsql/i.test(sql)) {
    const functions: unknown[] = [];
    for (const statement of await plpgsqlFunctions(sql)) {
      try {
        functions.push(await parsePlPgSQL(plpgsqlParsable(statement)));
      } catch (error) {
        throw new Error(`libpg-query could not parse the PL/pgSQL body of: ${statement.slice(0, 120)}: ${(error as Error).message}`, { cause: error });
      }
    }
    const expressions: string[] = [];
    walk(functions, (key, value) => {
      if (key !== 'PLpgSQL_expr') return;
      const { query, parseMode } = value as { query?: string; parseMode?: number };
      if (typeof query === 'string') expressions.push(asStatement(query, parseMode ?? 0));
    });
    for (const expression of expressions) await visitSql(expression);
  }
  return names;
}

/**
 * The `CREATE FUNCTION … LANGUAGE plpgsql` statements of `sql`, each on its
 * own: libpg-query's PL/pgSQL parser aborts on a function with an SQL-standard
 * body (`RETURN …` / `BEGIN ATOMIC`), whose calls the SQL walk above already sees.
 * Statement locations are UTF-8 byte offsets.
 */
async function plpgsqlFunctions(sql: string): Promise<string[]> {
  const { parse } = await import('libpg-query');
  const bytes = Buffer.from(sql, 'utf8');
  const tree = (await parse(sql)) as { stmts?: { stmt?: { CreateFunctionStmt?: unknown }; stmt_location?: number; stmt_len?: number }[] };
  const statements: string[] = [];
  for (const { stmt, stmt_location: start = 0, stmt_len: length } of tree.stmts ?? []) {
    if (stmt?.CreateFunctionStmt === undefined || languageOf(stmt.CreateFunctionStmt) !== 'plpgsql') continue;
    statements.push(bytes.subarray(start, length ? start + length : undefined).toString('utf8'));
  }
  return statements;
}

/**
 * libpg-query's PL/pgSQL parser has no catalog: it cannot resolve
 * `table%ROWTYPE` or `table.column%TYPE`, and then refuses assignments to
 * their fields. `record` and `text` stand in; the calls are unchanged.
 */
function plpgsqlParsable(sql: string): string {
  return sql.replace(/\b[\w.]+%ROWTYPE\b/gi, 'record').replace(/\b[\w]+\.[\w]+%TYPE\b/gi, 'text');
}

/** A PL/pgSQL expression as a statement the SQL parser accepts (parse modes of PostgreSQL's raw_parser). */
function asStatement(query: string, parseMode: number): string {
  if (parseMode === 2) return `SELECT ${query}`;
  if (parseMode >= 3) return `SELECT ${query.slice(query.indexOf(':=') + 2)}`;
  return query;
}

function addFuncCall(node: unknown, names: Set<string>): void {
  const parts = ((node as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((p) => p.String?.sval ?? '');
  const name = parts.at(-1);
  if (name === undefined || name === '') return;
  if (parts.length === 1 || parts[0] === 'pg_catalog') names.add(name.toLowerCase());
}

function languageOf(stmt: unknown): string | undefined {
  for (const option of (stmt as { options?: { DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }[] }).options ?? []) {
    if (option.DefElem?.defname === 'language') return option.DefElem.arg?.String?.sval?.toLowerCase();
  }
  return undefined;
}

function stringBodies(stmt: unknown): string[] {
  const bodies: string[] = [];
  for (const option of (stmt as { options?: { DefElem?: { defname?: string; arg?: unknown } }[] }).options ?? []) {
    if (option.DefElem?.defname !== 'as') continue;
    walk(option.DefElem.arg, (key, value) => {
      if (key === 'String') {
        const sval = (value as { sval?: string }).sval;
        if (sval) bodies.push(sval);
      }
    });
  }
  return bodies;
}

/** Calls `visit` with every key and value of a parse tree, depth first. */
export function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    visit(key, value);
    walk(value, visit);
  }
}

export interface PlantOptions {
  /** Connected as the attacker: a role that may CREATE in `schema`. */
  readonly client: pg.ClientBase;
  /** Where to plant (a schema on the victim's search_path). */
  readonly schema: string;
  /** Function names to shadow ({@link calledFunctionNames}). */
  readonly names: Iterable<string>;
  /** Schemas whose functions are not shadowed (the target schema: authdb's own functions). Default is none. */
  readonly exclude?: readonly string[];
}

export interface PlantedShadows {
  /** `schema.name(types)` of every function planted. */
  readonly planted: readonly string[];
  /** Originals that could not be shadowed with the same signature (C-only pseudo-types such as "any", internal), with why. */
  readonly skipped: readonly string[];
}

/** Array element types an `anyarray`-like argument is replaced with, to beat the polymorphic original. */
const CONCRETE_ARRAYS = ['text[]', 'integer[]', 'smallint[]', 'oid[]'];
/** Scalar types a polymorphic or `name` argument is replaced with. */
const POLYMORPHIC_SCALARS = new Set(['anyelement', 'anycompatible', 'anynonarray', 'name', '"any"']);
const POLYMORPHIC_ARRAYS = new Set(['anyarray', 'anycompatiblearray']);
/** Fixed arities planted for a variadic original. */
const VARIADIC_ARITIES = [1, 2, 3];

interface Original {
  readonly schema: string;
  readonly name: string;
  readonly identity: string;
  readonly argumentList: string;
  readonly result: string;
  readonly argTypes: string[];
  readonly variadic: boolean;
  readonly hasOutArgs: boolean;
  readonly retset: boolean;
}

/**
 * Creates, in `schema`, the recorder (`shadow_calls`, `shadow_call_seq`,
 * `shadow_record`) and for every function named in `names` that exists
 * elsewhere: a same-signature shadow (which records, then calls the
 * original, so behaviour is unchanged) and better-matching overloads —
 * `text` for `name` and polymorphic scalars, concrete arrays for `anyarray`,
 * every argument `text` (beats untyped literals and parameters), fixed arity
 * for variadic functions — which record and return nothing.
 */
export async function plantShadows(options: PlantOptions): Promise<PlantedShadows> {
  const { client } = options;
  const w = client.escapeIdentifier(options.schema);
  await client.query(`
    CREATE TABLE ${w}.shadow_calls (fn text NOT NULL, called_by name NOT NULL, at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp());
    CREATE FUNCTION ${w}.shadow_record(p_fn text, p_who name, p_sequence pg_catalog.regclass) RETURNS void
      LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT pg_catalog.nextval(p_sequence); INSERT INTO ${w}.shadow_calls (fn, called_by) VALUES (p_fn, p_who) $$;
    GRANT EXECUTE ON FUNCTION ${w}.shadow_record(text, name, pg_catalog.regclass) TO PUBLIC;
    GRANT USAGE ON SCHEMA ${w} TO PUBLIC`);
  const { rows } = await client.query<Original>(
    `SELECT n.nspname AS schema, p.proname AS name, pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity,
            pg_catalog.pg_get_function_arguments(p.oid) AS "argumentList", pg_catalog.pg_get_function_result(p.oid) AS result,
            ARRAY(SELECT pg_catalog.format_type(t, NULL) FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY AS a(t, i) ORDER BY i)::text[] AS "argTypes",
            p.provariadic <> 0 AS variadic,
            coalesce(p.proargmodes::text[] && ARRAY['o', 'b', 't'], false) AS "hasOutArgs", p.proretset AS retset
       FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      WHERE p.proname = ANY ($1::text[]) AND p.prokind = 'f' AND n.nspname <> ALL ($2::text[])
      ORDER BY 1, 2, 3`,
    [[...options.names], [options.schema, ...(options.exclude ?? [])]],
  );
  const planted: string[] = [];
  const skipped: string[] = [];
  const signatures = new Set<string>();
  /** Creates one planted function; `sql` gets the call that records it (through a sequence of its own, named after it). */
  const create = async (signature: string, sql: (record: string) => string, original: Original): Promise<void> => {
    if (signatures.has(signature)) return;
    signatures.add(signature);
    const sequence = `${options.schema}.shadow_seq_${signatures.size}`;
    const record = `${w}.shadow_record(${literal(`${original.schema}.${original.name}(${original.identity}) as ${signature}`)}, current_user, ${literal(sequence)})`;
    await client.query('SAVEPOINT plant');
    try {
      await client.query(`CREATE SEQUENCE ${sequence}; COMMENT ON SEQUENCE ${sequence} IS ${literal(`${options.schema}.${signature}`)}; GRANT USAGE ON SEQUENCE ${sequence} TO PUBLIC`);
      await client.query(sql(record));
      await client.query('RELEASE SAVEPOINT plant');
      planted.push(`${options.schema}.${signature}`);
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT plant');
      skipped.push(`${original.schema}.${original.name}(${original.identity}) as ${signature}: ${(error as Error).message}`);
    }
  };
  await client.query('BEGIN');
  try {
    for (const original of rows) {
      // 1. Same signature: records, then behaves as the original.
      const args = original.argTypes.map((_, i) => `${original.variadic && i === original.argTypes.length - 1 ? 'VARIADIC ' : ''}$${i + 1}`).join(', ');
      const call = `${client.escapeIdentifier(original.schema)}.${client.escapeIdentifier(original.name)}(${args})`;
      const returnsRows = original.retset || original.hasOutArgs;
      const sameSignature = `${original.name}(${original.argTypes.join(', ')})`;
      const head = `CREATE FUNCTION ${w}.${client.escapeIdentifier(original.name)}(${original.argumentList}) RETURNS ${original.result}`;
      await create(sameSignature, (record) => `${head} LANGUAGE sql AS $shadow$ SELECT ${record}; SELECT ${returnsRows ? `* FROM ${call}` : call} $shadow$`, original);
      // The attacker may not reach the original (no USAGE on its schema): record and return nothing instead.
      if (!planted.includes(`${options.schema}.${sameSignature}`)) {
        signatures.delete(sameSignature);
        const ret = returnsNothing(original, original.result) ? '' : ' NULL';
        await create(sameSignature, (record) => `${head} LANGUAGE plpgsql AS $shadow$ BEGIN PERFORM ${record}; RETURN${ret}; END $shadow$`, original);
      }
      // 2. Better-matching overloads: record and return nothing.
      for (const types of overloads(original)) {
        const result = concreteResult(original.result);
        if (result === undefined) continue;
        const ret = returnsNothing(original, result) ? '' : ' NULL';
        await create(
          `${original.name}(${types.join(', ')})`,
          (record) =>
            `CREATE FUNCTION ${w}.${client.escapeIdentifier(original.name)}(${types.join(', ')}) RETURNS ${result} LANGUAGE plpgsql AS $shadow$ BEGIN PERFORM ${record}; RETURN${ret}; END $shadow$`,
          original,
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  return { planted, skipped };
}

/** Argument lists that match a call better than the original's. */
function overloads(original: Original): string[][] {
  const types = original.argTypes;
  const lists: string[][] = [];
  if (types.length > 0) lists.push(types.map(() => 'text'));
  types.forEach((type, i) => {
    if (POLYMORPHIC_SCALARS.has(type)) lists.push(types.map((t, j) => (j === i ? 'text' : concreteScalar(t))));
    if (POLYMORPHIC_ARRAYS.has(type)) for (const array of CONCRETE_ARRAYS) lists.push(types.map((t, j) => (j === i ? array : concreteScalar(t))));
  });
  if (original.variadic) {
    const fixed = types.slice(0, -1).map(concreteScalar);
    const last = types.at(-1) ?? 'text[]';
    const element = last === '"any"' || POLYMORPHIC_ARRAYS.has(last) ? 'text' : last.replace(/\[\]$/, '');
    for (const arity of VARIADIC_ARITIES) lists.push([...fixed, ...Array<string>(arity).fill(element)]);
  }
  return lists.filter((list) => list.every((t) => !/^(internal|cstring|"any"|any\w*)$/.test(t)));
}

function concreteScalar(type: string): string {
  if (POLYMORPHIC_SCALARS.has(type)) return 'text';
  if (POLYMORPHIC_ARRAYS.has(type)) return 'text[]';
  return type;
}

/** The original's result with polymorphic types made concrete; undefined when that is not possible. */
function concreteResult(result: string): string | undefined {
  const concrete = result
    .replace(/\b(anyelement|anycompatible|anynonarray)\b/g, 'text')
    .replace(/\b(anyarray|anycompatiblearray)\b/g, 'text[]');
  return /\b(any\w*|internal|cstring)\b/.test(concrete) ? undefined : concrete;
}

function returnsNothing(original: Original, result: string): boolean {
  return original.retset || original.hasOutArgs || result === 'void' || result.startsWith('SETOF ') || result.startsWith('TABLE(');
}

/** `text` as an SQL string literal. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** What the planted functions recorded. */
export interface ShadowRecord {
  /** `original as planted signature as role`, one per call whose transaction committed. */
  readonly calls: readonly string[];
  /** `planted signature: N calls` from the sequences, which no rollback undoes. */
  readonly counted: readonly string[];
}

/** Reads (as a superuser) what the planted functions in `schema` recorded. */
export async function readShadowRecord(client: pg.ClientBase, schema: string): Promise<ShadowRecord> {
  const w = client.escapeIdentifier(schema);
  const calls = await client.query<{ line: string }>(`SELECT fn || ' as ' || called_by AS line FROM ${w}.shadow_calls ORDER BY at`);
  const counted = await client.query<{ line: string }>(
    `SELECT pg_catalog.obj_description(c.oid, 'pg_class') || ': ' || pg_catalog.pg_sequence_last_value(c.oid) || ' call(s)' AS line
       FROM pg_catalog.pg_class AS c
      WHERE c.relnamespace = $1::pg_catalog.regnamespace AND c.relkind = 'S' AND c.relname LIKE 'shadow\\_seq\\_%'
        AND pg_catalog.pg_sequence_last_value(c.oid) IS NOT NULL
      ORDER BY 1`,
    [schema],
  );
  return { calls: calls.rows.map((r) => r.line), counted: counted.rows.map((r) => r.line) };
}

/**
 * Records the text of every query any `pg.Client` in this process sends
 * (the CLI run in-process, the typed client, kysely-codegen) until `stop()`.
 */
export function captureQueries(): { readonly queries: readonly string[]; stop(): void } {
  const queries: string[] = [];
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]): unknown {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    if (typeof text === 'string') queries.push(text);
    return original.apply(this, args);
  };
  return {
    queries,
    stop: () => {
      prototype.query = original;
    },
  };
}

/** How a planted overload of an authdb function differs from the original. */
export type OverloadKind = 'defaulted' | 'variadic';

/**
 * Plants, in `schema` (the target schema: authdb's own functions' schema, which
 * the functions' pinned search_path searches right after pg_catalog), an overload
 * of every function named in `names` that lives there: the original's arguments
 * plus `p_planted integer DEFAULT 0` ('defaulted': a call of the original then
 * matches both, "not unique", since the defaults fill the rest) or plus
 * `VARIADIC p_planted integer[]` ('variadic'). Each raises when it runs, so an
 * overload that is ever chosen shows as an error naming it. Returns the
 * planted signatures.
 */
export async function plantOverloads(client: pg.ClientBase, schema: string, names: Iterable<string>, kind: OverloadKind): Promise<string[]> {
  const { rows } = await client.query<{ name: string; args: string; result: string }>(
    `SELECT p.proname AS name, pg_catalog.pg_get_function_arguments(p.oid) AS args, pg_catalog.pg_get_function_result(p.oid) AS result
       FROM pg_catalog.pg_proc AS p
      WHERE p.pronamespace = $1::pg_catalog.regnamespace AND p.proname = ANY ($2::text[]) AND p.prokind = 'f'
        AND p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype AND NOT p.proretset
        AND coalesce(NOT p.proargmodes::text[] && ARRAY['o', 'b', 't'], true)
        -- A VARIADIC parameter after defaulted ones needs a default itself: that is a defaulted overload.
        AND ($3::text = 'defaulted' OR p.pronargdefaults = 0)`,
    [schema, [...names], kind],
  );
  const planted: string[] = [];
  for (const { name, args, result } of rows) {
    const extra = kind === 'defaulted' ? 'p_planted integer DEFAULT 0' : 'VARIADIC p_planted integer[]';
    const signature = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}(${args === '' ? extra : `${args}, ${extra}`})`;
    await client.query(
      `CREATE FUNCTION ${signature} RETURNS ${result} LANGUAGE plpgsql AS $planted$ BEGIN RAISE EXCEPTION 'planted overload %(%) ran', ${literal(name)}, ${literal(kind)}; END $planted$`,
    );
    planted.push(`${name}(${args}) + ${kind}`);
  }
  return planted;
}
