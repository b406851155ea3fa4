// Shared helpers for the TypeScript client tests (test/client/*.test.ts).
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import { AuthDbError, type AuthDbErrorCode } from '../../src/index.js';

/** A unique, valid e-mail address for one test. */
export function uniqueEmail(label = 'user'): string {
  return `${label}.${randomBytes(5).toString('hex')}@example.com`;
}

/** A unique, valid E.164 phone number. */
export function uniquePhone(): string {
  return `+4930${String(randomBytes(4).readUInt32BE() % 1e9).padStart(9, '0')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Kysely on `pool` that records every query it sends (Kysely's `log` hook), and is never destroyed. */
export function recordingKysely(pool: pg.Pool): { readonly kysely: Kysely<unknown>; readonly queries: CompiledQuery[] } {
  const queries: CompiledQuery[] = [];
  const kysely = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      queries.push(event.query);
    },
  });
  return { kysely, queries };
}

type AuthDbErrorClass = abstract new (...args: never[]) => AuthDbError;

/**
 * Asserts that `promise` rejects with an instance of `errorClass` whose code
 * is `code`, raised by the database: its `cause` is the server's error
 * (a pg `DatabaseError`) with the same SQLSTATE. Returns the error.
 */
export async function expectDatabaseError<E extends AuthDbError>(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => E,
  code: AuthDbErrorCode,
): Promise<E> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(errorClass);
  expect(error).toBeInstanceOf(AuthDbError);
  const typed = error as E;
  expect(typed.code).toBe(code);
  expect(typed.name).toBe(errorClass.name);
  expect(typed.cause).toBeInstanceOf(pg.DatabaseError);
  expect((typed.cause as pg.DatabaseError).code).toBe(code);
  expect(typed.message).toBe((typed.cause as pg.DatabaseError).message);
  return typed;
}

/** Asserts a client-side rejection: `errorClass`, no database cause. */
export async function expectClientError<E extends AuthDbError>(promise: Promise<unknown>, errorClass: AuthDbErrorClass & (abstract new (...args: never[]) => E)): Promise<E> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(errorClass);
  expect((error as E).cause).toBeUndefined();
  return error as E;
}

/** What `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: true, value }) as const,
    (error: unknown) => ({ resolved: false, error }) as const,
  );
  if (outcome.resolved) expect.fail(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}
