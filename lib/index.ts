/** The public entry of `o365-mail-queue`: re-exports only. */

// Sender plumbing: configuration, secrets, OAuth tokens, the SMTP session and the failure table.
export { TokenAcquisitionError, type TokenFailureDetails } from './auth/token-acquisition-error.ts';
export {
  clearTokenProviderCache,
  createTokenProvider,
  type MsalTokenProvider,
  type TokenProviderOptions,
} from './auth/token-provider.ts';
export {
  loadSenderConfigWithSecrets,
  type ResolveSecretsOptions,
  resolveSecrets,
  SecretResolutionError,
} from './config/secrets.ts';
export {
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_SCOPE,
  DEFAULT_SMTP_HOST,
  loadSenderConfig,
  type OAuthSettings,
  type SenderConfig,
  type SenderConfigResult,
  type SmtpAuthMode,
  type SmtpSettings,
  type SmtpTlsMode,
} from './config/sender-config.ts';
export {
  InvalidMailMessageError,
  InvalidSendOptionsError,
  type MailMessageIssue,
  MailQueueError,
  QueueSendError,
} from './errors.ts';
export {
  DynamoDbDeliveryLedger,
  type DynamoDbDeliveryLedgerOptions,
} from './guards/ledger/dynamodb-delivery-ledger.ts';
export {
  DynamoDbRateLimiter,
  type DynamoDbRateLimiterOptions,
} from './guards/rate-limit/dynamodb-rate-limiter.ts';
export { InMemoryRateLimiter } from './guards/rate-limit/in-memory-rate-limiter.ts';
export type { SendRateLimits } from './guards/rate-limit/send-rate-limits.ts';
export { ADDRESS_PATTERN, ADDRESS_STRING_PATTERN } from './message/mail-address.ts';
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
} from './message/mail-message-limits.ts';
export { HEADER_NAME_PATTERN, MESSAGE_ID_PATTERN } from './message/mail-message-schema.ts';
export {
  type MailMessageInput,
  type MailMessageParseResult,
  parseMailMessage,
  parseMailMessageJson,
  safeParseMailMessage,
} from './message/parse-mail-message.ts';
export {
  MailQueue,
  type MailQueueOptions,
  prepareMailMessage,
  type SendBatchOptions,
  type SendBatchResult,
  type SendOptions,
} from './producer/mail-queue.ts';
export {
  type Classification,
  classificationToOutcome,
  classifySmtpFailure,
  parseSmtpReply,
} from './transport/smtp/classify-smtp-failure.ts';
export {
  OFFICE365_REPLIES,
  type ReplyMatch,
  type ReplyTableRow,
  type TableFailureClass,
} from './transport/smtp/office365-replies.ts';
export {
  openSmtpSession,
  type SessionLogger,
  SmtpSession,
  type SmtpSessionOptions,
  type SmtpSessionStats,
} from './transport/smtp/smtp-session.ts';
export type {
  DeliveryLedger,
  FailureClass,
  LedgerClaim,
  MailAddress,
  MailAttachment,
  MailMessage,
  MailSession,
  SendOutcome,
  SendRateLimiter,
  SmtpReply,
  TokenProvider,
} from './types.ts';
