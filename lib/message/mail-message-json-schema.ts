/**
 * The contract as a JSON Schema (draft 2020-12, the input side: what a producer may write), derived
 * from the zod schema so the two cannot drift. `npm run schema` writes it to
 * `lib/message/mail-message.schema.json`; a test fails when the committed file is stale.
 * Only scripts and tests import this module, so `toJSONSchema` stays out of the Lambda bundle.
 */
import * as z from 'zod/mini';
import { mailAddressSchema } from './mail-address.ts';
import {
  FAILURE_ATTRIBUTES_ROOM_BYTES,
  MAX_BODY_BYTES,
  MAX_RECIPIENTS,
} from './mail-message-limits.ts';
import { mailMessageSchema } from './mail-message-schema.ts';

const DESCRIPTION = [
  'One mail message for the o365-mail-queue SQS queue (one JSON object per SQS message body).',
  'Also enforced by parseMailMessage, and not expressible here: at least one recipient in',
  `to/cc/bcc and at most ${MAX_RECIPIENTS} in all; "text" or "html" (non-empty); an address`,
  `of at most 254 characters; the body (UTF-8 JSON, as it goes on the queue) at most`,
  `${MAX_BODY_BYTES} bytes: SQS's 1 MiB less ${FAILURE_ATTRIBUTES_ROOM_BYTES} bytes kept for the`,
  'attributes a dead letter carries.',
].join(' ');

/** Builds the JSON Schema object (deterministic: same schema in, same JSON out). */
export function buildMailMessageJsonSchema(): Record<string, unknown> {
  // A private registry names the address schema, so it is written once under $defs.
  const names = z.registry<{ id?: string; description?: string }>();
  names.add(mailAddressSchema, {
    id: 'MailAddress',
    description:
      '"user@example.com", "Name <user@example.com>" or {"name", "address"}. Local part: a dot-atom (no quoted strings); domain: at least two labels, IDN allowed.',
  });
  const generated = z.toJSONSchema(mailMessageSchema, {
    io: 'input',
    target: 'draft-2020-12',
    metadata: names,
    // The cross-field refinements have no JSON Schema form; DESCRIPTION states them instead.
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'o365-mail-queue mail message, version 1',
    description: DESCRIPTION,
    // An annotation (JSON Schema ignores unknown keywords) so a producer can read the limit.
    'x-maxBodyBytes': MAX_BODY_BYTES,
    ...rest,
  };
}

/** The file's text: two-space JSON and a final newline. */
export function renderMailMessageJsonSchema(): string {
  return `${JSON.stringify(buildMailMessageJsonSchema(), null, 2)}\n`;
}
