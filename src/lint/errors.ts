/** A file given to `authdb lint` cannot be read (`AUTHDB_LINT_FILE`). */
export class LintFileError extends Error {
  readonly code = 'AUTHDB_LINT_FILE';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LintFileError';
  }
}
