/**
 * Open authenticated sessions per mailbox, in the order they authenticated, so the emulator can
 * refuse the ones beyond Exchange's concurrency limit (about 3 per mailbox) and keep the older ones.
 */
export class MailboxSessions {
  readonly #byMailbox = new Map<string, string[]>();
  readonly #mailboxOf = new Map<string, string>();

  add(mailbox: string, sessionId: string): void {
    const key = mailbox.toLowerCase();
    this.#mailboxOf.set(sessionId, key);
    this.#byMailbox.set(key, [...(this.#byMailbox.get(key) ?? []), sessionId]);
  }

  remove(sessionId: string): void {
    const key = this.#mailboxOf.get(sessionId);
    if (key === undefined) return;
    this.#mailboxOf.delete(sessionId);
    const rest = (this.#byMailbox.get(key) ?? []).filter((id) => id !== sessionId);
    if (rest.length) this.#byMailbox.set(key, rest);
    else this.#byMailbox.delete(key);
  }

  /** 0-based rank of the session among its mailbox's open sessions (-1 if unknown). */
  rank(sessionId: string): number {
    const key = this.#mailboxOf.get(sessionId);
    return key === undefined ? -1 : (this.#byMailbox.get(key) ?? []).indexOf(sessionId);
  }
}
