import { parseReply } from './office365-replies.ts';

/** SMTP stages at which a fault can be scripted. */
export type SmtpStage = 'connect' | 'auth' | 'mail' | 'rcpt' | 'data';

/**
 * Scripted faults of the SMTP emulator. Each one-shot fault is consumed by the next matching event;
 * recipient rejections last until `clear()`.
 */
export class SmtpFaults {
  readonly #recipients = new Map<string, string>();
  readonly #replies = new Map<SmtpStage, string[]>();
  readonly #stalls = new Map<SmtpStage, number[]>();
  #drops = 0;

  /** Answers RCPT TO for `address` (case-insensitive) with `reply`, e.g. `550 5.1.10 ...`. */
  rejectRecipient(address: string, reply: string): void {
    parseReply(reply);
    this.#recipients.set(address.toLowerCase(), reply);
  }

  /** Answers the next `times` events of `stage` with `reply` instead of the normal answer. */
  failNext(stage: SmtpStage, reply: string, times = 1): void {
    parseReply(reply);
    const queue = this.#replies.get(stage) ?? [];
    for (let i = 0; i < times; i++) queue.push(reply);
    this.#replies.set(stage, queue);
  }

  /** Resets the connection while the next `times` message bodies stream in. */
  dropNextData(times = 1): void {
    this.#drops += times;
  }

  /** Holds the answer to the next `times` events of `stage` for `ms`. */
  stallNext(stage: SmtpStage, ms: number, times = 1): void {
    const queue = this.#stalls.get(stage) ?? [];
    for (let i = 0; i < times; i++) queue.push(ms);
    this.#stalls.set(stage, queue);
  }

  recipientReply(address: string): string | undefined {
    return this.#recipients.get(address.toLowerCase());
  }

  takeReply(stage: SmtpStage): string | undefined {
    return this.#replies.get(stage)?.shift();
  }

  takeStall(stage: SmtpStage): number {
    return this.#stalls.get(stage)?.shift() ?? 0;
  }

  takeDrop(): boolean {
    if (this.#drops === 0) return false;
    this.#drops--;
    return true;
  }

  clear(): void {
    this.#recipients.clear();
    this.#replies.clear();
    this.#stalls.clear();
    this.#drops = 0;
  }
}
