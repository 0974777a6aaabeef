import type { Socket as TcpSocket } from 'node:net';

/** What this needs of an engine.io connection (its transport's ws socket is internal). */
interface EngineConnection {
  flush(): void;
  transport?: { socket?: { _socket?: TcpSocket } };
}

/**
 * Coalesces the writes of one connection within a turn of the event loop. engine.io writes
 * each packet as soon as it is sent, one system call per frame; the frames sent to a socket
 * meanwhile wait until that write completes, then go out one call each again. Here a
 * connection flushes once per turn (setImmediate, after the I/O callbacks of the turn), with
 * its TCP socket corked, so everything sent to it in the turn leaves in one write. Order,
 * callbacks and back-pressure stay engine.io's own.
 */
export function coalesceWrites(conn: EngineConnection): void {
  const flush = conn.flush.bind(conn);
  let scheduled = false;
  conn.flush = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const tcp = conn.transport?.socket?._socket;
      if (!tcp || tcp.destroyed || typeof tcp.cork !== 'function') return flush();
      tcp.cork();
      try {
        flush();
      } finally {
        tcp.uncork();
      }
    });
  };
}
