import { describe, expect, it } from 'vitest';
import { redactUrl, resolveConnectionSource } from '../../src/connection/connection-source.js';
import { describeSource } from '../../src/connection/open-client.js';

describe('resolveConnectionSource', () => {
  const env = { DATABASE_URL: 'postgres://env/db', PGHOST: 'pghost', PGDATABASE: 'pgdb', AUTHDB_EMBEDDED_DIR: '/var/tmp/authdb' };

  it('prefers --database-url over everything', () => {
    expect(resolveConnectionSource({ databaseUrl: 'postgres://flag/db', embeddedDir: '/e' }, env)).toEqual({
      kind: 'url',
      url: 'postgres://flag/db',
      origin: '--database-url',
    });
  });

  it('then DATABASE_URL', () => {
    expect(resolveConnectionSource({}, env)).toEqual({ kind: 'url', url: 'postgres://env/db', origin: 'DATABASE_URL' });
  });

  it('then the PG* variables when PGHOST or PGDATABASE is set', () => {
    expect(resolveConnectionSource({}, { ...env, DATABASE_URL: '' })).toEqual({ kind: 'pg-env' });
    expect(resolveConnectionSource({}, { PGHOST: 'h' })).toEqual({ kind: 'pg-env' });
    expect(resolveConnectionSource({}, { PGDATABASE: 'd' })).toEqual({ kind: 'pg-env' });
  });

  it('else the embedded cluster: --embedded-dir, then AUTHDB_EMBEDDED_DIR, then .authdb', () => {
    expect(resolveConnectionSource({ embeddedDir: '/flag' }, { AUTHDB_EMBEDDED_DIR: '/env', PGUSER: 'u', PGPORT: '5433' })).toEqual({ kind: 'embedded', dir: '/flag' });
    expect(resolveConnectionSource({}, { AUTHDB_EMBEDDED_DIR: '/env' })).toEqual({ kind: 'embedded', dir: '/env' });
    expect(resolveConnectionSource({}, {})).toEqual({ kind: 'embedded', dir: '.authdb' });
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db.example.com:5433/auth?sslmode=require')).toBe('postgres://app:***@db.example.com:5433/auth?sslmode=require');
    expect(redactUrl('postgresql://app@localhost/auth')).toBe('postgresql://app@localhost/auth');
  });

  it('hides a password given as a query parameter', () => {
    const redacted = redactUrl('postgres://app@db/auth?password=s3cret&sslmode=require');
    expect(redacted).not.toContain('s3cret');
    expect(redacted).toContain('sslmode=require');
  });

  it('never echoes a string it cannot parse', () => {
    expect(redactUrl('host=db password=s3cret')).toBe('<unparseable connection string>');
  });

  it('is what error messages show of a URL source', () => {
    expect(describeSource({ kind: 'url', url: 'postgres://a:pw@h/d', origin: 'DATABASE_URL' })).toBe('postgres://a:***@h/d (from DATABASE_URL)');
  });
});
