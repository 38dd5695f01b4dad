import { EventEmitter } from 'node:events';

/**
 * Delays replies by a fixed latency plus any scripted stall, and owns every timer it starts so
 * `cancelAll()` leaves no handle behind when the emulator stops.
 */
export class ReplyScheduler extends EventEmitter<{ stall: [] }> {
  readonly #latencyMs: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stalls = new Set<NodeJS.Timeout>();

  constructor(latencyMs: number) {
    super();
    this.#latencyMs = latencyMs;
  }

  /** Replies currently held back by a scripted stall. */
  get stalled(): number {
    return this.#stalls.size;
  }

  /** Runs `reply` after the latency plus `stallMs` (at once when both are 0). */
  run(stallMs: number, reply: () => void): void {
    const delay = this.#latencyMs + stallMs;
    if (delay <= 0) {
      reply();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#stalls.delete(timer);
      reply();
    }, delay);
    this.#timers.add(timer);
    if (stallMs > 0) {
      this.#stalls.add(timer);
      this.emit('stall');
    }
  }

  /** Drops every pending reply (their connections are going away). */
  cancelAll(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#stalls.clear();
  }
}
