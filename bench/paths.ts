/**
 * The paths compared in one interleaved run: each operation's floor, the
 * authdb function, and (for registration) the naive application-side
 * transaction. Each runs through pgbench (the server floor) and through the
 * `pg` driver with the same SQL.
 */
import {
  REGISTER_FLOOR,
  REGISTER_FUNCTION,
  REGISTER_NAIVE,
  REISSUE_FLOOR,
  REISSUE_FUNCTION,
  VERIFY_FLOOR,
  VERIFY_FUNCTION,
} from './schema-sql.js';

/** What a path needs before it runs: nothing, existing unconfirmed users, or pre-loaded tokens. */
export type Fixture = 'none' | 'users' | 'tokens';

export interface PathSpec {
  /** Stable id, e.g. `register.floor`. */
  readonly id: string;
  readonly label: string;
  /** Statements of one operation (pgbench variables :tag, :slot, :id). */
  readonly statements: readonly string[];
  /** Wrapped in BEGIN … COMMIT by the runner. */
  readonly transaction: boolean;
  /** Index of the statement whose single result row sets variables (pgbench \gset). */
  readonly gset?: number;
  readonly fixture: Fixture;
}

export const SQL_PATHS: readonly PathSpec[] = [
  { id: 'register.floor', label: 'bare inserts, one statement (floor)', statements: [REGISTER_FLOOR], transaction: false, fixture: 'none' },
  { id: 'register.function', label: 'register_user_with_token (new address)', statements: [REGISTER_FUNCTION], transaction: false, fixture: 'none' },
  { id: 'register.naive', label: 'naive app-side transaction', statements: REGISTER_NAIVE, transaction: true, gset: 1, fixture: 'none' },
  { id: 'reissue.floor', label: 'revoke + insert token (reissue floor)', statements: [REISSUE_FLOOR], transaction: false, fixture: 'users' },
  { id: 'reissue.function', label: 'register_user_with_token (reissue)', statements: [REISSUE_FUNCTION], transaction: false, fixture: 'users' },
  { id: 'verify.floor', label: 'UPDATE … RETURNING token and user (verify floor)', statements: [VERIFY_FLOOR], transaction: false, fixture: 'tokens' },
  { id: 'verify.function', label: 'verify_email', statements: [VERIFY_FUNCTION], transaction: false, fixture: 'tokens' },
];

/** Typed-client rows (driver only): the client against a bare `pg` call of the same function. */
export const CLIENT_PATHS = [
  { id: 'client.bare', label: 'pg: register_user_with_token(p_email, p_password_hash) (driver floor)' },
  { id: 'client.registerUser', label: 'authDb.registerUser({ email, passwordHash })' },
] as const;

export type Runner = 'pgbench' | 'pg';

/** A ratio the issue names as a target: numerator / denominator of median throughput. */
export interface RatioSpec {
  readonly name: string;
  readonly runner: Runner;
  readonly numerator: string;
  readonly denominator: string;
  /** Target, reported (never asserted); undefined: reported for information. */
  readonly target: Readonly<Record<number, number>>;
}

const EVERY = (value: number): Readonly<Record<number, number>> => ({ 1: value, 4: value, 16: value });

/** The issue's targets, for both runners (the pgbench rows are the authoritative ones). */
export const RATIOS: readonly RatioSpec[] = (['pgbench', 'pg'] as const).flatMap((runner) => [
  { name: 'register_user_with_token / bare-insert floor', runner, numerator: 'register.function', denominator: 'register.floor', target: EVERY(0.85) },
  { name: 'register_user_with_token / naive transaction', runner, numerator: 'register.function', denominator: 'register.naive', target: { 1: 1.3, 4: 1.2 } },
  { name: 'reissue / reissue floor', runner, numerator: 'reissue.function', denominator: 'reissue.floor', target: EVERY(0.85) },
  { name: 'verify_email / verify floor', runner, numerator: 'verify.function', denominator: 'verify.floor', target: EVERY(0.85) },
]).concat([{ name: 'registerUser / bare pg call', runner: 'pg', numerator: 'client.registerUser', denominator: 'client.bare', target: EVERY(0.95) }]);
