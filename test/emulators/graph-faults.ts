/**
 * Scripted faults of the Graph emulator, each consumed by the next request that sends a message
 * (sendMail, or sending a draft): a scripted error answer, a connection reset before answering, a
 * request held before it is handled (a slow server: a client gone by then leaves nothing behind),
 * or an answer held back after the message was accepted (the client may give up while Graph has it).
 */
import type { EventEmitter } from 'node:events';
import type { GraphErrorAnswer } from './graph-mime-check.ts';

export class GraphFaults {
  readonly #events: EventEmitter;
  readonly #failures: GraphErrorAnswer[] = [];
  readonly #stalls: number[] = [];
  readonly #delays: number[] = [];
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  #drops = 0;
  #stalled = 0;

  constructor(events: EventEmitter) {
    this.#events = events;
  }

  /** Answers held right now. */
  get stalled(): number {
    return this.#stalled;
  }

  failNext(answer: GraphErrorAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.#failures.push(answer);
  }

  stallNext(ms: number, times = 1): void {
    for (let i = 0; i < times; i++) this.#stalls.push(ms);
  }

  /** Holds the next `times` mail requests for `ms` before handling them (a slow server). */
  delayNext(ms: number, times = 1): void {
    for (let i = 0; i < times; i++) this.#delays.push(ms);
  }

  takeDelay(): number | undefined {
    return this.#delays.shift();
  }

  dropNext(times = 1): void {
    this.#drops += times;
  }

  takeFailure(): GraphErrorAnswer | undefined {
    return this.#failures.shift();
  }

  takeDrop(): boolean {
    if (this.#drops === 0) return false;
    this.#drops--;
    return true;
  }

  takeStall(): number | undefined {
    return this.#stalls.shift();
  }

  /** Holds an answer for `ms` (released early by `clear()`). */
  hold(ms: number): Promise<void> {
    this.#stalled++;
    this.#events.emit('stall');
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          this.#stalled--;
          resolve();
        }, ms),
      };
      this.#timers.add(entry);
    });
  }

  clear(): void {
    this.#failures.length = 0;
    this.#stalls.length = 0;
    this.#delays.length = 0;
    this.#drops = 0;
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.#timers.clear();
    this.#stalled = 0;
  }
}
