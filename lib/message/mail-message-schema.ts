/**
 * The message contract (SPEC "The message") as one zod schema: the single source of truth for
 * `parseMailMessage` and for the JSON Schema in `lib/message/mail-message.schema.json`.
 *
 * `zod/mini` rather than `zod`: the sender bundles it into the Lambda and mini tree-shakes to a
 * fraction of the size. Rules a JSON Schema can express are written as checks it understands
 * (`regex`, `maxLength`, ...); the cross-field rules (recipient count, text or html, body size) are
 * `refine`s, which only `parseMailMessage` enforces. The body size is measured on the input, as a
 * producer wrote it (`parse-mail-message.ts`), not here on the output with its defaults filled in.
 */
import * as z from 'zod/mini';
import {
  ENCODED_WORD_FIX,
  HEADER_CONTROLS,
  HEADER_CONTROLS_BUT_TAB,
  HEADER_CONTROLS_FIX,
  NO_ENCODED_WORD,
  NO_ENCODED_WORD_PATTERN,
} from './header-text.ts';
import { mailAddressSchema } from './mail-address.ts';
import {
  MAIL_MESSAGE_VERSION,
  MAX_CONTENT_TYPE_PARAMS_LENGTH,
  MAX_FILENAME_LENGTH,
  MAX_HEADER_NAME_LENGTH,
  MAX_HEADER_VALUE_LENGTH,
  MAX_ID_LENGTH,
  MAX_RECIPIENTS,
  MAX_SUBJECT_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
} from './mail-message-limits.ts';

/** Idempotency key characters; a subset of what SQS allows in a FIFO deduplication id. */
export const MESSAGE_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:@-]{1,${MAX_ID_LENGTH}}$`);
/**
 * `X-` plus an RFC 9110 token: no spaces, colons or line breaks can reach the header block.
 * `X-MS-Exchange-*` is Exchange's own (some steer its spam filtering and routing), so never ours.
 */
export const HEADER_NAME_PATTERN = new RegExp(
  `^(?![Xx]-[Mm][Ss]-[Ee][Xx][Cc][Hh][Aa][Nn][Gg][Ee]-)[Xx]-[A-Za-z0-9!#$%&'*+.^_\`|~-]{1,${MAX_HEADER_NAME_LENGTH - 2}}$`,
);
/** C0 controls and DEL, as a character-class body (strings: the linter flags them in literals). */
const CONTROLS = '\\x00-\\x1F\\x7F';
/** One line of header text: tab allowed; no CR, LF, C1 control, U+2028 or U+2029. */
const SINGLE_LINE = new RegExp(`^[^${HEADER_CONTROLS_BUT_TAB}]*$`);
/** A MIME type with optional parameters: one line, no encoded-words, short enough for one header line. */
const CONTENT_TYPE = new RegExp(
  `^${NO_ENCODED_WORD}[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}(?: *;[^${HEADER_CONTROLS}]{0,${MAX_CONTENT_TYPE_PARAMS_LENGTH}})?$`,
);
/**
 * Types that are not a file: a `multipart/*` part is read as message structure (its content lost),
 * and a `message/*` part must go unencoded (NUL, 8-bit bytes and long lines would reach the wire).
 */
const STRUCTURAL_TYPE =
  /^(?![Mm][Uu][Ll][Tt][Ii][Pp][Aa][Rr][Tt]\/|[Mm][Ee][Ss][Ss][Aa][Gg][Ee]\/)/;
/** A file name, not a path, on one line. */
const FILENAME = new RegExp(`^[^${HEADER_CONTROLS}/\\\\]+$`);
/** S3 bucket naming rules (lower case, digits, dots, hyphens; 3-63). */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Tag names: any text on one line (they end up in log lines and metric dimensions). */
const TAG_KEY = new RegExp(`^[^${CONTROLS}]{1,${MAX_TAG_KEY_LENGTH}}$`);

const ONE_LINE = HEADER_CONTROLS_FIX;
const noEncodedWords = () => z.regex(NO_ENCODED_WORD_PATTERN, { error: ENCODED_WORD_FIX });

const addressList = (field: string) =>
  z._default(
    z
      .array(mailAddressSchema, {
        error: `must be a list of addresses, e.g. ["user@example.com"]; wrap a single ${field} address in [ ]`,
      })
      .check(
        z.maxLength(MAX_RECIPIENTS, {
          error: `has more than ${MAX_RECIPIENTS} addresses; Office 365 accepts at most ${MAX_RECIPIENTS} recipients on one message: split it`,
        }),
      ),
    [],
  );

const filename = z.string({ error: 'is required: the name the recipient sees' }).check(
  z.minLength(1, { error: 'must not be empty' }),
  z.maxLength(MAX_FILENAME_LENGTH, {
    error: `is too long: at most ${MAX_FILENAME_LENGTH} characters`,
  }),
  z.regex(FILENAME, {
    error:
      'must be a plain file name: no "/" or "\\", line breaks or control characters (U+2028, U+2029 and U+0085 included)',
  }),
  noEncodedWords(),
);

const contentType = z.optional(
  z.string().check(
    z.regex(CONTENT_TYPE, {
      error: `must be a MIME type such as "application/pdf", parameters on one line (at most ${MAX_CONTENT_TYPE_PARAMS_LENGTH} characters, no "=?...?=")`,
    }),
    z.regex(STRUCTURAL_TYPE, {
      error:
        'cannot be multipart/* or message/* for an attachment: its content would be lost or go out unencoded; use "application/octet-stream" (the file name keeps its extension, e.g. forwarded.eml)',
    }),
  ),
);

