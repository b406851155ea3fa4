/** One line of a line diff: kept (` `), only in the old text (`-`) or only in the new one (`+`). */
export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
  /** 1-based line number in the old text (new text for `+`). */
  readonly line: number;
}

/** Longest-common-subsequence line diff of two short texts (function bodies, view definitions). */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  // lcs[i][j]: length of the LCS of before[i..] and after[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const next = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) row[j] = before[i] === after[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const result: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      result.push({ op: ' ', text: before[i] ?? '', line: i + 1 });
      i++;
      j++;
    } else if (i < n && (j === m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      result.push({ op: '-', text: before[i] ?? '', line: i + 1 });
      i++;
    } else {
      result.push({ op: '+', text: after[j] ?? '', line: j + 1 });
      j++;
    }
  }
  return result;
}

/** The changed lines with `context` unchanged lines around each change, and `@@ line N @@` headers. */
export function hunks(diff: readonly DiffLine[], context = 2): string[] {
  const keep = new Set<number>();
  diff.forEach((d, index) => {
    if (d.op === ' ') return;
    for (let k = Math.max(0, index - context); k <= Math.min(diff.length - 1, index + context); k++) keep.add(k);
  });
  const lines: string[] = [];
  let previous = -2;
  for (const index of [...keep].sort((a, b) => a - b)) {
    const d = diff[index];
    if (!d) continue;
    if (index !== previous + 1) lines.push(`@@ line ${d.line} @@`);
    lines.push(`${d.op} ${d.text}`);
    previous = index;
  }
  return lines;
}
