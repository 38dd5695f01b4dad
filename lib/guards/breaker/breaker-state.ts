/**
 * The circuit breaker's state, as data: whether consuming the mail queue is paused, why, and what
 * fixes it. One state per mail queue, shared by every sandbox that consumes it (see the stores).
 */

/** Why consuming stopped: the sender's configuration is broken, or the way out has been down. */
export type PauseCause = 'config' | 'outage';

export interface PauseReason {
  cause: PauseCause;
  /** What went wrong, with the server's reply when there was one. */
  reason: string;
  /** What a person should do. */
  fix: string;
}

export type BreakerState =
  | {
      paused: false;
      /** When consuming last resumed (epoch ms); a sandbox built before it reloads its configuration. */
      resumedAt?: number;
    }
  | (PauseReason & {
      paused: true;
      /** When consuming stopped (epoch ms). */
      since: number;
      resumedAt?: number;
    });

/** Where the state of one queue's breaker lives. */
export interface BreakerStore {
  read(): Promise<BreakerState>;
  /** Pauses unless already paused; `true` when this call paused (the first sandbox to notice). */
  pause(why: PauseReason, now: number): Promise<boolean>;
  /** Resumes; `true` when it was paused. */
  resume(now: number): Promise<boolean>;
}

/** The store key of a queue: its name, the last segment of its URL or ARN. */
export function queueNameOf(queueUrlOrArn: string): string {
  const name = queueUrlOrArn.split(/[/:]/).filter(Boolean).pop();
  if (!name) throw new RangeError(`not a queue URL or ARN: ${queueUrlOrArn}`);
  return name;
}
