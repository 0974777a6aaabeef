import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, Socket } from 'socket.io';
import { io as connect, Socket as ClientSocket } from 'socket.io-client';
import { coalesceWrites, coalescing, loopBusy } from './coalesce-writes';

/**
 * A real Socket.IO server and client over WebSocket. Three events are sent to the client in
 * one turn; counts the writes of the server's TCP socket meanwhile. `loop`: how busy
 * coalesceWrites is told the event loop is (`null`: without coalesceWrites).
 */
async function sendThree(
  loop: 'busy' | 'idle' | null,
  broadcast = true,
): Promise<{ writes: number; received: string[] }> {
  const http = createServer();
  const server = new Server(http);
  if (loop) {
    server.engine.on('connection', (conn: Parameters<typeof coalesceWrites>[0]) =>
      coalesceWrites(conn, () => loop === 'busy'),
    );
  }
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
    const send = () => ['a', 'b', 'c'].forEach((x) => socket.emit('m', x));
    if (broadcast) coalescing(send);
    else send();
    await all;
    return { writes, received };
  } finally {
    client.disconnect();
    await server.close();
  }
}

describe('coalesceWrites', () => {
  it('sends what a broadcast sends a socket in one turn in one write, in order, while the loop is busy', async () => {
    expect(await sendThree('busy')).toEqual({ writes: 1, received: ['a', 'b', 'c'] });
  });

  it('writes at once, as engine.io does, what is not sent through coalescing()', async () => {
    const single = await sendThree('busy', false);
    expect(single.received).toEqual(['a', 'b', 'c']);
    expect(single.writes).toBeGreaterThan(1);
  });

  it('writes at once, as engine.io does, while the loop is idle', async () => {
    const idle = await sendThree('idle');
    expect(idle.received).toEqual(['a', 'b', 'c']);
    expect(idle.writes).toBeGreaterThan(1);
  });

  it('(without it, engine.io writes each frame on its own)', async () => {
    expect(await sendThree(null)).toEqual({ writes: 3, received: ['a', 'b', 'c'] });
  });
});

describe('loopBusy', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('is false while the loop waits, true after it ran without a break', async () => {
    loopBusy(); // starts sampling
    await sleep(250);
    expect(loopBusy()).toBe(false);
    const end = Date.now() + 300;
    while (Date.now() < end); // a turn that runs for 300 ms
    await sleep(20); // the overdue sample, taken first, covers it
    expect(loopBusy()).toBe(true);
    await sleep(250); // two idle samples later
    expect(loopBusy()).toBe(false);
  });
});