const inlineAttachment = z.strictObject({
  filename,
  contentType,
  content: z.base64({
    error: (issue) =>
      issue.input === undefined
        ? 'is required: base64 data, or give "s3": {"bucket", "key"} instead of "content"'
        : 'is not valid base64 (standard alphabet, "=" padding, no line breaks or spaces)',
  }),
});

const s3Attachment = z.strictObject({
  filename,
  contentType,
  s3: z.strictObject({
    bucket: z
      .string()
      .check(
        z.regex(S3_BUCKET, { error: 'must be an S3 bucket name (3-63 of a-z, 0-9, ".", "-")' }),
      ),
    key: z
      .string()
      .check(
        z.minLength(1, { error: 'must not be empty' }),
        z.maxLength(1024, { error: 'is too long: S3 keys have at most 1024 bytes' }),
      ),
  }),
});

const headers = z._default(
  z.record(
    z.string().check(
      z.regex(HEADER_NAME_PATTERN, {
        error: (issue) =>
          /^x-ms-exchange-/i.test(String(issue.input))
            ? `is not an allowed header (${shown(issue.input)}): X-MS-Exchange-* headers belong to Exchange Online; use your own X- name`
            : `is not an allowed header (${shown(issue.input)}): only custom "X-" headers (letters, digits, "-") may be set; the sender writes From, To, Subject, ... itself`,
      }),
    ),
    z.string().check(
      z.maxLength(MAX_HEADER_VALUE_LENGTH, {
        error: `is too long: at most ${MAX_HEADER_VALUE_LENGTH} characters`,
      }),
      z.regex(SINGLE_LINE, { error: ONE_LINE }),
      noEncodedWords(),
    ),
  ),
  {},
);

const tags = z._default(
  z.record(
    z.string().check(
      z.regex(TAG_KEY, {
        error: `is not an allowed tag name: 1-${MAX_TAG_KEY_LENGTH} characters, no line breaks or control characters`,
      }),
    ),
    z.string().check(
      z.maxLength(MAX_TAG_VALUE_LENGTH, {
        error: `is too long: at most ${MAX_TAG_VALUE_LENGTH} characters`,
      }),
      z.regex(SINGLE_LINE, { error: ONE_LINE }),
    ),
  ),
  {},
);

const fields = z.strictObject({
  version: z._default(
    z.literal(MAIL_MESSAGE_VERSION, {
      error: (issue) =>
        `${shown(issue.input)} is not supported: this sender understands version ${MAIL_MESSAGE_VERSION} (or leave "version" out)`,
    }),
    MAIL_MESSAGE_VERSION,
  ),
  id: z.optional(
    z.string().check(
      z.regex(MESSAGE_ID_PATTERN, {
        error: `must be 1-${MAX_ID_LENGTH} of letters, digits and . _ : @ - (it is the idempotency key)`,
      }),
    ),
  ),
  from: z.optional(mailAddressSchema),
  to: addressList('to'),
  cc: addressList('cc'),
  bcc: addressList('bcc'),
  replyTo: addressList('replyTo'),
  subject: z
    .string({ error: `is required: a string of at most ${MAX_SUBJECT_LENGTH} characters` })
    .check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(MAX_SUBJECT_LENGTH, {
        error: `is too long: at most ${MAX_SUBJECT_LENGTH} characters`,
      }),
      z.regex(SINGLE_LINE, { error: ONE_LINE }),
      noEncodedWords(),
    ),
  text: z.optional(z.string()),
  html: z.optional(z.string()),
  attachments: z._default(
    z.array(z.union([inlineAttachment, s3Attachment]), {
      error: 'must be a list of {filename, content} or {filename, s3: {bucket, key}}',
    }),
    [],
  ),
  headers,
  priority: z.optional(
    z.enum(['high', 'normal', 'low'], { error: 'must be "high", "normal" or "low"' }),
  ),
  tags,
});

type Fields = z.output<typeof fields>;

/** A received value, short and safe to put in a message (BigInt and cycles defeat JSON.stringify). */
function shown(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return JSON.stringify(value).slice(0, 40);
  }
  return value === null
    ? 'null'
    : `a value of type ${Array.isArray(value) ? 'list' : typeof value}`;
}

const listLength = (list: unknown): number => (Array.isArray(list) ? list.length : 0);
const recipientCount = (m: Partial<Fields>): number =>
  listLength(m.to) + listLength(m.cc) + listLength(m.bcc);
/**
 * Run the cross-field rules even when a field is broken, so one answer lists every problem; they
 * read the fields defensively because they may see raw input.
 */
const onAnyObject = (payload: z.core.ParsePayload): boolean =>
  typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value);

/** The whole message, with the rules that span fields. */
export const mailMessageSchema = fields.check(
  z.refine((m: Partial<Fields>) => recipientCount(m) > 0 || !onlyLists(m), {
    path: ['to'],
    when: onAnyObject,
    error: 'needs at least one recipient in to, cc or bcc',
  }),
  z.refine((m: Fields) => recipientCount(m) <= MAX_RECIPIENTS, {
    path: ['to'],
    error: `has too many recipients: to, cc and bcc together may hold at most ${MAX_RECIPIENTS} (Office 365 limit); split the message`,
  }),
  z.refine((m: Partial<Fields>) => hasText(m.text) || hasText(m.html), {
    path: ['text'],
    when: onAnyObject,
    error: 'is missing: give "text", "html" or both (not empty)',
  }),
);

/** A non-list `to` already has its own issue; do not add "no recipients" on top of it. */
function onlyLists(m: Partial<Fields>): boolean {
  return [m.to, m.cc, m.bcc].every((list) => list === undefined || Array.isArray(list));
}

/** A non-string `text` already has its own issue; only a missing or empty one counts here. */
function hasText(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  return value !== undefined;
}
