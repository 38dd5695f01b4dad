/**
 * Per-key sliding-window counter (Exchange's limits are rolling windows, not fixed buckets).
 * Time comes from an injected clock so tests can cross a minute without waiting one.
 */
export class RateWindow {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #events = new Map<string, { at: number; weight: number }[]>();

  constructor(windowMs: number, now: () => number) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Sum of the weights recorded for `key` within the window ending now. */
  count(key: string): number {
    return this.#live(key).reduce((sum, e) => sum + e.weight, 0);
  }

  record(key: string, weight = 1): void {
    this.#live(key).push({ at: this.#now(), weight });
  }

  clear(): void {
    this.#events.clear();
  }

  #live(key: string): { at: number; weight: number }[] {
    const since = this.#now() - this.#windowMs;
    const kept = (this.#events.get(key) ?? []).filter((e) => e.at > since);
    this.#events.set(key, kept);
    return kept;
  }
}
