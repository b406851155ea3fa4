/** Public API of the migration linter. */
export { LintFileError } from './errors.js';
export { lintFiles, lintSql, migrationFilesIn, type LintFinding, type LintReport, type LintSource, type Severity, type SuppressedFinding } from './lint.js';
export type { Rule, RuleContext, RuleHit } from './rule.js';
export { RULES } from './rules/index.js';
export { SUPPRESSION_RULES } from './suppressions.js';
