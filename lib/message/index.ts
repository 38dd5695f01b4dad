/** `o365-mail-queue/message`: the mail message contract, and the errors its parsing throws. */
export {
  InvalidMailMessageError,
  type MailMessageIssue,
  MailQueueError,
} from '../errors.ts';
export type { FailureClass, MailAddress, MailAttachment, MailMessage } from '../types.ts';
export { ADDRESS_PATTERN, ADDRESS_STRING_PATTERN } from './mail-address.ts';
export {
  MAIL_MESSAGE_VERSION,
  MAX_ADDRESS_LENGTH,
  MAX_BODY_BYTES,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_FILENAME_LENGTH,
  MAX_HEADER_NAME_LENGTH,
  MAX_HEADER_VALUE_LENGTH,
  MAX_ID_LENGTH,
  MAX_RECIPIENTS,
  MAX_SUBJECT_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
} from './mail-message-limits.ts';
export { HEADER_NAME_PATTERN, MESSAGE_ID_PATTERN } from './mail-message-schema.ts';
export {
  type MailMessageInput,
  type MailMessageParseResult,
  parseMailMessage,
  parseMailMessageJson,
  safeParseMailMessage,
} from './parse-mail-message.ts';
