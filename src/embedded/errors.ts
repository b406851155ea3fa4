/** Stable codes of the errors the embedded cluster raises (listed in README's "The embedded default"). */
export type EmbeddedErrorCode =
  /** The cluster directory is unsafe (a symlink, owned by another user, writable by others), not writable, or not authdb's. */
  | 'AUTHDB_EMBEDDED_DIR'
  /** `cluster.json` is missing, unreadable or corrupted while the data directory exists. */
  | 'AUTHDB_EMBEDDED_STATE'
  /** Another authdb process held the cluster's lock for longer than the wait allows. */
  | 'AUTHDB_EMBEDDED_LOCK'
  /** The server did not start or stop. */
  | 'AUTHDB_EMBEDDED_SERVER'
  /** `db url` (or a scratch database) needs the server running, and it is not. */
  | 'AUTHDB_EMBEDDED_NOT_RUNNING';

/** An error of the embedded cluster, with a message naming the path and what to do. */
export class EmbeddedError extends Error {
  readonly code: EmbeddedErrorCode;

  constructor(code: EmbeddedErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmbeddedError';
    this.code = code;
  }
}

/** What to tell a user whose embedded directory cannot be used. */
export const ELSEWHERE_HINT =
  'point authdb at another directory with --embedded-dir DIR or AUTHDB_EMBEDDED_DIR, or at your own server with --database-url or DATABASE_URL';
