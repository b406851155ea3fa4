import { describe, expect, it } from 'vitest';
import { parseCommand, parseDuration, parsePositiveInteger, UsageError } from '../../src/cli/usage.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['500', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['2min', 120_000],
    ['1h', 3_600_000],
    [' 10 s ', 10_000],
    ['0', 0],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration('lock-timeout', text)).toBe(ms);
  });

  it.each(['', 'soon', '1.5s', '-1s', '10 d', '5sec', 's'])('rejects %j as a usage error naming the option', (text) => {
    expect(() => parseDuration('lock-timeout', text)).toThrow(UsageError);
    expect(() => parseDuration('lock-timeout', text)).toThrow(/^--lock-timeout: ".*" is not a duration/);
  });
});

describe('parsePositiveInteger', () => {
  it('accepts whole numbers from 1', () => {
    expect(parsePositiveInteger('steps', '1')).toBe(1);
    expect(parsePositiveInteger('steps', '12')).toBe(12);
  });

  it.each(['0', '-1', '1.5', 'two', '', '1e3'])('rejects %j', (text) => {
    expect(() => parsePositiveInteger('steps', text)).toThrow(new UsageError(`--steps: "${text}" is not a positive whole number`));
  });
});

describe('parseCommand', () => {
  const options = { to: { type: 'string' }, all: { type: 'boolean' } } as const;

  it('returns option values and positionals', () => {
    expect(parseCommand(['--to', 'x', 'name'], options, { min: 1, max: 1 })).toEqual({ values: { to: 'x' }, positionals: ['name'] });
  });

  it('turns unknown options, missing values and wrong argument counts into usage errors', () => {
    expect(() => parseCommand(['--bogus'], options, { min: 0, max: 0 })).toThrow(UsageError);
    expect(() => parseCommand(['--to'], options, { min: 0, max: 0 })).toThrow(UsageError);
    expect(() => parseCommand([], options, { min: 1, max: 1 })).toThrow(new UsageError('missing argument'));
    expect(() => parseCommand(['a', 'b'], options, { min: 1, max: 1 })).toThrow(new UsageError('unexpected argument: b'));
  });

  it('lets --help through whatever else is missing', () => {
    expect(parseCommand(['-h'], options, { min: 1, max: 1 }).values.help).toBe(true);
  });
});
