import { EventEmitter } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A TCP relay on 127.0.0.1 that hands everything the target sends to the client `latencyMs` later,
 * in order, and everything the client sends to the target at once. It stands in for a far network
 * in front of a local server: the server writes its replies when it is ready (a pipelined group is
 * answered back to back) and the client sees them one latency later, as on a real link, with TLS
 * end to end because bytes pass unchanged. Only one direction is delayed, so one round trip costs
 * one latency. Hand-written: a delay line over two `net` sockets is ~150 lines, and the tools that
 * do this (toxiproxy, tc netem) are separate processes or need root.
 */
export interface LatencyRelayOptions {
  /** Port of the target on 127.0.0.1. */
  targetPort: number;
  /** How much later the target's bytes (and its FIN or reset) reach the client, in ms. */
  latencyMs: number;
  /** @default 0 (a free port) */
  port?: number;
}

/** Counted on the wire, over every connection the relay carried. */
export interface WireStats {
  /**
   * Server flights: runs of bytes the target sent with nothing from the client in between. Each
   * is one round trip the client waited out (or could have): a lock-step command costs one, a
   * pipelined group of commands one in all. Counted where the bytes leave the target, before the
   * latency, so the delay line cannot merge or split them.
   */
  serverFlights: number;
}

export interface LatencyRelay {
  host: '127.0.0.1';
  port: number;
  /** Zeroed by assigning 0 to its fields. */
  readonly wire: WireStats;
  /** Relayed connections not yet fully closed. */
  readonly openConnections: number;
  /** `held` fires with each chunk the target sent, when it starts waiting out the latency. */
  readonly events: EventEmitter<{ held: [Buffer] }>;
  /** Closes the listener and every connection at once (held bytes are dropped), clears every timer. */
  stop(): Promise<void>;
}

/** What travels from the target to the client: bytes, then how the target's side ended. */
type Item = { kind: 'data'; chunk: Buffer } | { kind: 'end' } | { kind: 'reset' };
type Held = Item & { due: number };

/** One client connection and its connection to the target. */
class Link {
  readonly closed: Promise<void>;
  readonly #client: Socket;
  readonly #target: Socket;
  readonly #latencyMs: number;
  readonly #onHeld: (chunk: Buffer) => void;
  readonly #wire: WireStats;
  readonly #queue: Held[] = [];
  /** Who sent last on this connection: a server chunk after client bytes starts a new flight. */
  #lastSender: 'client' | 'server' = 'client';
  #timer: NodeJS.Timeout | undefined;
  /** The target's side has ended (FIN or error); nothing more comes from it. */
  #targetDone = false;

  constructor(
    client: Socket,
    targetPort: number,
    latencyMs: number,
    onHeld: (b: Buffer) => void,
    wire: WireStats,
  ) {
    this.#client = client;
    this.#latencyMs = latencyMs;
    this.#onHeld = onHeld;
    this.#wire = wire;
    // Half-open, so a client that sends QUIT and its FIN together still gets the 221 afterwards.
    this.#target = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    const target = this.#target;
    // No Nagle on either leg: the relay must add the latency and nothing else.
    client.setNoDelay(true);
    target.setNoDelay(true);
    this.closed = Promise.all([closedOf(client), closedOf(target)]).then(() => {});

    // Client to target: at once, with back-pressure and the client's FIN passed on (pipe does both).
    client.pipe(target);
    client.on('data', () => {
      this.#lastSender = 'client';
    });
    target.on('data', (chunk: Buffer) => {
      if (this.#lastSender === 'client') this.#wire.serverFlights++;
      this.#lastSender = 'server';
      this.#hold({ kind: 'data', chunk });
    });
    target.on('end', () => this.#finish('end'));
    target.on('error', () => {});
    target.on('close', (hadError) => this.#finish(hadError ? 'reset' : 'end'));
    // A client that resets or vanishes resets the target's connection too (no latency this way).
    client.on('error', () => {});
    client.on('close', (hadError) => {
      this.#clearTimer();
      this.#queue.length = 0;
      if (hadError) target.resetAndDestroy();
      else target.destroy();
    });
  }

  /** Drops whatever is held and closes both sides now. */
  destroy(): void {
    this.#clearTimer();
    this.#queue.length = 0;
    this.#client.destroy();
    this.#target.destroy();
  }

  #finish(kind: 'end' | 'reset'): void {
    if (this.#targetDone) return;
    this.#targetDone = true;
    this.#hold({ kind });
  }

  #hold(item: Item): void {
    if (this.#client.destroyed) return;
    if (item.kind === 'data') this.#onHeld(item.chunk);
    this.#queue.push({ ...item, due: performance.now() + this.#latencyMs });
    if (!this.#timer) this.#schedule();
  }

  #schedule(): void {
    const head = this.#queue[0];
    if (!head) return;
    this.#timer = setTimeout(() => this.#release(), Math.max(0, head.due - performance.now()));
  }

  /** Delivers every item that is due, in order, in one write burst. */
  #release(): void {
    this.#timer = undefined;
    const client = this.#client;
    // Timers have 1 ms granularity: what is due within it goes now rather than a tick later.
    const now = performance.now() + 1;
    client.cork();
    while (this.#queue[0] && this.#queue[0].due <= now) {
      if (client.destroyed) {
        this.#queue.length = 0;
        return;
      }
      const item = this.#queue.shift()!;
      if (item.kind === 'data') {
        if (!client.write(item.chunk)) this.#pauseTargetUntilDrained();
      } else if (item.kind === 'end') {
        client.end();
      } else {
        // What was written before the reset goes out first, as it would have on the wire.
        client.uncork();
        client.resetAndDestroy();
      }
    }
    if (!client.destroyed) client.uncork();
    this.#schedule();
  }

  #pauseTargetUntilDrained(): void {
    if (this.#target.isPaused()) return;
    this.#target.pause();
    this.#client.once('drain', () => this.#target.resume());
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

const closedOf = (socket: Socket) =>
  new Promise<void>((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });

/** Starts a relay on 127.0.0.1 in front of `targetPort`. */
export async function startLatencyRelay(options: LatencyRelayOptions): Promise<LatencyRelay> {
  const events = new EventEmitter<{ held: [Buffer] }>();
  const links = new Set<Link>();
  const wire: WireStats = { serverFlights: 0 };
  const onHeld = (chunk: Buffer) => events.emit('held', chunk);
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const link = new Link(client, options.targetPort, options.latencyMs, onHeld, wire);
    links.add(link);
    void link.closed.then(() => links.delete(link));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    wire,
    get openConnections() {
      return links.size;
    },
    events,
    async stop() {
      const closing = [...links].map((link) => {
        link.destroy();
        return link.closed;
      });
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        ...closing,
      ]);
    },
  };
}
