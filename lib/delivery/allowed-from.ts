/**
 * Which `from` addresses a message may use (`MAIL_ALLOWED_FROM`): exact addresses or `@domain`
 * entries, compared case-insensitively. Office 365 checks send-as rights too, but only after DATA
 * (554 5.2.252) and only per mailbox; checking first keeps a producer from spoofing any address
 * the sending mailbox happens to have rights on, and costs no SMTP round trip.
 */

/** Bare address part of `Name <a@b>` or `a@b`, lower-cased. */
function normalise(address: string): string {
  const angle = /<([^>]*)>\s*$/.exec(address);
  return (angle ? angle[1]! : address).trim().toLowerCase();
}

/**
 * @param from The address the message wants to send as.
 * @param allowed Entries from `MAIL_ALLOWED_FROM`; empty means "only the sender mailbox".
 * @param sender The authenticating mailbox (`MAIL_SENDER`).
 */
export function isFromAllowed(from: string, allowed: readonly string[], sender: string): boolean {
  const address = normalise(from);
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const domain = address.slice(at);
  const entries = allowed.length > 0 ? allowed : [sender];
  return entries.some((entry) => {
    const e = entry.trim().toLowerCase();
    return e.startsWith('@') ? e === domain : normalise(e) === address;
  });
}
