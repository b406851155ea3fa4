import { describe, expect, it } from 'vitest';
import { checksumSql, MIGRATION_NAME_PATTERN, parseDirectives } from '../../src/migrate/migration-file.js';

describe('parseDirectives', () => {
  it('runs a file in a transaction unless its first line opts out', () => {
    expect(parseDirectives('CREATE TABLE a ();\n')).toEqual({ transaction: true });
    expect(parseDirectives('-- authdb:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (x);')).toEqual({ transaction: false });
    expect(parseDirectives('--authdb:no-transaction  \r\nSELECT 1;')).toEqual({ transaction: false });
    expect(parseDirectives('\uFEFF-- authdb:no-transaction\n')).toEqual({ transaction: false });
  });

  it('ignores the directive anywhere but the first line, and near misses', () => {
    expect(parseDirectives('-- header\n-- authdb:no-transaction\n')).toEqual({ transaction: true });
    expect(parseDirectives('-- authdb:no-transactions\n')).toEqual({ transaction: true });
    expect(parseDirectives('-- authdb:no-transaction because CIC\n')).toEqual({ transaction: true });
    expect(parseDirectives('')).toEqual({ transaction: true });
  });
});

describe('checksumSql', () => {
  it('is the SHA-256 hex of the text', () => {
    expect(checksumSql('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('treats CRLF and LF line endings as the same file, and any other edit as a change', () => {
    const lf = 'CREATE TABLE a (\n  id int\n);\n';
    expect(checksumSql(lf.replace(/\n/g, '\r\n'))).toBe(checksumSql(lf));
    expect(checksumSql(lf.replace('id', 'ID'))).not.toBe(checksumSql(lf));
    expect(checksumSql(`${lf}\n`)).not.toBe(checksumSql(lf));
  });

  it('treats a leading byte-order mark as no change', () => {
    const lf = 'CREATE TABLE a ();\n';
    expect(checksumSql(`\uFEFF${lf}`)).toBe(checksumSql(lf));
    expect(checksumSql(`${lf}\uFEFF`)).not.toBe(checksumSql(lf));
  });
});

describe('MIGRATION_NAME_PATTERN', () => {
  it('accepts a 14-digit timestamp and snake_case words only', () => {
    expect(MIGRATION_NAME_PATTERN.test('20261125000001_roles')).toBe(true);
    expect(MIGRATION_NAME_PATTERN.test('20261125000001_add_users_2')).toBe(true);
    expect(MIGRATION_NAME_PATTERN.test('2026112500000_roles')).toBe(false);
    expect(MIGRATION_NAME_PATTERN.test('20261125000001_Roles')).toBe(false);
    expect(MIGRATION_NAME_PATTERN.test('20261125000001-roles')).toBe(false);
  });
});
