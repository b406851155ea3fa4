import { relative } from 'node:path';
import { lintFiles, migrationFilesIn, type LintFinding } from '../lint/lint.js';
import { RULES } from '../lint/rules/index.js';
import { SUPPRESSION_RULES } from '../lint/suppressions.js';
import { DEFAULT_MIGRATIONS_DIR } from '../migrate/migration-source.js';
import { help, type Command } from './command.js';
import { parseCommand } from './usage.js';

const OPTIONS = { 'migrations-dir': { type: 'string' }, json: { type: 'boolean' } } as const;

export const lint: Command = {
  help: `Usage: authdb lint [FILE…] [--migrations-dir DIR] [--json]

Parses migration files with PostgreSQL's own parser (libpg_query) and reports
statements that lock or break a busy production database, as
  FILE:LINE:COLUMN: error RULE: why, and what to do instead
Default: every *.up.sql and *.down.sql in the migrations directory; given FILEs,
only those (an up file next to them is read only to learn the table of an
index a DROP INDEX names). Exit 1 when
there is an error (warnings do not fail). No database is needed.

Rules:
${RULES.map((r) => `  ${r.id.padEnd(32)} ${r.summary}`).join('\n')}
  ${'parse-error'.padEnd(32)} the file is not valid PostgreSQL
  ${'file-encoding'.padEnd(32)} the file is not UTF-8, or holds a NUL byte (a leading BOM is fine)

"Existing table" means one the file did not create earlier: statements on a
table created in the same file are not flagged.

Suppressing a finding needs a reason (a suppression without one is an error):
  -- authdb-lint-ignore RULE[, RULE…]: reason
     on the line of the finding, on the line before it, or before its statement
  -- authdb-lint-ignore-file RULE[, RULE…]: reason
     anywhere in the file, for the whole file
Problems with suppressions: ${SUPPRESSION_RULES.withoutReason}, ${SUPPRESSION_RULES.unknownRule}
(errors) and ${SUPPRESSION_RULES.unused} (warning).

  --migrations-dir DIR   directory linted when no FILE is given (default:
                         $AUTHDB_MIGRATIONS_DIR, else the migrations shipped with authdb)
  --json                 print {files, errors, warnings, findings, suppressed} as JSON
  -h, --help             show this help`,
  async run(argv, output, env) {
    const { values, positionals } = parseCommand(argv, OPTIONS, { min: 0, max: Infinity });
    if (values.help) return help(output, this.help);
    const files = positionals.length > 0 ? positionals : await migrationFilesIn(values['migrations-dir'] ?? env.AUTHDB_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR);
    const report = await lintFiles(files);
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const warnings = report.findings.length - errors;
    if (values.json) {
      output.out(JSON.stringify({ files: report.files, errors, warnings, findings: report.findings, suppressed: report.suppressed }, null, 2));
    } else {
      for (const f of report.findings) output.out(format(f, output.color(f.severity === 'error' ? 'red' : 'yellow', f.severity)));
    }
    const suppressed = report.suppressed.length > 0 ? ` (${report.suppressed.length} suppressed with a reason)` : '';
    output.err(`authdb: ${errors} error(s), ${warnings} warning(s) in ${report.files.length} file(s)${suppressed}`);
    return errors > 0 ? 1 : 0;
  },
};

function format(f: LintFinding, severity: string): string {
  const path = relative(process.cwd(), f.file);
  return `${path.startsWith('..') ? f.file : path}:${f.line}:${f.column}: ${severity} ${f.rule}: ${f.message}`;
}
