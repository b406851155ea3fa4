import { compareCodeUnits, isArray, type Json } from './canonical-json.js';
import type { Drift, FieldChange } from './diff.js';
import { hunks, lineDiff } from './line-diff.js';
import type { SnapshotObject } from './snapshot.js';

/** How the two sides of a comparison are described to the reader. */
export interface DriftWording {
  /** After `+ key`: where the object exists. */
  readonly added: string;
  /** After `- key`: where the object exists. */
  readonly missing: string;
}

/** `schema check`: the contract is expected, the database actual. */
export const CHECK_WORDING: DriftWording = {
  added: 'in the database, not in the contract',
  missing: 'in the contract, missing from the database',
};

/** At most this many lines of a body diff are printed per field. */
const MAX_HUNK_LINES = 40;

/**
 * Readable, line-oriented drift report, one block per object:
 *
 *     + column users.nickname  (in the database, not in the contract)
 *         type: "text"
 *     - index users_confirmed_phone_key  (in the contract, missing from the database)
 *         definition: "CREATE UNIQUE INDEX …"
 *     ~ column users.role
 *         default: "'user'::text" → null
 *
 * Changed values read `expected → actual`; `(absent)` marks a missing field.
 */
export function formatDrift(drifts: readonly Drift[], wording: DriftWording = CHECK_WORDING): string[] {
  const lines: string[] = [];
  for (const drift of drifts) {
    switch (drift.change) {
      case 'added':
        lines.push(`+ ${drift.key}  (${wording.added})`, ...describe(drift.actual));
        break;
      case 'missing':
        lines.push(`- ${drift.key}  (${wording.missing})`, ...describe(drift.expected));
        break;
      case 'changed':
        lines.push(`~ ${drift.key}`, ...drift.fields.filter((f) => !redundant(f, drift.fields)).flatMap(describeChange));
        break;
    }
  }
  return lines;
}

/** The fields of a whole object, one per line in name order; bodies shortened to a line count and hash. */
function describe(object: SnapshotObject): string[] {
  return Object.entries(object)
    .sort(([a], [b]) => compareCodeUnits(a, b))
    .flatMap(([field, value]) => {
      if (value === null || field === 'bodySha256') return [];
      if (field === 'body' && isArray(value)) return [`    body: ${value.length} lines (sha256 ${typeof object.bodySha256 === 'string' ? object.bodySha256.slice(0, 12) : '?'}…)`];
      return [`    ${field}: ${show(value)}`];
    });
}

function describeChange(change: FieldChange): string[] {
  const { expected, actual } = change;
  if (isLines(expected) && isLines(actual)) {
    const diff = hunks(lineDiff(expected, actual));
    const shown = diff.slice(0, MAX_HUNK_LINES).map((line) => `      ${line}`);
    const more = diff.length > MAX_HUNK_LINES ? [`      … ${diff.length - MAX_HUNK_LINES} more diff lines`] : [];
    return [`    ${change.field}: ${expected.length} → ${actual.length} lines, changed as follows (- expected, + actual):`, ...shown, ...more];
  }
  return [`    ${change.field}: ${show(expected)} → ${show(actual)}`];
}

/** A body's hash changes with its lines; the line diff says more. */
function redundant(change: FieldChange, all: readonly FieldChange[]): boolean {
  return change.field.endsWith('bodySha256') && all.some((f) => f.field === change.field.replace(/bodySha256$/, 'body'));
}

function isLines(value: Json | undefined): value is readonly string[] {
  return isArray(value) && value.every((item) => typeof item === 'string');
}

function show(value: Json | undefined): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}
