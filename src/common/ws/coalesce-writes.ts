import type { Socket as TcpSocket } from 'node:net';
import { performance } from 'node:perf_hooks';

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

/** Above this share of time spent running (not waiting for I/O), the event loop is busy. */
const BUSY_UTILIZATION = 0.5;
const BUSY_SAMPLE_MS = 100;
let busy = false;
let sampling = false;

/**
 * Whether the event loop was busy over the last {@link BUSY_SAMPLE_MS} ms: sampled by one
 * unreferenced timer, started with the first connection.
 */
export function loopBusy(): boolean {
  if (!sampling) {
    sampling = true;
    let last = performance.eventLoopUtilization();
    setInterval(() => {
      const now = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(now, last).utilization > BUSY_UTILIZATION;
      last = now;
    }, BUSY_SAMPLE_MS).unref();
  }
  return busy;
}

/** Depth of {@link coalescing} calls running now. */
let coalescingDepth = 0;

/**
 * Runs `send` (a broadcast to many sockets) with its writes coalesced while the event loop is
 * busy; see {@link coalesceWrites}.
 */
export function coalescing<T>(send: () => T): T {
  coalescingDepth += 1;
  try {
    return send();
  } finally {
    coalescingDepth -= 1;
  }
}

/**
 * Coalesces the writes of one connection within a turn of the event loop: those of broadcasts
 * sent through {@link coalescing}, while the loop is busy. engine.io writes each packet as soon
 * as it is sent, one system call per frame; the frames sent to a socket meanwhile wait until
 * that write completes, then go out one call each again. Under load, the connections a
 * broadcast writes to in a turn are flushed once, together, after the I/O callbacks of the
 * turn (one setImmediate for all), each with its TCP socket corked, so everything sent to a
 * socket in the turn leaves in one write: less CPU per frame where CPU is short. Anything else
 * is written at once, as engine.io does: an idle loop, or a message to one or two users (a
 * private chat), where the deferral would only add latency (about 1.4 ms at p50 and 3 ms at p99
 * in `dm` at full load). Order, callbacks and back-pressure stay engine.io's. `isBusy` is for
 * tests.
 */
export function coalesceWrites(conn: EngineConnection, isBusy: () => boolean = loopBusy): void {
  if (typeof conn.flush !== 'function') return; // not the engine.io this was written for
  const flush = conn.flush.bind(conn);
  conn.flush = () => {
    // A connection already waiting keeps waiting: its buffer goes out in order either way.
    if (!pending.has(conn) && (coalescingDepth === 0 || !isBusy())) {
      flush();
      return;
    }
    if (!pending.has(conn)) pending.set(conn, flush);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushPending);
    }
  };
}
