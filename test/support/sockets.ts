import { io, Socket } from 'socket.io-client';

export type ClientSocket = Socket;

export interface ConnectOptions {
  /** How to present the token: header (Node clients), auth payload (browsers) or query. */
  via?: 'header' | 'auth' | 'query';
}

/** Opens a real socket.io-client connection (websocket transport) and waits for `connect`. */
export async function connect(
  url: string,
  token: string,
  options: ConnectOptions = {},
): Promise<ClientSocket> {
  const socket = openSocket(url, token, options);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

export function openSocket(
  url: string,
  token: string | undefined,
  options: ConnectOptions = {},
): ClientSocket {
  const via = options.via ?? 'header';
  return io(url, {
    path: '/api/v1/ws',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(token && via === 'header' ? { extraHeaders: { Authorization: `Bearer ${token}` } } : {}),
    ...(token && via === 'auth' ? { auth: { token } } : {}),
    ...(token && via === 'query' ? { query: { token } } : {}),
  });
}

/** Emits with an ack callback and resolves with the server's answer. */
export function emitAck<T = any>(
  socket: ClientSocket,
  event: string,
  ...args: unknown[]
): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<T>;
}

/** Records every occurrence of the given events on a socket. */
export class Recorder {
  readonly events: { name: string; payload: any }[] = [];

  constructor(socket: ClientSocket, names: string[]) {
    for (const name of names)
      socket.on(name, (payload: unknown) => this.events.push({ name, payload }));
  }

  of(name: string): any[] {
    return this.events.filter((e) => e.name === name).map((e) => e.payload);
  }

  /** Waits until `predicate` holds over the recorded events (or fails after `ms`). */
  async waitFor(predicate: (r: Recorder) => boolean, ms = 3000): Promise<void> {
    const start = Date.now();
    while (!predicate(this)) {
      if (Date.now() - start > ms)
        throw new Error(`timed out; recorded: ${JSON.stringify(this.events)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Gives in-flight deliveries time to arrive before asserting that something did not. */
export const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

export function waitForEvent<T = any>(socket: ClientSocket, name: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} within ${ms} ms`)), ms);
    socket.once(name, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}
