import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSourceProblem, readSql } from '../../src/sql/sql-source.js';

/** The reviewed source of every SQL function: `sql/functions/<name>.sql`. */
export const FUNCTION_SOURCES_DIR = fileURLToPath(new URL('../../sql/functions/', import.meta.url));

/** One function's source file: the `CREATE OR REPLACE FUNCTION` with its `COMMENT ON FUNCTION` and `REVOKE`. */
export interface FunctionSource {
  /** The function's name: the file name without `.sql`. */
  readonly name: string;
  readonly path: string;
  /** The file's text, read as migrations are (strict UTF-8, BOM dropped). */
  readonly text: string;
}

/** Reads `path` as a function source, failing with the loader's problem (file, line, byte) when it is not UTF-8 SQL. */
export async function readFunctionSource(path: string): Promise<FunctionSource> {
  const outcome = await readSql(path).catch((error: unknown) => {
    throw new Error(`cannot read the function source ${path}: ${(error as Error).message}`, { cause: error });
  });
  if (!outcome.ok) throw new Error(formatSourceProblem(outcome.problem));
  return { name: basename(path, '.sql'), path, text: outcome.source.text };
}

/** Every `*.sql` of `dir`, sorted by name. */
export async function listFunctionSources(dir = FUNCTION_SOURCES_DIR): Promise<FunctionSource[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(files.map((f) => readFunctionSource(join(dir, f))));
}
