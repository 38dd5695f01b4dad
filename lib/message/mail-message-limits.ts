/**
 * Limits of the message contract (SPEC "The message"). Kept apart from the schema so that code which
 * only needs a number (the producer's batch packing, the CLI) does not pull in zod.
 */

/** SQS's limit for one message, body and message attributes together (and for one batch request): 1 MiB. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/**
 * Room kept free under SQS's limit for the attributes the sender adds when it moves a message to
 * the DLQ (`FailureClass`, `FailureReason`, `FailureAt`, `FailureRecipients`, `MailId`) or puts a
 * copy back for some recipients: a message the contract accepts can always be dead-lettered.
 */
export const FAILURE_ATTRIBUTES_ROOM_BYTES = 4_096;
/**
 * The largest queue body (UTF-8 JSON, as it is on the queue) the contract accepts: 1 MiB less the
 * room for the failure attributes, 1,044,480 bytes. Producers, the consumer and the JSON Schema's
 * description all use this one number.
 */
export const MAX_BODY_BYTES = SQS_MAX_MESSAGE_BYTES - FAILURE_ATTRIBUTES_ROOM_BYTES;
/** Office 365 accepts at most 500 recipients (to + cc + bcc) on one message. */
export const MAX_RECIPIENTS = 500;
/** RFC 5322 line limit; a longer subject cannot be written without folding tricks. */
export const MAX_SUBJECT_LENGTH = 998;
/** Length of the idempotency key; also the SQS FIFO deduplication id limit. */
export const MAX_ID_LENGTH = 128;
/** RFC 5321: a forward path of 256 octets less the angle brackets. */
export const MAX_ADDRESS_LENGTH = 254;
/** A generous cap on display names; longer ones are almost always a bug upstream. */
export const MAX_DISPLAY_NAME_LENGTH = 256;
/** Custom header names: `X-` plus a token; 76 keeps `Name: value` foldable on one line. */
export const MAX_HEADER_NAME_LENGTH = 76;
/** Custom header values (before encoding). */
export const MAX_HEADER_VALUE_LENGTH = 998;
/** Parameters after an attachment's MIME type (`; charset=...`): short enough for one header line. */
export const MAX_CONTENT_TYPE_PARAMS_LENGTH = 256;
/** Attachment file names (the common file-system limit). */
export const MAX_FILENAME_LENGTH = 255;
/** Tags are for logs and metrics: short keys and values. */
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
/** The message versions this package understands. */
export const MAIL_MESSAGE_VERSION = 1;
