import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';

/** The message flags of `o365-mail send`. */
export interface MessageFlags {
  file?: string;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  from?: string;
  subject?: string;
  text?: string;
  html?: string;
  attach?: string[];
  id?: string;
  priority?: string;
  tag?: string[];
}

export type BuiltMessage =
  | { ok: true; input: Record<string, unknown> }
  | { ok: false; problem: string };

/** Content types for common attachment extensions; anything else is `application/octet-stream`. */
const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.zip': 'application/zip',
};

/**
 * Builds the raw message from `--file` (a JSON message; `-` reads stdin) and the flags; a flag
 * given on the command line replaces the file's field (lists are replaced, not merged). The
 * result is NOT validated here: the contract's own parser does that, so the CLI and every
 * producer agree on what is valid.
 */
export async function messageFromFlags(
  flags: MessageFlags,
  stdin: () => Promise<string> = readStdin,
): Promise<BuiltMessage> {
  let input: Record<string, unknown> = {};
  if (flags.file) {
    const source = flags.file === '-' ? 'stdin' : flags.file;
    let text: string;
    try {
      text = flags.file === '-' ? await stdin() : await readFile(flags.file, 'utf8');
    } catch (error) {
      return { ok: false, problem: `Cannot read ${source}: ${(error as Error).message}` };
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return { ok: false, problem: `${source} must hold one JSON object (a mail message).` };
      }
      input = parsed as Record<string, unknown>;
    } catch (error) {
      return { ok: false, problem: `${source} is not JSON: ${(error as Error).message}` };
    }
  }
  const set = (key: string, value: unknown) => {
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) input[key] = value;
  };
  set('to', flags.to);
  set('cc', flags.cc);
  set('bcc', flags.bcc);
  set('replyTo', flags.replyTo);
  set('from', flags.from);
  set('subject', flags.subject);
  set('text', flags.text);
  set('html', flags.html);
  set('id', flags.id);
  set('priority', flags.priority);
  if (flags.tag?.length) input.tags = { ...(input.tags as object), ...parseTags(flags.tag) };
  if (flags.attach?.length) {
    const attachments = await readAttachments(flags.attach);
    if (!attachments.ok) return attachments;
    input.attachments = [...((input.attachments as unknown[]) ?? []), ...attachments.list];
  }
  return { ok: true, input };
}

async function readAttachments(
  files: string[],
): Promise<{ ok: true; list: unknown[] } | { ok: false; problem: string }> {
  const list: unknown[] = [];
  for (const file of files) {
    try {
      const content = await readFile(file);
      list.push({
        filename: basename(file),
        contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        content: content.toString('base64'),
      });
    } catch (error) {
      return { ok: false, problem: `Cannot read attachment ${file}: ${(error as Error).message}` };
    }
  }
  return { ok: true, list };
}

/** `key=value` pairs; a pair without `=` becomes a tag with an empty value. */
function parseTags(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
