import type pg from 'pg';
import { literal, walk, type PlantedShadows } from './shadowing.js';

/**
 * The shadowing harness (shadowing.ts) for the rest of what a statement looks
 * up by name (issue 14 §2): types and operators, besides functions. For a
 * statement the typed client sends, every name that the connection's
 * `search_path` could resolve is collected, and an attacker plants, in a
 * schema put before `pg_catalog` on that path, a domain of the same name
 * whose CHECK records the value it is given (a cast to it captures the bound
 * parameter) and a same-signature operator that records its call. Both record
 * through `shadow_record` of {@link plantShadows}, so {@link readShadowRecord}
 * reads them too.
 */

/** The names a statement looks up, each set lower-case. */
export interface ReferencedNames {
  /** Every function called, whatever its qualification (the last part of its name). */
  readonly functions: Set<string>;
  /** Types of casts and declarations, unqualified or `pg_catalog`-qualified. */
  readonly types: Set<string>;
  /** Operator symbols, unqualified or written `OPERATOR(pg_catalog.…)`. */
  readonly operators: Set<string>;
  /** What the `search_path` resolves: `function f`, `type t`, `operator =`, `relation r` written without a schema. */
  readonly unqualified: Set<string>;
}

/** Adds the names the statements of `sql` look up to `names` (a fresh set of sets when omitted). */
export async function referencedNames(sql: string, names: ReferencedNames = emptyNames()): Promise<ReferencedNames> {
  const { parse } = await import('libpg-query');
  walk(await parse(sql), (key, value) => {
    if (key === 'FuncCall') {
      const parts = strings((value as { funcname?: unknown }).funcname);
      const name = parts.at(-1);
      if (name !== undefined) names.functions.add(name);
      if (parts.length === 1) names.unqualified.add(`function ${parts[0]}`);
    }
    if (key === 'typeName' || key === 'TypeName') {
      const parts = strings((value as { names?: unknown }).names);
      const name = parts.at(-1);
      if (name !== undefined && (parts.length === 1 || parts[0] === 'pg_catalog')) names.types.add(name);
      if (parts.length === 1) names.unqualified.add(`type ${parts[0]}`);
    }
    if (key === 'A_Expr') {
      const parts = strings((value as { name?: unknown }).name);
      const symbol = parts.at(-1);
      if (symbol === undefined || !OPERATOR_SYMBOL.test(symbol)) return;
      if (parts.length === 1 || parts[0] === 'pg_catalog') names.operators.add(symbol);
      if (parts.length === 1) names.unqualified.add(`operator ${symbol}`);
    }
    if (key === 'RangeVar') {
      const { schemaname, relname } = value as { schemaname?: string; relname?: string };
      if (schemaname === undefined && relname !== undefined) names.unqualified.add(`relation ${relname}`);
    }
  });
  return names;
}

export function emptyNames(): ReferencedNames {
  return { functions: new Set(), types: new Set(), operators: new Set(), unqualified: new Set() };
}

export interface PlantTypesOptions {
  /** Connected as the attacker, after {@link plantShadows} made the recorder in `schema`. */
  readonly client: pg.ClientBase;
  readonly schema: string;
  /** Type names ({@link ReferencedNames.types}). */
  readonly types: Iterable<string>;
}

/**
 * Creates in `schema`, for every type named that exists in `pg_catalog`, a
 * domain of the same name over it whose CHECK records the value (its first 80
 * characters) and who gave it: on a path with `schema` first, `$1::text`
 * resolves to the domain, and its CHECK sees the bound parameter.
 */
export async function plantTypeShadows(options: PlantTypesOptions): Promise<PlantedShadows> {
  const { client } = options;
  const w = client.escapeIdentifier(options.schema);
  await client.query(`
    CREATE FUNCTION ${w}.shadow_capture(p_what text, p_value text, p_who name, p_sequence pg_catalog.regclass) RETURNS boolean
      LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT ${w}.shadow_record(p_what || ' captured ' || coalesce(quote_literal(left(p_value, 80)), 'NULL'), p_who, p_sequence); SELECT true $$;
    GRANT EXECUTE ON FUNCTION ${w}.shadow_capture(text, text, name, pg_catalog.regclass) TO PUBLIC`);
  const { rows } = await client.query<{ name: string }>(
    `SELECT t.typname AS name FROM pg_catalog.pg_type AS t
      WHERE t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND t.typname = ANY ($1::pg_catalog.text[]) AND t.typtype IN ('b', 'r', 'm', 'e')
      ORDER BY 1`,
    [[...options.types]],
  );
  return plantEach(client, options.schema, 'type', rows, ({ name }, sequence) => {
    const t = client.escapeIdentifier(name);
    const what = literal(`domain ${options.schema}.${name}`);
    return {
      signature: `${name} (domain)`,
      sql: `CREATE DOMAIN ${w}.${t} AS pg_catalog.${t} CHECK (${w}.shadow_capture(${what}, VALUE::pg_catalog.text, current_user, ${literal(sequence)}))`,
    };
  });
}

