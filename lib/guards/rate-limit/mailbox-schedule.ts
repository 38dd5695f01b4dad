/*
 * The budget of one sending mailbox, as pure data and one pure function, so the DynamoDB limiter
 * (shared by all Lambda instances) and the in-memory one (local runs) decide the same way.
 *
 * Messages per minute — a sliding-window log with reservations: the state keeps the send times of
 * the last `perMinute` messages; the next message may go at `recent[-perMinute] + window`. Unlike a
 * fixed-minute counter it never lets 2 × 30 through across a minute boundary, and unlike pacing at
 * one message per 2 s it lets a quiet mailbox send a batch of 10 at once. The window is 60 s plus a
 * margin, because the server counts a message a little later than we reserve it (TLS, DATA).
 *
 * Recipients per day — Office 365 counts a rolling 24 h; we keep recipients per clock hour and
 * count every hour bucket that overlaps the last 24 h, which over-counts by at most one hour and so
 * can only hold back, never overshoot.
 *
 * Waiting messages are spread: each one told to wait gets the next free slot after those already
 * promised (`deferredCursor`), one slot apart, so a backlog returns from its visibility timeout at
 * the rate the mailbox can take instead of all at once (each extra receive counts against the
 * queue's maxReceiveCount).
 */

/** Persisted budget of one mailbox. Times are epoch milliseconds. */
export interface MailboxBudget {
  /** Send times of the most recent messages (ascending, at most `perMinute`; may lie ahead). */
  recent: number[];
  /** Recipients per hour bucket (key: the hour's start, epoch ms). */
  hourlyRecipients: Record<string, number>;
  /** Nothing is sent before this (set after a throttling reply). */
  blockedUntil: number;
  /** The slot promised to the last message told to wait. */
  deferredCursor: number;
}

/** Limits of one mailbox. */
export interface MailboxLimits {
  /** Messages per window (Office 365: 30). */
  perMinute: number;
  /** Window length in ms: the counting window plus a safety margin (62 000 for Office 365). */
  windowMs: number;
  /** Recipients per rolling 24 h (Office 365: 10 000). */
  recipientsPerDay: number;
  /** A slot this close is waited for in-process instead of sending the message back to the queue. */
  maxWaitMs: number;
}

export type ScheduleDecision =
  | { kind: 'send'; at: number; budget: MailboxBudget }
  | { kind: 'wait'; retryAfterMs: number; budget: MailboxBudget };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function emptyBudget(): MailboxBudget {
  return { recent: [], hourlyRecipients: {}, blockedUntil: 0, deferredCursor: 0 };
}

/** Decides when a message with `recipients` recipients may go, and the budget after it. */
export function scheduleSend(
  budget: MailboxBudget,
  now: number,
  recipients: number,
  limits: MailboxLimits,
): ScheduleDecision {
  const slot = earliestSlot(budget, now, recipients, limits);
  if (slot - now <= limits.maxWaitMs) {
    const recent = [...budget.recent, slot].sort((a, b) => a - b).slice(-limits.perMinute);
    const hourlyRecipients = pruneHours(budget.hourlyRecipients, now);
    const hour = String(slot - (slot % HOUR));
    hourlyRecipients[hour] = (hourlyRecipients[hour] ?? 0) + recipients;
    return { kind: 'send', at: slot, budget: { ...budget, recent, hourlyRecipients } };
  }
  const at = Math.max(slot, budget.deferredCursor);
  const slotSpacing = Math.ceil(limits.windowMs / limits.perMinute);
  return {
    kind: 'wait',
    retryAfterMs: at - now,
    budget: { ...budget, deferredCursor: at + slotSpacing },
  };
}

/** The mailbox may not send for `seconds` from `now` (a throttling reply). */
export function penalizeBudget(budget: MailboxBudget, now: number, seconds: number): MailboxBudget {
  return { ...budget, blockedUntil: Math.max(budget.blockedUntil, now + seconds * 1000) };
}

function earliestSlot(
  budget: MailboxBudget,
  now: number,
  recipients: number,
  limits: MailboxLimits,
): number {
  let slot = Math.max(now, budget.blockedUntil);
  if (budget.recent.length >= limits.perMinute) {
    const oldestCounted = budget.recent[budget.recent.length - limits.perMinute]!;
    slot = Math.max(slot, oldestCounted + limits.windowMs);
  }
  return Math.max(slot, dayBudgetFreeAt(budget.hourlyRecipients, slot, recipients, limits));
}

/** The earliest time at or after `slot` when `recipients` more fit in the rolling 24 h. */
function dayBudgetFreeAt(
  hourly: Record<string, number>,
  slot: number,
  recipients: number,
  limits: MailboxLimits,
): number {
  // Buckets overlapping (slot - 24 h, slot], oldest first.
  const buckets = Object.entries(hourly)
    .map(([hour, count]) => ({ hour: Number(hour), count }))
    .filter((b) => b.hour + HOUR > slot - DAY)
    .sort((a, b) => a.hour - b.hour);
  let used = buckets.reduce((sum, b) => sum + b.count, 0);
  // A message bigger than the whole budget goes when the day is empty rather than never.
  const needed = Math.min(recipients, limits.recipientsPerDay);
  let freeAt = slot;
  for (const bucket of buckets) {
    if (used + needed <= limits.recipientsPerDay) break;
    used -= bucket.count;
    freeAt = bucket.hour + HOUR + DAY;
  }
  return freeAt;
}

function pruneHours(hourly: Record<string, number>, now: number): Record<string, number> {
  const kept: Record<string, number> = {};
  for (const [hour, count] of Object.entries(hourly)) {
    if (Number(hour) + HOUR > now - DAY) kept[hour] = count;
  }
  return kept;
}
