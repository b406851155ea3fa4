/**
 * Where a command writes: results on stdout, diagnostics on stderr. Plain
 * functions, not methods, so they can be passed on (`log: output.err`).
 */
export interface Output {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Wraps text in an ANSI color when stdout is a terminal and NO_COLOR is unset. */
  readonly color: (name: keyof typeof COLORS, text: string) => string;
  /**
   * Shows `line` as a status line on stderr, replaced by the next one and
   * cleared by the next `out` or `err`. Undefined when stderr is not a
   * terminal: piped output gets no status lines.
   */
  readonly status?: ((line: string) => void) | undefined;
}

const COLORS = { green: 32, yellow: 33, red: 31, dim: 2 } as const;

export function processOutput(): Output {
  const colored = process.stdout.isTTY && !process.env.NO_COLOR;
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
    status: process.stderr.isTTY
      ? (line) => {
          // Cut to the terminal's width: a line that wraps is not overwritten by the next.
          const width = Math.max(20, (process.stderr.columns || 80) - 1);
          process.stderr.write(`\r${line.length > width ? `${line.slice(0, width - 1)}…` : line}\u001b[K`);
          statusShown = true;
        }
      : undefined,
  };
}

/** Milliseconds as a short human duration. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
