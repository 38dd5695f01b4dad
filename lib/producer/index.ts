/** `o365-mail-queue/producer`: put mail messages on the mail queue, and the errors it throws. */
export {
  InvalidMailMessageError,
  InvalidSendOptionsError,
  type MailMessageIssue,
  MailQueueError,
  QueueSendError,
} from '../errors.ts';
export {
  MailQueue,
  type MailQueueOptions,
  prepareMailMessage,
  type SendBatchOptions,
  type SendBatchResult,
  type SendOptions,
} from './mail-queue.ts';
