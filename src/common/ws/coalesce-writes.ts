import type { Socket as TcpSocket } from 'node:net';

/** What this needs of an engine.io connection (its transport's ws socket is internal). */
interface EngineConnection {
  flush(): void;
  transport?: { socket?: { _socket?: TcpSocket } };
}

/** Connections with writes waiting for the end of this turn, with their own flush. */
let pending = new Map<EngineConnection, () => void>();
let scheduled = false;

function flushPending(): void {
  scheduled = false;
  const batch = pending;
  pending = new Map();
  for (const [conn, flush] of batch) {
    const tcp = conn.transport?.socket?._socket;
    if (!tcp || tcp.destroyed || typeof tcp.cork !== 'function') {
      flush();
      continue;
    }
    tcp.cork();
    try {
      flush();
    } finally {
      tcp.uncork();
    }
  }
}

/**
 * Coalesces the writes of one connection within a turn of the event loop. engine.io writes
 * each packet as soon as it is sent, one system call per frame; the frames sent to a socket
 * meanwhile wait until that write completes, then go out one call each again. Here the
 * connections written to in a turn are flushed once, together, after the I/O callbacks of the
 * turn (one setImmediate for all), each with its TCP socket corked, so everything sent to a
 * socket in the turn leaves in one write. Order, callbacks and back-pressure stay engine.io's.
 */
export function coalesceWrites(conn: EngineConnection): void {
  if (typeof conn.flush !== 'function') return; // not the engine.io this was written for
  const flush = conn.flush.bind(conn);
  conn.flush = () => {
    if (!pending.has(conn)) pending.set(conn, flush);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushPending);
    }
  };
}
