/**
 * A real HTTP server on a loopback address for outgoing-request tests, counting the TCP
 * connections it accepts: a refused fetch must leave the count at 0 (nothing was sent).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LocalServer {
  /** `http://<host>:<port>` */
  origin: string;
  port: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function serveLocal(handler: http.RequestListener, host = '127.0.0.1'): Promise<LocalServer> {
  const server = http.createServer(handler);
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Handlers that never answer (timeout tests) would keep close() waiting.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = await serveLocal(() => undefined);
  await server.close();
  return server.port;
}
