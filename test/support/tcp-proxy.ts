import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy the test owns, on 127.0.0.1: forwards every connection to
 * `target` until {@link TcpProxy.goDark}, after which it stops forwarding in
 * both directions but keeps every socket open (new connections are accepted
 * and never forwarded): a stuck proxy or pooler, or a path that went dead
 * behind a middlebox that still acknowledges TCP. The kernel keeps
 * acknowledging what the peers send, so neither side's TCP stack sees a
 * failure; only the peers' own timeouts can.
 */
export interface TcpProxy {
  readonly port: number;
  goDark(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs: [Socket, Socket][] = [];
  let dark = false;
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('error', () => undefined).once('close', () => sockets.delete(socket));
    return socket;
  };
  const server: Server = createServer((client) => {
    track(client);
    if (dark) {
      client.pause();
      return;
    }
    const upstream = track(connect(target.port, target.host));
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP port');
  return {
    port: address.port,
    goDark: () => {
      dark = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
