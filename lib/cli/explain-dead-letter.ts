import { classifyGraphFailure } from '../transport/graph/classify-graph-failure.ts';
import { classifySmtpFailure } from '../transport/smtp/classify-smtp-failure.ts';
import type { DeadLetter } from './dead-letters.ts';

/** What a dead letter's failure means and what to do before a redrive. */
export interface DeadLetterAdvice {
  explanation: string;
  fix: string;
  /** The failure-table row the server's reply matched. */
  tableRow?: string;
}

/** A reply inside a reason: `550 5.1.10 RESOLVER...` (basic code, then the enhanced one). */
const REPLY_IN_TEXT = /\b[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b/;
/** A Graph answer inside a reason: `400 ErrorInvalidRecipients: ...` (HTTP status, Graph code). */
const GRAPH_REPLY_IN_TEXT = /\b[45]\d\d [A-Z][A-Za-z]+:/;
/** A refusal the sender made before sending (HVE or Graph limits) writes its fix into the reason. */
const FIX_IN_TEXT = /\. Fix: (.+)$/s;

/**
 * Advice for a dead letter from the same failure table the sender classified it with: the
 * server's reply is found in `FailureReason` and looked up again, so `dlq show` explains it in
 * the words of the reply tables in docs/replies.md.
 */
export function explainDeadLetter(letter: DeadLetter): DeadLetterAdvice {
  switch (letter.failureClass) {
    case 'invalid':
      return {
        explanation: 'The message breaks the message contract; no server was asked.',
        fix: 'Fix the producer that wrote it (the reason names the field); a redrive would fail the same way.',
      };
    case undefined:
      return {
        explanation:
          'Every delivery failed temporarily (throttling, timeouts, a broken sender configuration) until the queue gave up after maxReceiveCount.',
        fix: 'Look at the sender logs and alarms for those attempts (o365-mail doctor checks the configuration), then redrive.',
      };
  }
  const reason = letter.failureReason ?? '';
  const at = reason.search(REPLY_IN_TEXT);
  const graphAt = reason.search(GRAPH_REPLY_IN_TEXT);
  const ownFix = FIX_IN_TEXT.exec(reason)?.[1];
  if (at < 0 && ownFix) {
    return {
      explanation: 'The sender refused it before sending: it is over a limit of the door.',
      fix: ownFix,
    };
  }
  const c =
    at < 0 && graphAt >= 0
      ? classifyGraphFailure(reason.slice(graphAt))
      : classifySmtpFailure(at >= 0 ? reason.slice(at) : reason);
  return {
    explanation: c.entry?.explanation ?? 'The server refused this message permanently.',
    fix: c.fix,
    ...(c.entry ? { tableRow: c.entry.id } : {}),
  };
}
