/** Stable codes of the errors the contract commands raise. */
export type ContractErrorCode =
  /** The contract file is missing, unreadable or not an authdb contract. */
  | 'AUTHDB_CONTRACT_FILE'
  /** The target schema does not exist in the database. */
  | 'AUTHDB_SCHEMA_NOT_FOUND'
  /** The snapshot could not read an object (usually a missing SELECT privilege on a seeded table). */
  | 'AUTHDB_SNAPSHOT'
  /** The scratch database of `migrate verify-reversible` could not be created, used or dropped. */
  | 'AUTHDB_SCRATCH';

/** An error of the contract commands (`schema dump|check`, `migrate validate|verify-reversible`). */
export class ContractError extends Error {
  readonly code: ContractErrorCode;

  constructor(code: ContractErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ContractError';
    this.code = code;
  }
}
