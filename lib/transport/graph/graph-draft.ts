/**
 * The draft route of Graph, for what sendMail cannot do with MIME: a message over its ~4 MB
 * request limit (MAIL_GRAPH_LARGE_MESSAGES=upload), and a message kept out of Sent Items
 * (MAIL_SAVE_TO_SENT_ITEMS=false; sendMail takes `saveToSentItems` only with a JSON body). Needs
 * Mail.ReadWrite as well as Mail.Send.
 *
 * 1. Create a draft from the MIME (without its attachments when they are uploaded separately).
 * 2. Mark it to be deleted after sending (MAPI `PidTagDeleteAfterSubmit`, 0x0E01), when it must
 *    stay out of Sent Items: the property behind sendMail's own `saveToSentItems: false`.
 * 3. Add each attachment: posted whole under 3 MB, else through an upload session in chunks.
 * 4. Send the draft. A failure before this step deletes the draft, so a retry starts clean.
 */
import type { ComposedAttachment, ComposedMime } from '../../types.ts';
import type { GraphClient, GraphStep } from './graph-client.ts';
import { UPLOAD_SESSION_MIN_BYTES, withBccHeader } from './graph-mime.ts';

/** Chunks of an upload session must be multiples of 320 KiB and at most 4 MB. */
export const UPLOAD_CHUNK_BYTES = 12 * 320 * 1024;

export interface DraftOptions {
  /** Upload the attachments separately (the message is over sendMail's limit). */
  detach: boolean;
  saveToSentItems: boolean;
}

export async function sendAsDraft(
  client: GraphClient,
  mime: ComposedMime,
  options: DraftOptions,
): Promise<GraphStep<string>> {
  let raw = mime.raw;
  let attachments: ComposedAttachment[] = [];
  if (options.detach && mime.detachAttachments) {
    ({ raw, attachments } = await mime.detachAttachments());
  }
  const created = await client.call({
    name: 'createDraft',
    method: 'POST',
    path: client.mailbox('/messages'),
    headers: { 'content-type': 'text/plain' },
    body: withBccHeader(raw, mime.bcc).toString('base64'),
  });
  if (!created.ok) return created;
  const id = (created.body as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') {
    return {
      ok: false,
      reply: {
        status: created.status,
        message: 'Graph created the draft without returning its id',
        request: 'createDraft',
      },
    };
  }
  const draft = client.mailbox(`/messages/${encodeURIComponent(id)}`);
  let prepared: GraphStep;
  try {
    prepared = await prepare(client, draft, attachments, options);
  } catch (err) {
    await discard(client, draft);
    throw err;
  }
  if (!prepared.ok) {
    await discard(client, draft);
    return prepared;
  }
  const sent = await client.call({ name: 'sendDraft', method: 'POST', path: `${draft}/send` });
  if (!sent.ok) {
    await discard(client, draft);
    return sent;
  }
  return { ok: true, value: `${sent.status} Accepted (draft sent)` };
}

async function prepare(
  client: GraphClient,
  draft: string,
  attachments: readonly ComposedAttachment[],
  options: DraftOptions,
): Promise<GraphStep> {
  if (!options.saveToSentItems) {
    const marked = await client.call({
      name: 'updateDraft',
      method: 'PATCH',
      path: draft,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        singleValueExtendedProperties: [{ id: 'Boolean 0x0E01', value: 'true' }],
      }),
    });
    if (!marked.ok) return marked;
  }
  for (const attachment of attachments) {
    const added =
      attachment.content.length < UPLOAD_SESSION_MIN_BYTES
        ? await postAttachment(client, draft, attachment)
        : await uploadAttachment(client, draft, attachment);
    if (!added.ok) return added;
  }
  return { ok: true, value: undefined };
}

async function postAttachment(
  client: GraphClient,
  draft: string,
  attachment: ComposedAttachment,
): Promise<GraphStep> {
  const answer = await client.call({
    name: 'addAttachment',
    method: 'POST',
    path: `${draft}/attachments`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: attachment.filename,
      contentType: attachment.contentType,
      contentBytes: attachment.content.toString('base64'),
    }),
  });
  return answer.ok ? { ok: true, value: undefined } : answer;
}

async function uploadAttachment(
  client: GraphClient,
  draft: string,
  attachment: ComposedAttachment,
): Promise<GraphStep> {
  const total = attachment.content.length;
  const session = await client.call({
    name: 'createUploadSession',
    method: 'POST',
    path: `${draft}/attachments/createUploadSession`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      AttachmentItem: {
        attachmentType: 'file',
        name: attachment.filename,
        size: total,
        contentType: attachment.contentType,
      },
    }),
  });
  if (!session.ok) return session;
  const uploadUrl = (session.body as { uploadUrl?: unknown } | undefined)?.uploadUrl;
  if (typeof uploadUrl !== 'string' || !uploadUrl.startsWith('https://')) {
    return {
      ok: false,
      reply: {
        status: session.status,
        message: 'Graph created the upload session without an https uploadUrl',
        request: 'createUploadSession',
      },
    };
  }
  for (let start = 0; start < total; start += UPLOAD_CHUNK_BYTES) {
    const end = Math.min(total, start + UPLOAD_CHUNK_BYTES);
    const chunk = await client.upload({
      name: 'uploadChunk',
      method: 'PUT',
      path: uploadUrl,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${start}-${end - 1}/${total}`,
      },
      body: attachment.content.subarray(start, end),
    });
    if (!chunk.ok) return chunk;
  }
  return { ok: true, value: undefined };
}

/** Best effort: a draft left behind is only clutter in Drafts, never a sent message. */
async function discard(client: GraphClient, draft: string): Promise<void> {
  try {
    await client.call({ name: 'deleteDraft', method: 'DELETE', path: draft });
  } catch {
    // The failure that led here is what gets reported.
  }
}
