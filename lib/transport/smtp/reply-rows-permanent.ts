/**
 * Office 365 replies that refuse one message (rejected: to the DLQ) or the whole mailbox or tenant
 * (config: stop the batch, never retry in a loop), and the recipient limit of one message, which
 * defers the recipients over it. Part of the table in `office365-replies.ts`.
 */
import type { ReplyTableRow } from './office365-replies.ts';
import { FIX_ABUSE } from './reply-rows-session.ts';

const FIX_STOP_REPEATS =
  'Stop sending the failing kind of message (Office 365 throttles the whole mailbox for continuous errors); the block lifts by itself after a while and support cannot lift it.';

export const PERMANENT_REPLY_ROWS: readonly ReplyTableRow[] = [
  {
    id: 'recipient-quota',
    title: 'Daily recipient quota exceeded',
    stage: 'after DATA',
    match: { enhanced: ['5.2.0', '5.2.2'], text: /SubmissionQuotaExceeded|Submission quota/i },
    example:
      '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.',
    failureClass: 'config',
    explanation:
      'The mailbox reached 10,000 recipients in the last 24 hours; it cannot send until the rolling window frees up.',
    fix: 'Wait (up to 24 h); unsent messages stay on the queue. For more volume, spread senders over several mailboxes.',
  },
  {
    id: 'continuous-error-throttle',
    title: 'Mailbox throttled for continuous errors',
    stage: 'MAIL FROM / after DATA',
    match: { enhanced: ['5.2.25x'] },
    example: '550 5.2.255 Sender throttled due to continuous invalid recipients errors',
    failureClass: 'config',
    explanation:
      'The mailbox kept getting the same permanent error (mailbox full 5.2.251, SendAs denied 5.2.252, licence 5.2.253, too many recipients 5.2.254, invalid recipients 5.2.255) and Office 365 blocked its SMTP submissions for a while.',
    fix: FIX_STOP_REPEATS,
  },
  {
    id: 'message-too-large',
    title: 'Message too large',
    stage: 'MAIL FROM / DATA',
    match: { enhanced: ['5.3.4'] },
    example: '552 5.3.4 Message size exceeds fixed maximum message size',
    failureClass: 'rejected',
    explanation:
      'The encoded message is bigger than the server accepts (attachments grow by a third in MIME).',
    fix: 'Send smaller attachments, or links to them instead.',
  },
  {
    id: 'bare-linefeeds',
    title: 'Invalid message content',
    stage: 'after DATA',
    match: { enhanced: ['5.6.0'] },
    example: '554 5.6.0 Invalid message content, contains bare linefeeds',
    failureClass: 'rejected',
    explanation:
      'The message body has line feeds without carriage returns, which Exchange refuses.',
    fix: 'A composer bug: report it with the message id from the DLQ.',
  },
  {
    id: 'too-many-recipients',
    title: 'Too many recipients',
    stage: 'RCPT TO',
    match: { enhanced: ['4.5.3'] },
    example: '452 4.5.3 Too many recipients',
    failureClass: 'retry',
    explanation:
      'The server takes fewer recipients in one message than this one has; those it took got the message (RFC 5321 4.5.3.1.10).',
    fix: 'None: the rest are sent later, to them alone, with the same Message-ID. Lots of them: split the recipients over several messages.',
  },
  {
    id: 'invalid-address',
    title: 'Invalid address',
    stage: 'MAIL FROM / RCPT TO',
    match: { enhanced: ['5.1.3', '5.1.7'] },
    example: '501 5.1.3 Invalid address',
    failureClass: 'rejected',
    explanation: 'An address in the envelope is not valid SMTP syntax.',
    fix: 'Correct the address in the message.',
  },
  {
    id: 'recipient-not-found',
    title: 'Unknown recipient',
    stage: 'RCPT TO',
    match: { enhanced: ['5.1.10'] },
    example:
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    failureClass: 'rejected',
    explanation: 'The recipient address does not exist.',
    fix: 'Correct or remove the recipient. Repeated sends to unknown recipients get the whole mailbox throttled (5.2.255).',
  },
  {
    id: 'hve-external-recipient',
    title: 'External recipient refused by High Volume Email',
    stage: 'RCPT TO',
    match: { enhanced: ['5.5.105'] },
    example: '550 5.5.105 External sending is not supported for High Volume Email accounts',
    failureClass: 'rejected',
    explanation:
      "High Volume Email delivers only to the tenant's own accepted domains; this recipient is outside them.",
    fix: 'Send mail for outside recipients through SMTP AUTH (SMTP_ENDPOINT=office365) or Graph (MAIL_TRANSPORT=graph), or Azure Communication Services Email for bulk; keep HVE for internal mail.',
  },
  {
    id: 'recipient-unknown',
    title: 'Unknown recipient',
    stage: 'RCPT TO',
    match: { enhanced: ['5.1.1'] },
    example: '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found',
    failureClass: 'rejected',
    explanation: 'The recipient address does not exist.',
    fix: 'Correct or remove the recipient.',
  },
  {
    id: 'bad-outbound-sender',
    title: 'Restricted sender',
    stage: 'MAIL FROM / DATA',
    match: { enhanced: ['5.1.8'] },
    example: '550 5.1.8 Access denied, bad outbound sender',
    failureClass: 'config',
    explanation:
      'The mailbox is on the restricted-senders list (usually after sending spam, often from a compromised account).',
    fix: FIX_ABUSE,
  },
  {
    id: 'spam-abuse-banned',
    title: 'Sender banned',
    stage: 'any',
    match: { enhanced: ['5.7.501', '5.7.502', '5.7.503'] },
    example: '550 5.7.501 Access denied, spam abuse detected',
    failureClass: 'config',
    explanation: 'Office 365 banned the account for spam or abuse.',
    fix: FIX_ABUSE,
  },
  {
    id: 'tenant-threshold',
    title: 'Tenant over its threshold',
    stage: 'any',
    match: { enhanced: ['5.7.705'] },
    example: '550 5.7.705 Access denied, tenant has exceeded threshold',
    failureClass: 'config',
    explanation:
      'The whole tenant is blocked from sending (typical for new or trial tenants, or after abuse).',
    fix: FIX_ABUSE,
  },
  {
    id: 'ip-blocked',
    title: 'Traffic from this IP refused',
    stage: 'any',
    match: { enhanced: ['5.7.708'] },
    example: '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP',
    failureClass: 'config',
    explanation: 'Office 365 does not accept traffic from the IP the sender runs on.',
    fix: 'Send from another egress IP (NAT gateway / Elastic IP), or ask Microsoft support to delist it.',
  },
  {
    id: 'unregistered-domain',
    title: 'From domain not accepted',
    stage: 'after DATA',
    match: { enhanced: ['5.7.750'] },
    example:
      '550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains',
    failureClass: 'config',
    explanation:
      'The tenant may not send from domains it has not verified, and was blocked for doing so.',
    fix: 'Add and verify the From domain as an accepted domain in the tenant, and use only such domains in MAIL_ALLOWED_FROM.',
  },
  {
    id: 'direct-send-rejected',
    title: 'Direct Send refused',
    stage: 'MAIL FROM',
    match: { enhanced: ['5.7.68'] },
    example:
      '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources',
    failureClass: 'config',
    explanation:
      "SMTP_HOST points at the tenant's MX (Direct Send), which the tenant has switched off.",
    fix: 'Use SMTP_HOST=smtp.office365.com with authentication.',
  },
];
