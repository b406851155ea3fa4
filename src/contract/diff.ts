import { compareCodeUnits, isObject, jsonEqual, type Json } from './canonical-json.js';
import type { Snapshot, SnapshotObject } from './snapshot.js';

/**
 * One difference between an expected snapshot (the contract, or the schema
 * before a migration) and an actual one (the live database):
 * `added` exists only in the actual, `missing` only in the expected,
 * `changed` in both with different fields.
 */
export type Drift =
  | { readonly change: 'added'; readonly key: string; readonly actual: SnapshotObject }
  | { readonly change: 'missing'; readonly key: string; readonly expected: SnapshotObject }
  | { readonly change: 'changed'; readonly key: string; readonly fields: readonly FieldChange[] };

/** A field that differs; `grants.app` style paths for nested objects. A side without the field has no property. */
export interface FieldChange {
  readonly field: string;
  readonly expected?: Json;
  readonly actual?: Json;
}

/** Counts by kind of change. */
export interface DriftSummary {
  readonly added: number;
  readonly missing: number;
  readonly changed: number;
}

/**
 * Compares two snapshots object by object, sorted by key. Equal snapshots
 * give an empty list.
 *
 * @example
 * const drifts = diffSnapshots(contract, await takeSnapshot(client));
 * if (drifts.length > 0) console.log(formatDrift(drifts).join('\n'));
 */
export function diffSnapshots(expected: Snapshot, actual: Snapshot): Drift[] {
  const keys = [...new Set([...Object.keys(expected.objects), ...Object.keys(actual.objects)])].sort(compareCodeUnits);
  const drifts: Drift[] = [];
  for (const key of keys) {
    const before = expected.objects[key];
    const after = actual.objects[key];
    if (before === undefined && after !== undefined) drifts.push({ change: 'added', key, actual: after });
    else if (after === undefined && before !== undefined) drifts.push({ change: 'missing', key, expected: before });
    else if (before !== undefined && after !== undefined) {
      const fields = diffFields(before, after, '');
      if (fields.length > 0) drifts.push({ change: 'changed', key, fields });
    }
  }
  return drifts;
}

export function summarize(drifts: readonly Drift[]): DriftSummary {
  const count = (change: Drift['change']): number => drifts.filter((d) => d.change === change).length;
  return { added: count('added'), missing: count('missing'), changed: count('changed') };
}

function diffFields(expected: { readonly [k: string]: Json }, actual: { readonly [k: string]: Json }, prefix: string): FieldChange[] {
  const fields = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort(compareCodeUnits);
  return fields.flatMap((name): FieldChange[] => {
    const before = expected[name];
    const after = actual[name];
    if (jsonEqual(before, after)) return [];
    const path = `${prefix}${name}`;
    if (isObject(before) && isObject(after)) return diffFields(before, after, `${path}.`);
    return [{ field: path, ...(before !== undefined && { expected: before }), ...(after !== undefined && { actual: after }) }];
  });
}
