/**
 * Graph answers about one message (rejected or invalid: to the DLQ) and about the moment (throttled
 * or unavailable: retried). Part of the table in `graph-replies.ts`.
 */
import { FIX_GRAPH_SEND_AS } from './graph-fixes.ts';
import type { GraphReplyRow } from './graph-replies.ts';

export const FIX_GRAPH_TOO_LARGE =
  'Set MAIL_GRAPH_LARGE_MESSAGES=upload (a draft with attachment upload sessions, up to 150 MB; needs Mail.ReadWrite), send through SMTP (MAIL_TRANSPORT=smtp, 35 MB by default), or send smaller attachments or links to them.';

export const GRAPH_MESSAGE_ROWS: readonly GraphReplyRow[] = [
  {
    id: 'graph-mailbox-concurrency',
    title: 'Too many parallel requests for the mailbox',
    stage: 'any request',
    match: { status: [429], text: /MailboxConcurrency/i },
    example: '429 ApplicationThrottled: Application is over its MailboxConcurrency limit.',
    failureClass: 'retry',
    explanation:
      'More than 4 requests of this app for this mailbox ran at once (Graph allows 4 per app and mailbox). Retried no earlier than Retry-After, and every consumer of the mailbox holds back as long.',
    fix: 'Nothing for one burst; if it repeats, lower the Lambda maximum concurrency (or the number of senders sharing the mailbox) to 4 or fewer.',
    minDelaySeconds: 1,
  },
  {
    id: 'graph-throttled',
    title: 'Throttled by Graph',
    stage: 'any request',
    match: { status: [429] },
    example: '429 ApplicationThrottled: Application is over its MailboxRequests limit.',
    failureClass: 'retry',
    explanation:
      "The app went over one of Graph's limits per app and mailbox: 10,000 requests per 10 minutes, or 150 MB uploaded per 5 minutes. Retried no earlier than Retry-After (60 s when Graph gives none), and the mailbox's shared rate limit takes the pause.",
    fix: 'Nothing for one burst; if it repeats, spread the mail over more mailboxes or lower the rate limit per mailbox.',
    minDelaySeconds: 60,
  },
  {
    id: 'graph-invalid-recipients',
    title: 'Invalid recipients',
    stage: 'sendMail',
    match: { status: [400], code: ['ErrorInvalidRecipients'] },
    example:
      "400 ErrorInvalidRecipients: At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
    failureClass: 'rejected',
    explanation:
      'Graph refused the recipients of this message (no valid recipient, or an address it cannot parse). Graph answers for the whole message: nothing was sent to anyone. Unknown but well-formed addresses are not refused here; they come back later as a non-delivery report to the mailbox.',
    fix: 'Correct the recipients and send the message again (o365-mail dlq redrive).',
  },
  {
    id: 'graph-invalid-mime',
    title: 'MIME content refused',
    stage: 'sendMail',
    match: {
      status: [400],
      code: [
        'ErrorMimeContentInvalidBase64String',
        'ErrorMimeContentInvalid',
        'ErrorMimeContentConversionFailed',
      ],
    },
    example: '400 ErrorMimeContentInvalidBase64String: Invalid base64 string for MIME content.',
    failureClass: 'invalid',
    explanation: "Graph could not read the message's MIME.",
    fix: 'A composer bug or a message Graph cannot convert: report it with the message id from the DLQ; it can be sent through SMTP meanwhile.',
  },
  {
    id: 'graph-message-too-large',
    title: 'Message too large for sendMail',
    stage: 'sendMail',
    match: { status: [413] },
    example:
      '413 ErrorMessageSizeExceeded: The request body of 5592408 bytes exceeds the maximum of 4194304.',
    failureClass: 'rejected',
    explanation:
      'The sendMail request body (the MIME, base64-encoded: a third larger) is over about 4 MB, which Graph refuses. The sender checks this before sending, so the message leaves nothing behind.',
    fix: FIX_GRAPH_TOO_LARGE,
  },
  {
    id: 'graph-message-size-exceeded',
    title: 'Message over the mailbox size limit',
    stage: 'sendMail / sendDraft',
    match: { status: [400], code: ['ErrorMessageSizeExceeded'] },
    example:
      '400 ErrorMessageSizeExceeded: The message exceeds the maximum supported size., Cannot save changes made to an item to store.',
    failureClass: 'rejected',
    explanation: "The message is bigger than the mailbox's MaxSendSize (35 MB by default) allows.",
    fix: 'Send smaller attachments, or links to them; an admin can raise MaxSendSize (Set-Mailbox) up to 150 MB.',
  },
  {
    id: 'graph-send-as-denied',
    title: 'SendAs denied',
    stage: 'sendMail / sendDraft',
    match: { code: ['ErrorSendAsDenied'] },
    example:
      '403 ErrorSendAsDenied: The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.',
    failureClass: 'rejected',
    explanation:
      "The message's From address is not MAIL_SENDER, and the mailbox has no SendAs right on it.",
    fix: FIX_GRAPH_SEND_AS,
  },
  {
    id: 'graph-bad-request',
    title: 'Request refused',
    stage: 'any request',
    match: { status: [400, 422] },
    example: '400 ErrorInvalidRequest: The request is invalid: Cannot read the request body.',
    failureClass: 'rejected',
    explanation: 'Graph refused the request for this message for a reason of its own.',
    fix: 'Read the reason in the DLQ entry; correct the message or report the request id.',
  },
  {
    id: 'graph-service-unavailable',
    title: 'Graph unavailable',
    stage: 'any request',
    match: { status: [500, 502, 503, 504] },
    example: '503 ServiceUnavailable: The service is temporarily unavailable.',
    failureClass: 'retry',
    explanation:
      'Graph or Exchange Online had trouble (it may ask to wait with Retry-After). Nothing was sent; a 5xx answer means the message was not accepted.',
    fix: 'None; retried with backoff. Check the Microsoft 365 service health if it lasts.',
  },
  {
    id: 'graph-request-timeout',
    title: 'Graph did not answer in time',
    stage: 'any request',
    match: {
      error: ['TimeoutError', 'AbortError', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'],
    },
    example: 'The operation was aborted due to timeout',
    failureClass: 'retry',
    explanation:
      'No answer within MAIL_GRAPH_TIMEOUT_MS. Graph may still have accepted the message, so the retry can send it twice (it keeps its Message-ID, so receiving systems can drop the copy).',
    fix: 'None for a single occurrence; if it repeats, check the network path to the Graph endpoint, or raise MAIL_GRAPH_TIMEOUT_MS.',
  },
];
