/**
 * One send's answer, recipient by recipient: who got the message, who is to get it later (a
 * temporary reply), who never will (a permanent reply). A transport names the recipients it refused
 * one by one; every other envelope recipient shares the message's own verdict (see `SendOutcome`).
 */
import type { RecipientRefusal, SendOutcome, SmtpReply } from '../types.ts';
import type { RecipientGroup } from './batch-outcome.ts';

export interface RecipientVerdicts {
  accepted: string[];
  deferred: RecipientRefusal[];
  refused: RecipientRefusal[];
}

type PerRecipientOutcome = Extract<SendOutcome, { kind: 'sent' | 'retry' | 'rejected' }>;

export function recipientVerdicts(
  envelope: readonly string[],
  outcome: PerRecipientOutcome,
): RecipientVerdicts {
  const named = outcome.refused ?? [];
  const namedSet = new Set(named.map((r) => r.recipient));
  const others = envelope.filter((address) => !namedSet.has(address));
  const verdicts: RecipientVerdicts = { accepted: [], deferred: [], refused: [] };
  for (const refusal of named) {
    (refusal.kind === 'retry' ? verdicts.deferred : verdicts.refused).push(refusal);
  }
  switch (outcome.kind) {
    case 'sent':
      verdicts.accepted = others;
      break;
    case 'retry':
    case 'rejected': {
      const shared = others.map((recipient) => ({
        recipient,
        kind: outcome.kind,
        reason: outcome.reason,
        ...(outcome.reply && { reply: outcome.reply }),
        ...(outcome.kind === 'retry' &&
          outcome.minDelaySeconds !== undefined && { minDelaySeconds: outcome.minDelaySeconds }),
      }));
      (outcome.kind === 'retry' ? verdicts.deferred : verdicts.refused).push(...shared);
      break;
    }
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown send outcome ${JSON.stringify(unreachable)}`);
    }
  }
  return verdicts;
}

/** Recipients sharing a verdict, with the first one's reason and how many more there are. */
export function groupOf(refusals: readonly RecipientRefusal[]): RecipientGroup {
  const first = refusals[0]!;
  const more = refusals.length > 1 ? ` (and ${refusals.length - 1} more recipients)` : '';
  const group: RecipientGroup = {
    recipients: refusals.map((r) => r.recipient),
    reason: `${first.recipient}: ${first.reason}${more}`,
  };
  const reply: SmtpReply | undefined = first.reply;
  if (reply) group.reply = reply;
  return group;
}

/** The longest backoff floor any of `refusals` asks for (throttling), 0 when none does. */
export function floorOf(refusals: readonly RecipientRefusal[]): number {
  return refusals.reduce((max, r) => Math.max(max, r.minDelaySeconds ?? 0), 0);
}
