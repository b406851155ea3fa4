import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ClientBase } from 'pg';
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
  const drifts = diffSnapshots(options.contract, actual).filter(
    (d) => !(options.ignoreExtraRows === true && d.change === 'added' && d.key.startsWith('row ')),
  );
  return { equal: drifts.length === 0, summary: summarize(drifts), drifts };
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
