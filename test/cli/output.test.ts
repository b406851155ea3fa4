import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatMs, processOutput } from '../../src/cli/output.js';

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
