import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, Socket } from 'socket.io';
import { io as connect, Socket as ClientSocket } from 'socket.io-client';
import { coalesceWrites } from './coalesce-writes';

/**
 * A real Socket.IO server and client over WebSocket. Three events are sent to the client in
 * one turn; counts the writes of the server's TCP socket meanwhile.
 */
async function sendThree(coalesce: boolean): Promise<{ writes: number; received: string[] }> {
  const http = createServer();
  const server = new Server(http);
  if (coalesce) server.engine.on('connection', coalesceWrites);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const connected = new Promise<Socket>((resolve) => server.on('connection', resolve));
  const client: ClientSocket = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
    transports: ['websocket'],
  });
  try {
    const socket = await connected;
    await new Promise((resolve) => client.on('connect', resolve as () => void));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the handshake's writes are done
    // The TCP socket under the WebSocket: its low-level writes, one per system call.
    type Write = (this: void, ...args: unknown[]) => unknown;
    const conn = socket.conn as unknown as { transport: { socket: { _socket: unknown } } };
    const tcp = conn.transport.socket._socket as Record<'_write' | '_writev', Write>;
    let writes = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = tcp[method];
      tcp[method] = (...args: unknown[]) => {
        writes += 1;
        return Reflect.apply(original, tcp, args);
      };
    }
    const received: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('m', (x: string) => {
        received.push(x);
        if (received.length === 3) resolve();
      }),
    );
    for (const x of ['a', 'b', 'c']) socket.emit('m', x);
    await all;
    return { writes, received };
  } finally {
    client.disconnect();
    await server.close();
  }
}

describe('coalesceWrites', () => {
  it('sends what a socket is sent in one turn in one write, in order', async () => {
    expect(await sendThree(true)).toEqual({ writes: 1, received: ['a', 'b', 'c'] });
  });

  it('(without it, engine.io writes each frame on its own)', async () => {
    expect(await sendThree(false)).toEqual({ writes: 3, received: ['a', 'b', 'c'] });
  });
});
