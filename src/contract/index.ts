/** Public API of schema contracts: snapshot, diff, check, history validation, reversibility proof. */
export { canonicalJson, type Json } from './canonical-json.js';
export { checkContract, DEFAULT_CONTRACT_FILE, readContractFile, type CheckContractOptions, type CheckResult } from './check.js';
export { diffSnapshots, summarize, type Drift, type DriftSummary, type FieldChange } from './diff.js';
export { ContractError, type ContractErrorCode } from './errors.js';
export { CHECK_WORDING, formatDrift, type DriftWording } from './format-drift.js';
export { REVERSIBILITY_WORDING, verifyReversible, type ReversibilityProblem, type ReversibilityResult, type VerifyReversibleOptions } from './reversible.js';
export { SCRATCH_PREFIX, withScratchDatabase, type ScratchOptions } from './scratch-database.js';
export {
  CONTRACT_FORMAT,
  DEFAULT_SEED_TABLES,
  OWNER_PLACEHOLDER,
  parseSnapshot,
  SCHEMA_PLACEHOLDER,
  serializeSnapshot,
  SNAPSHOT_LOCK_TIMEOUT,
  takeSnapshot,
  type Snapshot,
  type SnapshotObject,
  type SnapshotOptions,
} from './snapshot.js';
export { validateHistory, validateMigrations, type FindingKind, type ValidateOptions, type ValidationFinding } from './validate.js';
