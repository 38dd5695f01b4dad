/**
 * Retry delays for messages that failed temporarily, computed from SQS's `ApproximateReceiveCount`.
 *
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * the delay is drawn uniformly from `[floor, floor + min(cap, base * 2^(attempt-1))]`, so consumers
 * that failed together (a throttled mailbox, a server restart) do not come back together.
 *
 * Why these numbers: Office 365 throttling windows are about a minute and its temporary replies
 * (4.3.2, 4.4.2, 4.7.500) usually clear within minutes; with the default redrive `maxReceiveCount`
 * of 5 the worst case adds up to 30 + 60 + 120 + 240 s ≈ 7.5 min before the DLQ, and the cap keeps
 * any single wait at 15 min so a mail is never parked for hours.
 */

/** SQS refuses a visibility timeout above 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

export interface BackoffOptions {
  /**
   * First ceiling, in seconds.
   * @default 30
   */
  baseSeconds?: number;
  /**
   * Largest ceiling before the floor is added, in seconds.
   * @default 900
   */
  capSeconds?: number;
  /**
   * Uniform random source in [0, 1); injected by tests.
   * @default Math.random
   */
  random?: () => number;
  /**
   * Multiplies every delay (base, cap and floor). Only for tests, the soak and the local demo,
   * which must run minutes of retries in seconds; production leaves it at 1.
   * @default `MAIL_RETRY_TIME_SCALE` from the environment, else 1
   */
  timeScale?: number;
}

export const DEFAULT_BACKOFF = { baseSeconds: 30, capSeconds: 15 * 60 } as const;

/**
 * Seconds to keep a message invisible before its next attempt.
 * @param receiveCount SQS `ApproximateReceiveCount` of this delivery (1 on the first one).
 * @param minDelaySeconds A floor, e.g. 60 s after a throttling reply.
 */
export function backoffSeconds(
  receiveCount: number,
  minDelaySeconds = 0,
  options: BackoffOptions = {},
): number {
  const scale = options.timeScale ?? retryTimeScale();
  const base = (options.baseSeconds ?? DEFAULT_BACKOFF.baseSeconds) * scale;
  const cap = (options.capSeconds ?? DEFAULT_BACKOFF.capSeconds) * scale;
  const random = options.random ?? Math.random;
  const attempt = Number.isFinite(receiveCount) && receiveCount >= 1 ? Math.floor(receiveCount) : 1;
  // 2^(attempt-1) overflows to Infinity long after it passed the cap; min() handles that.
  const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
  const floor = Math.max(0, minDelaySeconds) * scale;
  const delay = Math.ceil(floor + random() * ceiling);
  return Math.min(MAX_VISIBILITY_SECONDS, delay);
}

/** Parses the record attribute; a missing or odd value counts as the first delivery. */
export function receiveCountOf(attributes: { ApproximateReceiveCount?: string }): number {
  const n = Number.parseInt(attributes.ApproximateReceiveCount ?? '', 10);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

/**
 * `MAIL_RETRY_TIME_SCALE` (a number in (0, 1]; default 1): the soak, tests and the local demo
 * shrink retry delays and throttling pauses with it. Read on each call so a test can set it after import.
 */
export function retryTimeScale(env: NodeJS.ProcessEnv = process.env): number {
  const scale = Number(env.MAIL_RETRY_TIME_SCALE);
  return Number.isFinite(scale) && scale > 0 && scale <= 1 ? scale : 1;
}