export interface PlantOperatorsOptions {
  /** Connected as the attacker, after {@link plantShadows} made the recorder in `schema`. */
  readonly client: pg.ClientBase;
  readonly schema: string;
  /** Operator symbols ({@link ReferencedNames.operators}). */
  readonly operators: Iterable<string>;
}

interface OriginalOperator {
  readonly symbol: string;
  readonly left: string | null;
  readonly right: string;
  readonly result: string;
  readonly code: string;
}

/**
 * Creates in `schema`, for every operator of another schema with one of the
 * symbols, an operator of the same symbol and operand types that records its
 * call and then answers as the original (through the original's function).
 */
export async function plantOperatorShadows(options: PlantOperatorsOptions): Promise<PlantedShadows> {
  const { client } = options;
  const w = client.escapeIdentifier(options.schema);
  const { rows } = await client.query<OriginalOperator>(
    `SELECT o.oprname AS symbol, CASE WHEN o.oprleft <> 0 THEN pg_catalog.format_type(o.oprleft, NULL) END AS left,
            pg_catalog.format_type(o.oprright, NULL) AS right, pg_catalog.format_type(o.oprresult, NULL) AS result,
            pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) AS code
       FROM pg_catalog.pg_operator AS o
       JOIN pg_catalog.pg_proc AS p ON p.oid = o.oprcode
       JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      WHERE o.oprname = ANY ($1::pg_catalog.text[]) AND o.oprnamespace <> $2::pg_catalog.regnamespace
      ORDER BY 1, 2, 3`,
    [[...options.operators], options.schema],
  );
  return plantEach(client, options.schema, 'op', rows, (operator, sequence, index) => {
    const fn = `${w}.shadow_operator_${index}`;
    const args = operator.left === null ? [operator.right] : [operator.left, operator.right];
    const params = args.map((_, i) => `$${i + 1}`).join(', ');
    const record = `${w}.shadow_record(${literal(`operator ${options.schema}.${operator.symbol}(${args.join(', ')})`)}, current_user, ${literal(sequence)})`;
    const sides = operator.left === null ? `RIGHTARG = ${operator.right}` : `LEFTARG = ${operator.left}, RIGHTARG = ${operator.right}`;
    return {
      signature: `${operator.symbol}(${args.join(', ')}) (operator)`,
      sql: `CREATE FUNCTION ${fn}(${args.join(', ')}) RETURNS ${operator.result} LANGUAGE sql AS $shadow$ SELECT ${record}; SELECT ${operator.code}(${params}) $shadow$;
            CREATE OPERATOR ${w}.${operator.symbol} (${sides}, FUNCTION = ${fn})`,
    };
  });
}

const OPERATOR_SYMBOL = /^[-+*/<>=~!@#%^&|`?]+$/;

/**
 * Plants one object per item, each recording through a sequence of its own
 * (`shadow_seq_<kind>_<n>`, commented with what it stands for), in one
 * transaction; an item PostgreSQL refuses (a pseudo-type operand, …) is skipped.
 */
async function plantEach<T>(
  client: pg.ClientBase,
  schema: string,
  kind: string,
  items: readonly T[],
  statement: (item: T, sequence: string, index: number) => { readonly signature: string; readonly sql: string },
): Promise<PlantedShadows> {
  const planted: string[] = [];
  const skipped: string[] = [];
  await client.query('BEGIN');
  try {
    for (const [index, item] of items.entries()) {
      const sequence = `${schema}.shadow_seq_${kind}_${index + 1}`;
      const { signature, sql } = statement(item, sequence, index + 1);
      await client.query('SAVEPOINT plant');
      try {
        await client.query(`CREATE SEQUENCE ${sequence}; COMMENT ON SEQUENCE ${sequence} IS ${literal(`${schema}.${signature}`)}; GRANT USAGE ON SEQUENCE ${sequence} TO PUBLIC`);
        await client.query(sql);
        await client.query('RELEASE SAVEPOINT plant');
        planted.push(`${schema}.${signature}`);
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT plant');
        skipped.push(`${signature}: ${(error as Error).message}`);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  return { planted, skipped };
}

/** The `sval`s of a list of `String` nodes, lower-case. */
function strings(list: unknown): string[] {
  return ((list as { String?: { sval?: string } }[] | undefined) ?? []).map((part) => (part.String?.sval ?? '').toLowerCase());
}
