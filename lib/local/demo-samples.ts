import type { MailMessageInput } from '../message/parse-mail-message.ts';
import { DEMO_THROTTLED_RECIPIENT, DEMO_UNKNOWN_RECIPIENT } from './capture-smtp-server.ts';
import type { MessageOutcome } from './local-pipeline.ts';

/** One message the demo enqueues, and what must become of it. */
export interface DemoSample {
  name: string;
  /** A valid message (sent through the producer), or a raw body (bypassing its validation). */
  message: MailMessageInput | { raw: string };
  expected: string;
  /** Whether the final outcome is what this sample is meant to show. */
  isExpected(outcome: MessageOutcome): boolean;
}

const REPORT_CSV = 'date,orders,revenue_eur\n2026-11-20,112,5410.20\n2026-11-21,98,4977.00\n';

export const DEMO_SAMPLES: readonly DemoSample[] = [
  {
    name: 'notification',
    message: {
      id: 'demo-notification',
      to: ['Ann Example <ann@example.com>'],
      subject: 'Your order #1042 has shipped',
      text: 'Hello Ann,\n\nyour order #1042 is on its way.\n',
      html: '<p>Hello Ann,</p><p>your order <b>#1042</b> is on its way.</p>',
      tags: { kind: 'notification' },
    },
    expected: 'sent',
    isExpected: (o) => o.kind === 'sent',
  },
  {
    name: 'report with CSV attachment',
    message: {
      id: 'demo-report',
      to: ['reports@example.com'],
      subject: 'Daily sales report',
      text: 'The daily sales report is attached.',
      attachments: [
        {
          filename: 'daily-sales.csv',
          contentType: 'text/csv',
          content: Buffer.from(REPORT_CSV).toString('base64'),
        },
      ],
    },
    expected: 'sent',
    isExpected: (o) => o.kind === 'sent',
  },
  {
    name: 'unknown recipient',
    message: {
      id: 'demo-unknown-recipient',
      to: [DEMO_UNKNOWN_RECIPIENT],
      subject: 'Hello?',
      text: 'Nobody reads this.',
    },
    expected: 'dead-lettered: rejected',
    isExpected: (o) => o.kind === 'dead-lettered' && o.failureClass === 'rejected',
  },
  {
    name: 'invalid message',
    // What a producer that skipped validation might send: a bad address and no body.
    message: {
      raw: JSON.stringify({ id: 'demo-invalid', to: ['not-an-address'], subject: 'Oops' }),
    },
    expected: 'dead-lettered: invalid',
    isExpected: (o) => o.kind === 'dead-lettered' && o.failureClass === 'invalid',
  },
  {
    name: 'throttled, then sent',
    message: {
      id: 'demo-throttled',
      to: [DEMO_THROTTLED_RECIPIENT],
      subject: 'Sent on the second try',
      text: 'The first attempt got 432 4.3.2; the retry went through.',
    },
    expected: 'sent after a retry',
    isExpected: (o) => o.kind === 'sent' && o.attempt >= 2,
  },
];

/** Outcomes after which nothing more will happen to a message. */
export function isFinal(outcome: MessageOutcome): boolean {
  return (
    outcome.kind === 'sent' ||
    outcome.kind === 'dead-lettered' ||
    outcome.kind === 'retries-exhausted'
  );
}
