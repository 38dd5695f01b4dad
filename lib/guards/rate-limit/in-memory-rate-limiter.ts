import type { SendRateLimiter } from '../../types.ts';
import {
  emptyBudget,
  type MailboxBudget,
  type MailboxLimits,
  penalizeBudget,
  scheduleSend,
} from './mailbox-schedule.ts';
import { resolveLimits, type SendRateLimits } from './send-rate-limits.ts';

/** Options of {@link InMemoryRateLimiter}. */
export interface InMemoryRateLimiterOptions extends SendRateLimits {
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The same per-mailbox budget as {@link DynamoDbRateLimiter}, for one process only (the local
 * pipeline, a single consumer). Several Lambda instances need the DynamoDB one.
 */
export class InMemoryRateLimiter implements SendRateLimiter {
  #budgets = new Map<string, MailboxBudget>();
  #limits: MailboxLimits;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;
  readonly maxWaitMs: number;

  constructor(options: InMemoryRateLimiterOptions = {}) {
    this.#limits = resolveLimits(options);
    this.maxWaitMs = this.#limits.maxWaitMs;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async acquire(
    mailbox: string,
    recipients: number,
  ): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    const key = mailbox.toLowerCase();
    const now = this.#now();
    const decision = scheduleSend(
      this.#budgets.get(key) ?? emptyBudget(),
      now,
      recipients,
      this.#limits,
    );
    this.#budgets.set(key, decision.budget);
    if (decision.kind === 'wait') {
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) };
    }
    if (decision.at > now) await this.#sleep(decision.at - now);
    return { ok: true };
  }

  async penalize(mailbox: string, seconds: number): Promise<void> {
    const key = mailbox.toLowerCase();
    const budget = this.#budgets.get(key) ?? emptyBudget();
    this.#budgets.set(key, penalizeBudget(budget, this.#now(), seconds));
  }
}
