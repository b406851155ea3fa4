import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ClientBase } from 'pg';
import { isApplicationObject, routineName, type ApplicationObjects } from './application-objects.js';
import { diffSnapshots, summarize, type Drift, type DriftSummary } from './diff.js';
import { ContractError } from './errors.js';
import { parseSnapshot, takeSnapshot, type Snapshot } from './snapshot.js';

/** The contract shipped with authdb: the snapshot of its migrations, freshly applied (`schema/contract.json`). */
export const DEFAULT_CONTRACT_FILE = fileURLToPath(new URL('../../schema/contract.json', import.meta.url));

export interface CheckContractOptions {
  /** A connected client, not inside a transaction. The check only reads. */
  readonly client: ClientBase;
  /** The schema to check. */
  readonly schema: string;
  /** The expected snapshot. */
  readonly contract: Snapshot;
  /** Rows added to seeded tables (roles an operator created) are not drift. Default is `false`. */
  readonly ignoreExtraRows?: boolean;
  /** What the application's own migrations create in the schema: not drift. Default is none. */
  readonly applicationObjects?: ApplicationObjects | undefined;
}

export interface CheckResult {
  /** True when the database matches the contract. */
  readonly equal: boolean;
  readonly summary: DriftSummary;
  /** Each difference, sorted by object key. */
  readonly drifts: readonly Drift[];
}

/**
 * Compares the live schema with a contract. Read-only: the snapshot runs in a
 * `READ ONLY` transaction, so the server itself refuses any write.
 *
 * @example
 * const contract = await readContractFile('schema/contract.json');
 * const { equal, drifts } = await checkContract({ client, schema: 'public', contract });
 */
export async function checkContract(options: CheckContractOptions): Promise<CheckResult> {
  const actual = await takeSnapshot(options.client, { schema: options.schema });
  const app = options.applicationObjects;
  const known = (key: string): boolean => Object.hasOwn(options.contract.objects, key);
  const authdbRoutines = new Set(Object.keys(options.contract.objects).flatMap((key) => routineName(key) ?? []));
  const drifts = diffSnapshots(columnOrder(options.contract, known), columnOrder(actual, known)).filter((d) => {
    if (d.change !== 'added') return true;
    if (options.ignoreExtraRows === true && d.key.startsWith('row ')) return false;
    // An overload of one of authdb's functions is never the application's: it can change which one a call resolves to.
    const routine = routineName(d.key);
    if (routine !== undefined && authdbRoutines.has(routine)) return true;
    return app === undefined || !isApplicationObject(d.key, d.actual, app);
  });
  return { equal: drifts.length === 0, summary: summarize(drifts), drifts };
}

/**
 * The snapshot with each contract column's `position` replaced by its rank
 * among the contract's columns of its table: what the contract promises is
 * their order, while columns an application added (or one dropped and
 * re-added) shift the numbers.
 */
function columnOrder(snapshot: Snapshot, inContract: (key: string) => boolean): Snapshot {
  const byTable = new Map<string, [string, number][]>();
  for (const [key, object] of Object.entries(snapshot.objects)) {
    const match = /^column ([^.]+)\./.exec(key);
    if (!match || !inContract(key) || typeof object.position !== 'number') continue;
    const table = match[1] ?? '';
    byTable.set(table, [...(byTable.get(table) ?? []), [key, object.position]]);
  }
  const objects = { ...snapshot.objects };
  for (const columns of byTable.values()) {
    columns.sort(([, a], [, b]) => a - b).forEach(([key], index) => {
      objects[key] = { ...objects[key], position: index + 1 };
    });
  }
  return { ...snapshot, objects };
}

/** Reads and validates a contract file. */
export async function readContractFile(path: string): Promise<Snapshot> {
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new ContractError(
      'AUTHDB_CONTRACT_FILE',
      `cannot read the contract ${path}: ${(error as Error).message}; create it with \`authdb schema dump --out ${path}\` on a freshly migrated database, or pass --contract`,
      { cause: error },
    );
  });
  return parseSnapshot(text, path);
}
