import type { MailboxLimits } from './mailbox-schedule.ts';

/** The budget of each sending mailbox (Exchange Online's defaults, per mailbox). */
export interface SendRateLimits {
  /** Messages per window (`windowSeconds`, a minute unless changed). @default 30 */
  perMinute?: number;
  /**
   * The window `perMinute` counts in. Office 365 counts a minute; other servers (and the soak,
   * which runs minutes in seconds) may count another span.
   * @default 60
   */
  windowSeconds?: number;
  /** Recipients per rolling 24 h. @default 10000 */
  recipientsPerDay?: number;
  /**
   * Added to the 60 s window, because the server counts a message a little after we reserve its
   * slot (connection, TLS, DATA); without it the 31st message can land inside the server's minute.
   * @default 2
   */
  windowMarginSeconds?: number;
  /**
   * A slot at most this far ahead is waited for inside the invocation instead of returning the
   * message to the queue (every return costs a receive against maxReceiveCount).
   * @default 2
   */
  maxWaitSeconds?: number;
}

/** Fills defaults and rejects limits that cannot work. */
export function resolveLimits(limits: SendRateLimits): MailboxLimits {
  const perMinute = limits.perMinute ?? 30;
  const recipientsPerDay = limits.recipientsPerDay ?? 10_000;
  const windowSeconds = limits.windowSeconds ?? 60;
  const margin = limits.windowMarginSeconds ?? 2;
  const maxWait = limits.maxWaitSeconds ?? 2;
  for (const [name, value] of Object.entries({ perMinute, recipientsPerDay })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`windowSeconds must be a number of seconds > 0, got ${windowSeconds}`);
  }
  for (const [name, value] of Object.entries({ margin, maxWait })) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a number of seconds >= 0, got ${value}`);
    }
  }
  return {
    perMinute,
    recipientsPerDay,
    windowMs: (windowSeconds + margin) * 1000,
    maxWaitMs: maxWait * 1000,
  };
}
