import type { Colors } from 'picocolors/types.js';
import type { MessageOutcome } from './local-pipeline.ts';

/** One line per delivery outcome, for `npm start`: time, what happened, which mail, why. */
export function formatOutcomeLine(outcome: MessageOutcome, c: Colors, now = new Date()): string {
  const time = c.dim(now.toTimeString().slice(0, 8));
  const mail = describeMail(outcome);
  switch (outcome.kind) {
    case 'sent':
      return `${time} ${c.green('✓ sent')}${outcome.attempt > 1 ? c.green(` (attempt ${outcome.attempt})`) : ''}  ${mail}`;
    case 'retry': {
      const next =
        outcome.delaySeconds === undefined
          ? ''
          : c.dim(` — next attempt in ~${outcome.delaySeconds}s`);
      return `${time} ${c.yellow(`↻ retry (attempt ${outcome.attempt})`)}  ${mail}${reason(outcome, c)}${next}`;
    }
    case 'dead-lettered':
      return `${time} ${c.red(`✗ dead-lettered: ${outcome.failureClass ?? 'unknown'}`)}  ${mail}${reason(outcome, c)}`;
    case 'retries-exhausted':
      return `${time} ${c.red('✗ dead-lettered: retries exhausted')}  ${mail}${reason(outcome, c)}`;
    case 'handler-error':
      return `${time} ${c.red('✗ handler failed (whole batch retried)')}  ${mail}${reason(outcome, c)}`;
  }
}

function describeMail(outcome: MessageOutcome): string {
  const id = outcome.mailId ?? outcome.sqsMessageId;
  const subject = outcome.subject ? ` "${outcome.subject}"` : '';
  const to = outcome.to?.length ? ` → ${outcome.to.join(', ')}` : '';
  return `${id}${subject}${to}`;
}

function reason(outcome: MessageOutcome, c: Colors): string {
  return outcome.reason ? c.dim(` — ${outcome.reason}`) : '';
}
