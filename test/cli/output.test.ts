import { afterEach, describe, expect, it, vi } from 'vitest';
import { fitStatus, formatMs, processOutput } from '../../src/cli/output.js';

// Colors only on a terminal, and never when NO_COLOR is set (https://no-color.org).

const isTTY = process.stdout.isTTY;

afterEach(() => {
  process.stdout.isTTY = isTTY;
  vi.unstubAllEnvs();
});

describe('processOutput().color', () => {
  it('colors on a terminal', () => {
    process.stdout.isTTY = true;
    vi.stubEnv('NO_COLOR', '');
    expect(processOutput().color('green', 'applied')).toBe('\u001b[32mapplied\u001b[0m');
  });

  it('does not color when NO_COLOR is set, even on a terminal', () => {
    process.stdout.isTTY = true;
    vi.stubEnv('NO_COLOR', '1');
    expect(processOutput().color('green', 'applied')).toBe('applied');
  });

  it('does not color when stdout is not a terminal', () => {
    process.stdout.isTTY = false;
    vi.stubEnv('NO_COLOR', '');
    expect(processOutput().color('red', 'changed')).toBe('changed');
  });
});

describe('formatMs', () => {
  it('shows milliseconds below a second, else seconds', () => {
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(999)).toBe('999 ms');
    expect(formatMs(60_000)).toBe('60.00 s');
  });
});

describe('fitStatus: a status line within the terminal width', () => {
  const counts = '51,000 of 128,520 statements (39%)';
  const label = `authdb: 20260101000001_${'a_very_long_name_'.repeat(6)}seed.up.sql: `;

  it('whole when it fits', () => {
    expect(fitStatus('authdb: x.up.sql: ', counts, 79)).toBe(`authdb: x.up.sql: ${counts}`);
  });

  it('shortens the label in its middle, never the counts', () => {
    const line = fitStatus(label, counts, 79) ?? '';
    expect(line).toHaveLength(79);
    expect(line.endsWith(`seed.up.sql: ${counts}`)).toBe(true);
    expect(line.startsWith('authdb: 2026')).toBe(true);
    expect(line).toContain('…');
  });

  it('the counts alone on a narrow terminal; nothing when not even they fit', () => {
    expect(fitStatus(label, counts, 40)).toBe(counts);
    expect(fitStatus(label, counts, 20)).toBeUndefined();
  });
});
