import { connect, type Socket } from 'node:net';
import type pg from 'pg';

/** Protocol code of a CancelRequest message (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/** The parts of a connected `pg.Client` a cancel request needs (public fields of pg's Client). */
interface CancellableClient {
  readonly host: string;
  readonly port: number;
  readonly processID: number | null;
  readonly secretKey: number | null;
}

/**
 * Sends PostgreSQL's cancel request for whatever statement `client` is
 * running, on a connection of its own, as psql does on Ctrl-C: the server
 * cancels the statement (SQLSTATE 57014), the session stays usable and its
 * transaction can roll back. Resolves once the server closed the cancel
 * connection; a server that is gone makes it reject.
 */
export async function sendCancelRequest(client: pg.Client): Promise<void> {
  const { host, port, processID, secretKey } = client as unknown as CancellableClient;
  if (processID === null || secretKey === null) return;
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeInt32BE(processID, 8);
  message.writeInt32BE(secretKey, 12);
  const socket: Socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => socket.end(message));
    socket.once('error', reject);
    socket.once('close', () => {
      resolve();
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('the server did not take the cancel request within 5 s')));
  });
}
