/** Default directory of the embedded cluster, relative to the working directory. */
export const DEFAULT_EMBEDDED_DIR = '.authdb';
