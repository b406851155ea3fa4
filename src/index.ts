export type {
  AuthDb,
  EmailVerificationPreview,
  IssuedToken,
  PasswordInput,
  PreviewEmailVerificationOptions,
  RegisteredUser,
  RegisterUserDetails,
  RegisterUserInput,
  ResendEmailVerificationOptions,
  SignedIn,
  TokenMetadata,
  UserRecord,
  VerifiedEmail,
  VerifyEmailOptions,
  VerifyPasswordInput,
} from './client/auth-db.js';
export type { AuthDbConnection } from './client/connection.js';
export { createAuthDb, type AuthDbConfig, type AuthDbOptions } from './client/create-auth-db.js';
export type { Database, EmailVerificationTokens, Roles, Users } from './client/database-types.js';
export { MAX_DURATION_MS, parseDuration, type Duration, type ParsedDuration } from './client/duration.js';
export {
  AUTH_DB_ERROR_CODES,
  AuthDbError,
  EmailAlreadyRegisteredError,
  InvalidArgumentError,
  InvalidEmailError,
  InvalidPhoneError,
  isAuthDbError,
  isAuthDbErrorCode,
  PhoneAlreadyRegisteredError,
  ResendTooSoonError,
  RoleNotSelfAssignableError,
  toAuthDbError,
  TokenAlreadyUsedError,
  TooManyOutstandingTokensError,
  TokenExpiredError,
  UnknownRoleError,
  UnknownTokenError,
  UserNotFoundError,
  type AuthDbErrorCode,
  type AuthDbErrorMap,
  type AuthDbErrorOf,
  type AuthDbErrorOptions,
} from './client/errors.js';
export {
  MAX_DOMAIN_LABEL_LENGTH,
  MAX_EMAIL_LENGTH,
  MAX_PASSWORD_HASH_LENGTH,
  MAX_PASSWORD_LENGTH,
  MAX_PHONE_LENGTH,
  MAX_ROLE_LENGTH,
  MAX_TOKEN_LENGTH,
} from './client/input-limits.js';
export { DEFAULT_PASSWORD_HASHING, hashPassword, type PasswordHashingOptions } from './client/password-hashing.js';
export { MAX_BCRYPT_COST } from './client/password-verification.js';
export { UnsupportedPasswordHashError } from './client/unsupported-password-hash-error.js';
export {
  DEFAULT_DDL_LOCK_TIMEOUT_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_SCHEMA,
  Migrator,
  type DownOptions,
  type MigrationRun,
  type MigratorEvent,
  type MigratorOptions,
  type PlannedMigration,
} from './migrate/migrator.js';
export { DEFAULT_MIGRATIONS_DIR } from './migrate/migration-source.js';
export { DownDataError, type DataAtRisk } from './migrate/down-data.js';
export type { DownTarget, MigrationState, MigrationStatus } from './migrate/plan.js';
export {
  LockTimeoutError,
  MigrationError,
  MigrationHistoryError,
  MigrationPlanError,
  MigrationSourceError,
  MigrationSqlError,
  type MigrationErrorCode,
} from './migrate/errors.js';
