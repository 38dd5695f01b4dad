import type { EventEmitter } from 'node:events';

/**
 * Resolves as soon as `ready()` holds, re-checked on each `event` (no polling); rejects with
 * `describe()` after `timeoutMs`.
 */
export function waitForEvent(
  emitter: EventEmitter,
  event: string,
  ready: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onEvent = () => {
      if (!ready()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(describe()));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
    };
    emitter.on(event, onEvent);
  });
}
