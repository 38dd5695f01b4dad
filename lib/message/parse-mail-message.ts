/**
 * Parsing mail messages at a trust boundary: producers validate before sending, the consumer
 * validates again. One schema (`mail-message-schema.ts`) decides; this module turns its verdict
 * into a `MailMessage` or into plain-word issues.
 */
import type * as z from 'zod/mini';
import { InvalidMailMessageError, type MailMessageIssue } from '../errors.ts';

import type { MailMessage } from '../types.ts';
import { FAILURE_ATTRIBUTES_ROOM_BYTES, MAX_BODY_BYTES } from './mail-message-limits.ts';
import { mailMessageSchema } from './mail-message-schema.ts';

/** What a producer may write: addresses as strings or objects, defaults left out. */
export type MailMessageInput = z.input<typeof mailMessageSchema>;

/** The outcome of `safeParseMailMessage`. */
export type MailMessageParseResult =
  | { ok: true; message: MailMessage }
  | { ok: false; issues: MailMessageIssue[] };

/**
 * Validates `input` against the contract; returns the normalised message or the issues. Its size
 * is that of `JSON.stringify(input)`: the body as a producer writes it, defaults not filled in.
 */
export function safeParseMailMessage(input: unknown): MailMessageParseResult {
  return parseInput(input, () => jsonBytes(input));
}

/**
 * Validates `input` and returns it normalised (addresses as `{ name?, address }`, defaults filled).
 * @throws InvalidMailMessageError listing every problem found.
 */
export function parseMailMessage(input: unknown): MailMessage {
  const result = safeParseMailMessage(input);
  if (!result.ok) throw new InvalidMailMessageError(result.issues);
  return result.message;
}

/**
 * Parses a queue body: checks its UTF-8 size (at most {@link MAX_BODY_BYTES}), that it is JSON,
 * then the contract. Never throws.
 */
export function parseMailMessageJson(body: string): MailMessageParseResult {
  if (typeof body !== 'string') return fail('the message body is missing or not text');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) return fail(tooBig(bytes));
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`the message is not JSON (${reason}); send one JSON object per message`);
  }
  return parseInput(input, () => bytes);
}

/** The "too big" issue text, shared by the consumer and the producer. */
export function tooBig(bytes: number, what = 'the message is too big'): string {
  return `${what}: ${bytes} bytes, the limit is ${MAX_BODY_BYTES} (SQS's 1 MiB less ${FAILURE_ATTRIBUTES_ROOM_BYTES} bytes kept for the failure attributes of a dead letter); put large attachments in S3: {"filename", "s3": {"bucket", "key"}}`;
}

function parseInput(input: unknown, bytesOf: () => number | undefined): MailMessageParseResult {
  // reportInput: the wording names what was received ("not a number"); issues never leave with it.
  const result = mailMessageSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    return { ok: false, issues: dedupe(result.error.issues.flatMap((i) => describeIssue(i, []))) };
  }
  // Measured only on a valid message: plain JSON data (a broken one may hold a BigInt).
  const bytes = bytesOf();
  if (bytes !== undefined && bytes > MAX_BODY_BYTES) return fail(tooBig(bytes));
  return { ok: true, message: result.data };
}

function jsonBytes(input: unknown): number | undefined {
  try {
    const json = JSON.stringify(input);
    return json === undefined ? undefined : Buffer.byteLength(json, 'utf8');
  } catch {
    return undefined;
  }
}

function fail(message: string): MailMessageParseResult {
  return { ok: false, issues: [{ path: '', message }] };
}

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** `to[0].address`, `headers.X-Foo`; `''` for the whole message. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${shortKey(key)}` : shortKey(key);
  }
  return out;
}

/** A key as issues show it: producers choose header and tag names, so a long one is cut. */
function shortKey(key: PropertyKey): string {
  const text = String(key);
  return text.length > MAX_SHOWN_KEY ? `${text.slice(0, MAX_SHOWN_KEY)}…` : text;
}

const MAX_SHOWN_KEY = 64;

/** Plain words for one zod issue; a failed union is replaced by its most plausible branch's issues. */
function describeIssue(issue: Issue, prefix: Path): MailMessageIssue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
    const branch = closestBranch(issue.errors);
    if (branch) return branch.flatMap((i) => describeIssue(i, path));
  }
  if (issue.code === 'unrecognized_keys') {
    // One issue per unknown key, at the key's own path, so each names the field to remove.
    return issue.keys.map((key) => {
      const field = formatPath([...path, key]);
      // Both attachment forms are strict, so "content and s3" surfaces as an unknown key.
      const both = path[0] === 'attachments' && (key === 's3' || key === 'content');
      const message = both
        ? `${field} cannot be combined with ${key === 's3' ? 'content' : 's3'}: an attachment has either base64 "content" or an "s3" location`
        : `${field} is not a field of the message contract: remove it (check the spelling: field names are case-sensitive)`;
      return { path: field, message };
    });
  }
  const field = formatPath(path);
  const label = field || 'the message';
  return [{ path: field, message: `${label} ${wording(issue)}` }];
}

/**
 * The branch the producer most likely meant: the one that got past the type check with the fewest
 * problems. When every branch failed on the type itself, the union's own message says it best.
 */
function closestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const candidates = branches.filter(
    (issues) => !issues.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  candidates.sort((a, b) => a.length - b.length);
  return candidates[0];
}

/** zod's own words are terse ("Invalid input"); ours name the fix. Custom messages pass through. */
function wording(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (!isDefaultMessage(issue.message)) return issue.message;
      if (issue.input === undefined) return `is required (${expected(issue.expected)})`;
      return `must be ${expected(issue.expected)}, not ${kindOf(issue.input)}`;
    case 'invalid_key':
      return issue.issues.map((i) => i.message).join('; ');
    case 'unrecognized_keys':
    case 'too_big':
    case 'too_small':
    case 'invalid_format':
    case 'invalid_value':
    case 'invalid_element':
    case 'invalid_union':
    case 'not_multiple_of':
    case 'custom':
      return issue.message;
  }
}

function isDefaultMessage(message: string): boolean {
  return message.startsWith('Invalid input');
}

function expected(type: string): string {
  if (type === 'array') return 'a list';
  if (type === 'object' || type === 'record') return 'an object';
  return `a ${type}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

function dedupe(issues: MailMessageIssue[]): MailMessageIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\n${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
