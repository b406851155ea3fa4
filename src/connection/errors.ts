/** Stable codes of connection failures. */
export type ConnectionErrorCode = 'AUTHDB_CONNECT';

/** The server could not be reached, did not answer in time, or refused the login. */
export class ConnectionError extends Error {
  readonly code: ConnectionErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionError';
    this.code = 'AUTHDB_CONNECT';
  }
}
