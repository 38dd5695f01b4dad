/**
 * The delivery ledger around one record's send: the claim before it (or what the ledger already
 * knows: sent, in progress, or a verdict whose dead letter is still to be moved), and what it keeps
 * of the outcome after it. Without a ledger every record is `claimed` and nothing is kept.
 */
import { errorText } from '../errors.ts';
import type { DeliveryLedger, LedgerClaim } from '../types.ts';
import { backoffSeconds, MAX_VISIBILITY_SECONDS } from './backoff.ts';
import type { RecordOutcome } from './batch-outcome.ts';

export interface LedgerStepDeps {
  ledger?: DeliveryLedger;
  random?: () => number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
  onWarning?: (message: string) => void;
}

/** A claim is looked at again this long after it lapsed, so clocks a little apart still agree it did. */
const CLAIM_LAPSE_MARGIN_MS = 1_000;

/**
 * What the ledger keeps of a claimed record's outcome: sent; nothing (a retry may send); or the
 * verdict, while its dead letter or copy is not on its queue yet. True when a verdict is held.
 */
export async function recordInLedger(
  key: string,
  outcome: RecordOutcome,
  deps: LedgerStepDeps,
): Promise<boolean> {
  if (!deps.ledger) return false;
  const warn = (what: string, err: unknown) => deps.onWarning?.(`${what}: ${errorText(err)}`);
  switch (outcome.kind) {
    case 'sent':
      // The mail is out: reporting a failure now would send it twice. Only the dedup window shrinks.
      await deps.ledger
        .complete(key)
        .catch((err) => warn('delivery ledger complete failed after a 250', err));
      return false;
    case 'retry':
    case 'config':
      await deps.ledger.release(key).catch((err) => warn('delivery ledger release failed', err));
      return false;
    case 'invalid':
    case 'rejected':
    case 'partial':
      await deps.ledger
        .settle(key, JSON.stringify(outcome))
        .catch((err) => warn('delivery ledger could not keep the verdict', err));
      return true;
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

/** `'claimed'` when this consumer may send (or there is no ledger); else the outcome to report. */
export async function claimInLedger(
  key: string,
  receiveCount: number,
  deps: LedgerStepDeps,
): Promise<'claimed' | { outcome: RecordOutcome; ledgerKey?: string }> {
  if (!deps.ledger) return 'claimed';
  const retryLater = (cause: 'temporary' | 'in-progress', reason: string, notBeforeMs = 0) => ({
    outcome: {
      kind: 'retry',
      cause,
      reason,
      delaySeconds: Math.min(
        MAX_VISIBILITY_SECONDS,
        Math.max(
          backoffSeconds(receiveCount, 0, { random: deps.random }),
          Math.ceil(notBeforeMs / 1000),
        ),
      ),
    } satisfies RecordOutcome,
  });
  let claim: LedgerClaim;
  try {
    claim = await deps.ledger.claim(key);
  } catch (err) {
    return retryLater('temporary', `delivery ledger unavailable: ${errorText(err)}`);
  }
  switch (claim) {
    case 'claimed':
      return 'claimed';
    case 'already-sent':
      return { outcome: { kind: 'sent', duplicate: true } };
    case 'in-progress':
      return retryLater('in-progress', 'another consumer is sending this message right now');
    default: {
      if ('inProgressUntil' in claim) {
        // Back when the other attempt's claim lapses, not before: a claim left by a sandbox that
        // timed out or was killed lasts the function timeout and more, and receives spent earlier
        // on "still in progress" would carry a message that may never have been sent to the DLQ.
        const left = claim.inProgressUntil - (deps.now ?? Date.now)();
        return retryLater(
          'in-progress',
          'another consumer is sending this message right now',
          left + CLAIM_LAPSE_MARGIN_MS,
        );
      }
      // Decided before, but its dead letter or copy is not on its queue yet: no second send.
      const outcome = parseVerdict(claim.verdict);
      if (outcome) return { outcome, ledgerKey: key };
      deps.onWarning?.('delivery ledger holds an unreadable verdict; it is dropped');
      await deps.ledger.release(key).catch(() => undefined);
      return retryLater('temporary', 'the delivery ledger held an unreadable verdict');
    }
  }
}

function parseVerdict(text: string): RecordOutcome | undefined {
  try {
    const outcome = JSON.parse(text) as RecordOutcome;
    const moved =
      outcome.kind === 'invalid' || outcome.kind === 'rejected' || outcome.kind === 'partial';
    return moved ? outcome : undefined;
  } catch {
    return undefined;
  }
}
