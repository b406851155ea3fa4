/**
 * Where a command writes: results on stdout, diagnostics on stderr. Plain
 * functions, not methods, so they can be passed on (`log: output.err`).
 */
export interface Output {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Wraps text in an ANSI color when stdout is a terminal, NO_COLOR is unset and TERM is not dumb. */
  readonly color: (name: keyof typeof COLORS, text: string) => string;
  /**
   * Shows `label` and `counts` as a status line on stderr, replaced by the
   * next one and cleared by the next `out` or `err`; on a narrow terminal the
   * label is shortened, never the counts. Undefined when stderr is not a
   * terminal that can overwrite a line (piped, or TERM=dumb): no status lines.
   */
  readonly status?: ((label: string, counts: string) => void) | undefined;
}

const COLORS = { green: 32, yellow: 33, red: 31, dim: 2 } as const;

export function processOutput(): Output {
  const colored = process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  // A closed pipe (`authdb migrate up --dry-run | head`) must not crash the
  // command halfway: drop further output and let it finish and clean up.
  let stdoutOpen = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutOpen = false;
  });
  // A status line is on the terminal: the next line written goes over it.
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown) process.stderr.write('\r\u001b[K');
    statusShown = false;
  };
  return {
    out: (line) => {
      clearStatus();
      if (stdoutOpen) process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      clearStatus();
      process.stderr.write(`${line}\n`);
    },
    color: (name, text) => (colored ? `\u001b[${COLORS[name]}m${text}\u001b[0m` : text),
    status:
      process.stderr.isTTY && process.env.TERM !== 'dumb'
        ? (label, counts) => {
            const line = fitStatus(label, counts, (process.stderr.columns || 80) - 1);
            if (line === undefined) return;
            process.stderr.write(`\r${line}\u001b[K`);
            statusShown = true;
          }
        : undefined,
  };
}

/**
 * `label` then `counts` in `width` columns (a line that wraps is not
 * overwritten by the next): the label shortened in its middle first, then
 * left out; undefined when not even the counts fit.
 */
export function fitStatus(label: string, counts: string, width: number): string | undefined {
  if (counts.length > width) return undefined;
  const room = width - counts.length;
  if (label.length <= room) return `${label}${counts}`;
  if (room < 12) return counts;
  const keep = room - 1;
  const head = Math.ceil(keep / 2);
  return `${label.slice(0, head)}…${label.slice(label.length - (keep - head))}${counts}`;
}

/** Milliseconds as a short human duration. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
