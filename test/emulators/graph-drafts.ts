/**
 * Drafts and attachment upload sessions of the Graph emulator: a draft made from MIME, marked to
 * be deleted after sending (`PidTagDeleteAfterSubmit`), attachments posted whole or uploaded in
 * chunks (Content-Range, at most 4 MB each; a session for less than 3 MB is refused as Graph
 * refuses it), then sent.
 */
import { randomUUID } from 'node:crypto';
import type { DecodedMime, GraphErrorAnswer } from './graph-mime-check.ts';

export interface GraphAttachment {
  name: string;
  contentType: string;
  content: Buffer;
}

export interface Draft {
  id: string;
  mailbox: string;
  mime: DecodedMime;
  deleteAfterSubmit: boolean;
  attachments: GraphAttachment[];
}

interface UploadSession {
  draft: Draft;
  name: string;
  contentType: string;
  size: number;
  chunks: Buffer[];
  next: number;
}

export const UPLOAD_SESSION_MIN_BYTES = 3 * 1024 * 1024;
const DELETE_AFTER_SUBMIT = 'boolean 0x0e01';

const notFound = (what: string): GraphErrorAnswer => ({
  status: 404,
  code: 'ErrorItemNotFound',
  message: `The specified object was not found in the store. (${what})`,
});
const badRequest = (code: string, message: string): GraphErrorAnswer => ({
  status: 400,
  code,
  message,
});

export class GraphDrafts {
  readonly #drafts = new Map<string, Draft>();
  readonly #uploads = new Map<string, UploadSession>();

  get count(): number {
    return this.#drafts.size;
  }

  create(mailbox: string, mime: DecodedMime): Draft {
    const draft: Draft = {
      id: randomUUID().replaceAll('-', ''),
      mailbox,
      mime,
      deleteAfterSubmit: false,
      attachments: [],
    };
    this.#drafts.set(draft.id, draft);
    return draft;
  }

  get(mailbox: string, id: string): Draft | GraphErrorAnswer {
    const draft = this.#drafts.get(id);
    return draft && draft.mailbox === mailbox ? draft : notFound(`message ${id}`);
  }

  delete(id: string): void {
    this.#drafts.delete(id);
  }

  /** PATCH: only `singleValueExtendedProperties` matter here. */
  update(draft: Draft, body: unknown): GraphErrorAnswer | undefined {
    const props = (body as { singleValueExtendedProperties?: unknown })
      ?.singleValueExtendedProperties;
    if (!Array.isArray(props)) return badRequest('ErrorInvalidRequest', 'Nothing to update.');
    for (const p of props as { id?: unknown; value?: unknown }[]) {
      if (String(p.id).toLowerCase() === DELETE_AFTER_SUBMIT) {
        draft.deleteAfterSubmit = String(p.value).toLowerCase() === 'true';
      }
    }
    return undefined;
  }

  addAttachment(draft: Draft, body: unknown): GraphErrorAnswer | undefined {
    const a = body as { name?: unknown; contentType?: unknown; contentBytes?: unknown };
    if (typeof a?.name !== 'string' || typeof a.contentBytes !== 'string') {
      return badRequest('ErrorInvalidRequest', 'A fileAttachment needs name and contentBytes.');
    }
    draft.attachments.push({
      name: a.name,
      contentType: typeof a.contentType === 'string' ? a.contentType : 'application/octet-stream',
      content: Buffer.from(a.contentBytes, 'base64'),
    });
    return undefined;
  }

  createUploadSession(draft: Draft, body: unknown): { id: string } | GraphErrorAnswer {
    const item = (body as { AttachmentItem?: Record<string, unknown> })?.AttachmentItem;
    const size = Number(item?.size);
    if (!item || typeof item.name !== 'string' || !Number.isInteger(size)) {
      return badRequest('ErrorInvalidRequest', 'AttachmentItem needs name and size.');
    }
    if (size < UPLOAD_SESSION_MIN_BYTES) {
      return badRequest(
        'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
        'Attachment size must be greater than the minimum size.',
      );
    }
    const id = randomUUID();
    this.#uploads.set(id, {
      draft,
      name: item.name,
      contentType:
        typeof item.contentType === 'string' ? item.contentType : 'application/octet-stream',
      size,
      chunks: [],
      next: 0,
    });
    return { id };
  }

  /** The mailbox an upload session writes to (it counts against that mailbox's concurrency). */
  uploadMailbox(id: string): string | undefined {
    return this.#uploads.get(id)?.draft.mailbox;
  }

  /** One chunk; `done` when the attachment is complete (then it is on the draft). */
  uploadChunk(
    id: string,
    contentRange: string | undefined,
    chunk: Buffer,
  ): { done: boolean; next: number } | GraphErrorAnswer {
    const upload = this.#uploads.get(id);
    if (!upload) return notFound(`upload session ${id}`);
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange ?? '');
    if (!m || Number(m[3]) !== upload.size || Number(m[1]) !== upload.next) {
      return badRequest(
        'InvalidRange',
        `Expected Content-Range bytes ${upload.next}-…/${upload.size}.`,
      );
    }
    if (Number(m[2]) - Number(m[1]) + 1 !== chunk.length || Number(m[2]) >= upload.size) {
      return badRequest('InvalidRange', 'The Content-Range does not match the body.');
    }
    upload.chunks.push(chunk);
    upload.next += chunk.length;
    if (upload.next < upload.size) return { done: false, next: upload.next };
    upload.draft.attachments.push({
      name: upload.name,
      contentType: upload.contentType,
      content: Buffer.concat(upload.chunks),
    });
    this.#uploads.delete(id);
    return { done: true, next: upload.size };
  }

  clear(): void {
    this.#drafts.clear();
    this.#uploads.clear();
  }
}
