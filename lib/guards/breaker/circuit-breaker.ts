import type { BreakerState, BreakerStore, PauseReason } from './breaker-state.ts';
import type { ConsumptionSwitch, SwitchResult } from './event-source-mapping-switch.ts';

/** What a batch said about the way out, for the breaker (see `lib/delivery/batch-health.ts`). */
export type BatchHealth =
  /** A configuration error a probe can see fixed: pause at once. */
  | { kind: 'config'; reason: string; fix: string }
  /**
   * Nothing could be sent: the server or the token endpoint could not be reached. `failingForMs`:
   * how long ago the batch's longest-waiting such message was first tried.
   */
  | { kind: 'unreachable'; reason: string; failingForMs: number }
  /** Something was sent: the way out works. */
  | { kind: 'healthy' }
  /** Nothing either way (rate-limited, invalid mail, duplicates, ...). */
  | { kind: 'neutral' };

export type PauseOutcome =
  | { paused: false }
  | {
      paused: true;
      why: PauseReason;
      /** This sandbox paused (others that noticed too found it paused already). */
      first: boolean;
      /** What switching the consumer off did; absent where the consumer reads the store itself. */
      switched?: SwitchResult;
    };

export interface CircuitBreakerOptions {
  store: BreakerStore;
  /** Turns the consumer off and on (the event source mapping in AWS). */
  consumer?: ConsumptionSwitch;
  /**
   * An outage this long pauses consuming: messages first tried at least this long ago that
   * still cannot get out; 0 pauses for configuration errors only.
   */
  outageMs: number;
  /** @default Date.now */
  now?: () => number;
}

/** Unreachable batches in a row (in one sandbox) an outage needs, so one stray failure never pauses. */
const MIN_OUTAGE_BATCHES = 2;
/**
 * The part of `outageMs` those batches must span in this sandbox: a blip (a token endpoint's
 * 503, which MSAL then holds for its Retry-After) fails a few batches in a row within seconds, and
 * must not pause a queue whose messages happen to be old.
 */
const OUTAGE_SPAN_SHARE = 0.25;
/** A gap this many times `outageMs` between two unreachable batches starts a new run. */
const OUTAGE_GAP_FACTOR = 5;

/**
 * Stops consuming the mail queue when sending cannot work — a configuration error, or an outage
 * that lasted `outageMs` — so messages wait on the queue without spending receive counts, and
 * starts it again on {@link resume} (the probe got through, or a person said so). The state lives
 * in a {@link BreakerStore} shared by every sandbox.
 *
 * An outage is measured on the messages, not on a clock of this sandbox's: a batch that cannot
 * get out and holds a message first tried `outageMs` ago (SQS's `ApproximateFirstReceiveTimestamp`)
 * means the messages have been waiting that long. That holds across sandboxes, and across the
 * back-off gaps and frozen spells between one sandbox's batches. This sandbox must also have
 * seen two such batches in a row, a quarter of `outageMs` apart or more, so a single failed
 * connection or a blip of seconds never pauses.
 */
export class CircuitBreaker {
  readonly outageMs: number;
  readonly #store: BreakerStore;
  readonly #consumer: ConsumptionSwitch | undefined;
  readonly #now: () => number;
  /** This sandbox's current run of unreachable batches. */
  #run: { since: number; last: number; batches: number } | undefined;

  constructor(options: CircuitBreakerOptions) {
    this.#store = options.store;
    this.#consumer = options.consumer;
    this.outageMs = options.outageMs;
    this.#now = options.now ?? Date.now;
  }

  state(): Promise<BreakerState> {
    return this.#store.read();
  }

  /** Pauses when the batch showed a configuration error, or the end of a long enough outage. */
  async afterBatch(health: BatchHealth): Promise<PauseOutcome> {
    switch (health.kind) {
      case 'config':
        this.#run = undefined;
        return this.pause({ cause: 'config', reason: health.reason, fix: health.fix });
      case 'unreachable': {
        const run = this.#noteUnreachable();
        const lasted = health.failingForMs;
        if (
          this.outageMs <= 0 ||
          run.batches < MIN_OUTAGE_BATCHES ||
          run.last - run.since < this.outageMs * OUTAGE_SPAN_SHARE ||
          lasted < this.outageMs
        ) {
          return { paused: false };
        }
        this.#run = undefined;
        return this.pause({
          cause: 'outage',
          reason: `messages first tried ${Math.round(lasted / 1000)} s ago still cannot be sent: the SMTP server or the token endpoint cannot be reached (last: ${health.reason})`,
          fix: 'check the network path from the function to SMTP_HOST and O365_AUTHORITY_HOST (VPC, NAT gateway, security groups, DNS, firewall); `o365-mail doctor` shows which step fails',
        });
      }
      case 'healthy':
        this.#run = undefined;
        return { paused: false };
      case 'neutral':
        return { paused: false };
      default: {
        const unreachable: never = health;
        throw new Error(`unknown batch health ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async pause(why: PauseReason): Promise<PauseOutcome> {
    const first = await this.#store.pause(why, this.#now());
    // Every sandbox that notices switches the consumer off: the first one's call may have failed.
    const switched = await this.#consumer?.pause();
    return { paused: true, why, first, ...(switched && { switched }) };
  }

  #noteUnreachable(): { since: number; last: number; batches: number } {
    const now = this.#now();
    if (!this.#run || now - this.#run.last > this.outageMs * OUTAGE_GAP_FACTOR) {
      this.#run = { since: now, last: now, batches: 0 };
    }
    this.#run.last = now;
    this.#run.batches++;
    return this.#run;
  }

  /** Resumes consuming; `resumed` is false when it was not paused. */
  async resume(): Promise<{ resumed: boolean; switched?: SwitchResult }> {
    // The consumer first: a store that says "resumed" while the mapping stays off would strand mail.
    // So when the switch fails, the store stays paused and the next probe tries again.
    const switched = await this.#consumer?.resume();
    if (switched && !switched.ok) return { resumed: false, switched };
    const resumed = await this.#store.resume(this.#now());
    return { resumed, ...(switched && { switched }) };
  }
}

/** The one log line that says consuming stopped, with the reason, the fix and how it resumes. */
export function pausedMessage(why: PauseReason): string {
  const what = why.cause === 'config' ? 'configuration error' : 'outage';
  return `consuming paused (${what}): ${why.reason.replace(/[.\s]+$/, '')}. Fix: ${why.fix.replace(/[.\s]+$/, '')}. Messages wait on the queue without spending receives; consuming resumes by itself when the scheduled probe gets through, or at once with \`o365-mail resume\`.`;
}
