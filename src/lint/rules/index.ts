import type { Rule } from '../rule.js';
import { columnTypeChange } from './column-type-change.js';
import { charVarcharLength, timestampWithoutTimeZone } from './column-types.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { constraintWithoutNotValid } from './constraint-without-not-valid.js';
import { dropColumnInUp, dropTableInUp, renameInUp } from './destructive-in-up.js';
import { functionPublicExecute } from './function-public-execute.js';
import { indexWithoutConcurrently } from './index-without-concurrently.js';
import { notNullColumnWithoutDefault } from './not-null-column-without-default.js';
import { securityDefinerSearchPath } from './security-definer-search-path.js';
import { setNotNull } from './set-not-null.js';
import { transactionControlInTransaction } from './transaction-control.js';

/** Every lint rule, in the order they are documented. */
export const RULES: readonly Rule[] = [
  indexWithoutConcurrently,
  concurrentlyInTransaction,
  transactionControlInTransaction,
  notNullColumnWithoutDefault,
  setNotNull,
  constraintWithoutNotValid,
  columnTypeChange,
  dropTableInUp,
  dropColumnInUp,
  renameInUp,
  securityDefinerSearchPath,
  functionPublicExecute,
  timestampWithoutTimeZone,
  charVarcharLength,
];
