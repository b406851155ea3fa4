import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/lint/rules/index.js';
import { SUPPRESSION_RULES } from '../../src/lint/suppressions.js';
import { runMain } from '../support/cli.js';

// Every contract command documents itself and rejects unknown options as usage errors.

const COMMANDS = [
  ['schema', 'dump'],
  ['schema', 'check'],
  ['migrate', 'validate'],
  ['migrate', 'verify-reversible'],
  ['lint'],
];

describe('contract command help', () => {
  for (const command of COMMANDS) {
    it(`authdb ${command.join(' ')} --help`, async () => {
      const result = await runMain([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: authdb ${command.join(' ')} `));
      const wrong = await runMain([...command, '--no-such-option']);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain(`Run \`authdb ${command.join(' ')} --help\``);
    });
  }

  it('lists the schema subcommands', async () => {
    const result = await runMain(['schema', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: authdb schema <dump\|check>/);
    expect((await runMain(['schema'])).code).toBe(2);
  });

  it('lists every lint rule with its id in the lint help', async () => {
    const { stdout } = await runMain(['lint', '--help']);
    for (const id of ['index-without-concurrently', 'function-public-execute', 'char-varchar-length', 'lint-ignore-without-reason']) expect(stdout).toContain(id);
  });
});

describe('README.md, In CI', () => {
  it('documents every lint rule and every error code the contract commands raise', async () => {
    const docs = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const ids = [...RULES.map((r) => r.id), ...Object.values(SUPPRESSION_RULES), 'parse-error', 'file-encoding'];
    const codes = ['AUTHDB_MIGRATION_FILE', 'AUTHDB_CONTRACT_FILE', 'AUTHDB_SCHEMA_NOT_FOUND', 'AUTHDB_SNAPSHOT', 'AUTHDB_SCRATCH', 'AUTHDB_LINT_FILE'];
    for (const id of [...ids, ...codes]) expect(docs).toContain(`\`${id}\``);
  });
});
