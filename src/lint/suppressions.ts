import type { Position } from '../sql/line-index.js';
import type { SqlComment } from '../sql/parse.js';

/** Rule ids of problems with the suppressions themselves (these cannot be suppressed). */
export const SUPPRESSION_RULES = {
  withoutReason: 'lint-ignore-without-reason',
  unknownRule: 'lint-ignore-unknown-rule',
  unused: 'unused-lint-ignore',
} as const;

/**
 * `-- authdb-lint-ignore RULE[, RULE…]: reason` (the finding on the same line,
 * on the next line, or in the statement that follows the comment) or
 * `-- authdb-lint-ignore-file RULE[, RULE…]: reason` (the whole file).
 */
export interface Suppression {
  readonly scope: 'line' | 'file';
  readonly rules: readonly string[];
  readonly reason: string;
  readonly comment: SqlComment;
  readonly at: Position;
}

export interface SuppressionProblem {
  readonly rule: string;
  readonly message: string;
  readonly at: Position;
}

/** Text every suppression comment contains. */
export const SUPPRESSION_MARKER = 'authdb-lint-ignore';

const DIRECTIVE = /^--\s*authdb-lint-ignore(-file)?(?![\w-])(.*)$/s;

/** Reads the suppression comments; malformed ones become problems and suppress nothing. */
export function readSuppressions(
  comments: readonly SqlComment[],
  position: (offset: number) => Position,
  knownRules: ReadonlySet<string>,
): { suppressions: Suppression[]; problems: SuppressionProblem[] } {
  const suppressions: Suppression[] = [];
  const problems: SuppressionProblem[] = [];
  for (const comment of comments) {
    const match = DIRECTIVE.exec(comment.text.trim());
    if (!match) continue;
    const at = position(comment.start);
    const directive = `authdb-lint-ignore${match[1] ?? ''}`;
    const rest = match[2] ?? '';
    const colon = rest.indexOf(':');
    const rules = (colon === -1 ? rest : rest.slice(0, colon)).split(/[\s,]+/).filter(Boolean);
    const reason = colon === -1 ? '' : rest.slice(colon + 1).trim();
    const unknown = rules.filter((r) => !knownRules.has(r));
    if (rules.length === 0 || unknown.length > 0) {
      problems.push({
        rule: SUPPRESSION_RULES.unknownRule,
        message: `${directive} ${rules.length === 0 ? 'names no rule' : `names unknown rule ${unknown.join(', ')}`}; write "-- ${directive} RULE: reason" with a rule id from \`authdb lint --help\``,
        at,
      });
    } else if (reason === '') {
      problems.push({
        rule: SUPPRESSION_RULES.withoutReason,
        message: `${directive} ${rules.join(', ')} has no reason; write "-- ${directive} ${rules.join(', ')}: why this is safe here" (the reason is required so reviewers can judge it)`,
        at,
      });
    } else {
      suppressions.push({ scope: match[1] ? 'file' : 'line', rules, reason, comment, at });
    }
  }
  return { suppressions, problems };
}
