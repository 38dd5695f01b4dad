/**
 * A Microsoft Graph look-alike for mail, on https://127.0.0.1:<port> with the run's test
 * certificate: `POST /v1.0/users/{id}/sendMail` with base64 MIME, and the draft route (create a
 * draft from MIME, PATCH it, add attachments whole or through upload sessions, send it). It checks
 * the JWT (signature, `aud` = this endpoint, `tid`), the app's right on the mailbox (a role
 * consented in Entra, or an RBAC for Applications scope: else `403 ErrorAccessDenied`), answers
 * `429 ApplicationThrottled` (MailboxConcurrency, with Retry-After) to a fifth concurrent request
 * for one mailbox, `413` to a body over 4 MB and `400 ErrorInvalidRecipients` to a bad recipient,
 * and stores the decoded MIME of every message it accepted.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createGraphAuth, type GraphAppAccess, type GraphPermission } from './graph-auth.ts';
import { type Draft, type GraphAttachment, GraphDrafts } from './graph-drafts.ts';
import { GraphFaults } from './graph-faults.ts';
import {
  type DecodedMime,
  decodeMime,
  type GraphErrorAnswer,
  sendAsDenied,
} from './graph-mime-check.ts';
import { loadTestPki } from './test-pki.ts';
import type { TokenEndpoint } from './token-endpoint.ts';
import { waitForEvent } from './wait-for-event.ts';

export type { GraphAppAccess } from './graph-auth.ts';
export type { GraphAttachment } from './graph-drafts.ts';
export type { GraphErrorAnswer } from './graph-mime-check.ts';

export interface GraphMailbox {
  /** Other From addresses this mailbox may send as (Exchange SendAs). */
  sendAs?: string[];
}

export interface GraphEmulatorOptions {
  /** Whose keys sign valid tokens, and the tenant they must be for. */
  tokenEndpoint: Pick<TokenEndpoint, 'jwks' | 'tenantId'>;
  /** Mailboxes of the tenant (case-insensitive); when omitted every address is one. */
  mailboxes?: Record<string, GraphMailbox>;
  /** RBAC for Applications, by app id (the token's `appid`). @default none: only consented roles work */
  rbac?: Record<string, GraphAppAccess>;
  /** Requests of one app for one mailbox at a time before `429`. @default 4 */
  concurrencyPerMailbox?: number;
  /** `Retry-After` of a 429. @default 1 */
  retryAfterSeconds?: number;
  /** Largest request body. @default 4 MiB */
  maxRequestBytes?: number;
  /** Every answer is held this long (so concurrent clients overlap). @default 0 */
  responseDelayMs?: number;
  /** @default 0 (a free port) */
  port?: number;
}

/** A message Graph accepted (202), with its MIME decoded from base64. */
export interface GraphReceivedMessage {
  mailbox: string;
  appId: string;
  route: 'sendMail' | 'draft';
  /** The MIME exactly as decoded (for the draft route: the draft's, attachments apart). */
  raw: Buffer;
  messageId?: string;
  subject?: string;
  from?: string;
  /** To, Cc and Bcc. */
  recipients: string[];
  bcc: string[];
  /** Attachments added to a draft (posted or uploaded). */
  attachments: GraphAttachment[];
  savedToSentItems: boolean;
  receivedAt: Date;
}

export interface GraphStats {
  requests: number;
  accepted: number;
  /** 429 MailboxConcurrency answers. */
  throttled: number;
  /** Most requests in flight for one mailbox at once. */
  peakConcurrency: number;
  tooLarge: number;
  tokenRefusals: number;
  accessDenied: number;
}

export interface GraphEmulator {
  /** `https://127.0.0.1:<port>`: `O365_GRAPH_ENDPOINT`, and the `aud` tokens must carry. */
  endpoint: string;
  messages: GraphReceivedMessage[];
  stats: GraphStats;
  /** `POST /v1.0/users/x/sendMail 202`, in order. */
  requests: string[];
  /** Drafts not sent (nor deleted). */
  readonly drafts: number;
  waitForMessages(n: number, timeoutMs?: number): Promise<GraphReceivedMessage[]>;
  faults: GraphFaults;
  /** Refuses messages to `address` with `400 ErrorInvalidRecipients` until reset. */
  rejectRecipient(address: string): void;
  /** Answers the next `times` mail requests with `answer` (nothing recorded). */
  failNext(answer: GraphErrorAnswer, times?: number): void;
  /** Accepts the next `times` messages, then holds the 202 for `ms`. */
  stallNext(ms: number, times?: number): void;
  /** Resets the connection of the next `times` mail requests before answering (nothing recorded). */
  dropNext(times?: number): void;
  /** Holds the next `times` mail requests for `ms` before handling them; a client gone by then leaves nothing. */
  delayNext(ms: number, times?: number): void;
  /** Resolves once a stalled answer is being held. */
  waitForStall(timeoutMs?: number): Promise<void>;
  reset(): void;
  stop(): Promise<void>;
}

const emptyStats = (): GraphStats => ({
  requests: 0,
  accepted: 0,
  throttled: 0,
  peakConcurrency: 0,
  tooLarge: 0,
  tokenRefusals: 0,
  accessDenied: 0,
});

const MAILBOX_ROUTE =
  /^\/v1\.0\/users\/([^/]+)\/(sendMail|messages)(?:\/([^/]+)(?:\/(send|attachments)(?:\/(createUploadSession))?)?)?$/;

export async function startGraphEmulator(options: GraphEmulatorOptions): Promise<GraphEmulator> {
  const maxBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
  const limit = options.concurrencyPerMailbox ?? 4;
  const mailboxes = options.mailboxes
    ? new Map(Object.entries(options.mailboxes).map(([k, v]) => [k.toLowerCase(), v]))
    : undefined;
  const messages: GraphReceivedMessage[] = [];
  const requests: string[] = [];
  const stats = emptyStats();
  const events = new EventEmitter();
  const faults = new GraphFaults(events);
  const drafts = new GraphDrafts();
  const rejected = new Set<string>();
  const inFlight = new Map<string, number>();
  const sockets = new Set<Socket>();
  let endpoint = '';
  const auth = createGraphAuth({
    jwks: options.tokenEndpoint.jwks,
    tenantId: options.tokenEndpoint.tenantId,
    audience: () => endpoint,
    rbac: options.rbac ?? {},
  });

  const record = (
    mailbox: string,
    appId: string,
    mime: DecodedMime,
    extra: Pick<GraphReceivedMessage, 'route' | 'attachments' | 'savedToSentItems'>,
  ) => {
    messages.push({ mailbox, appId, ...mime, ...extra, receivedAt: new Date() });
    stats.accepted++;
    events.emit('message');
  };

  /** One request, start to answer; returns what to answer. */
  async function handle(req: IncomingMessage, body: Buffer): Promise<Answer> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const upload = /^\/upload\/([\w-]+)$/.exec(url.pathname);
    const route = MAILBOX_ROUTE.exec(url.pathname);
    const mailbox = decodeURIComponent(
      route?.[1] ?? drafts.uploadMailbox(upload?.[1] ?? '') ?? '',
    ).toLowerCase();
    if (body.length > maxBytes) {
      stats.tooLarge++;
      return error({
        status: 413,
        code: 'ErrorMessageSizeExceeded',
        message: `The request body of ${body.length} bytes exceeds the maximum of ${maxBytes}.`,
      });
    }
    if (!route && !upload)
      return error({ status: 404, code: 'UnknownError', message: 'Not Found' });
    let appId = '';
    if (route) {
      const token = await auth.checkToken(req.headers.authorization);
      if (!token.ok) {
        stats.tokenRefusals++;
        return error(token);
      }
      appId = token.appId;
      if (mailboxes && !mailboxes.has(mailbox)) {
        return error({
          status: 404,
          code: 'ErrorInvalidUser',
          message: `The requested user '${decodeURIComponent(route[1]!)}' is invalid.`,
        });
      }
      const needs: GraphPermission =
        route[2] === 'sendMail' || route[4] === 'send' ? 'send' : 'readWrite';
      if (!auth.allows(token, mailbox, needs)) {
        stats.accessDenied++;
        return error({
          status: 403,
          code: 'ErrorAccessDenied',
          message: 'Access is denied. Check credentials and try again.',
        });
      }
    }
    return throttled(mailbox, () =>
      route ? mailRequest(req, route, mailbox, appId, body) : uploadRequest(req, upload![1]!, body),
    );
  }

  /** Counts the request against the mailbox's concurrency while it runs. */
  async function throttled(mailbox: string, run: () => Promise<Answer>): Promise<Answer> {
    const running = inFlight.get(mailbox) ?? 0;
    if (running >= limit) {
      stats.throttled++;
      return error({
        status: 429,
        code: 'ApplicationThrottled',
        message: 'Application is over its MailboxConcurrency limit.',
        headers: { 'retry-after': String(options.retryAfterSeconds ?? 1) },
      });
    }
    inFlight.set(mailbox, running + 1);
    stats.peakConcurrency = Math.max(stats.peakConcurrency, running + 1);
    try {
      const answer = await run();
      await delay(options.responseDelayMs ?? 0);
      return answer;
    } finally {
      inFlight.set(mailbox, (inFlight.get(mailbox) ?? 1) - 1);
    }
  }

  async function mailRequest(
    req: IncomingMessage,
    route: RegExpExecArray,
    mailbox: string,
    appId: string,
    body: Buffer,
  ): Promise<Answer> {
    const [, , kind, messageId, action, session] = route;
    const sending = kind === 'sendMail' || action === 'send';
    if (sending) {
      const delayed = faults.takeDelay();
      if (delayed !== undefined) {
        await faults.hold(delayed);
        if (req.socket.destroyed) return { drop: true };
      }
      const scripted = faults.takeFailure();
      if (scripted) return error(scripted);
      if (faults.takeDrop()) return { drop: true };
    }
    if (kind === 'sendMail' || (kind === 'messages' && !messageId && req.method === 'POST')) {
      if (!/^text\/plain\b/i.test(req.headers['content-type'] ?? '')) {
        return error({
          status: 400,
          code: 'ErrorInvalidRequest',
          message: 'This emulator takes MIME (text/plain, base64) only.',
        });
      }
      const decoded = await decodeMime(body.toString('latin1'), rejected);
      if (!decoded.ok) return error(decoded.error);
      if (!maySendAs(mailbox, decoded.mime.from)) return error(sendAsDenied());
      if (kind === 'messages') {
        const draft = drafts.create(mailbox, decoded.mime);
        return { status: 201, body: { id: draft.id, internetMessageId: decoded.mime.messageId } };
      }
      record(mailbox, appId, decoded.mime, {
        route: 'sendMail',
        attachments: [],
        savedToSentItems: true,
      });
      return { status: 202, stall: faults.takeStall() };
    }
    const found = drafts.get(mailbox, decodeURIComponent(messageId ?? ''));
    if ('status' in found) return error(found);
    return draftRequest(req, found, action, session, appId, body);
  }

  function draftRequest(
    req: IncomingMessage,
    draft: Draft,
    action: string | undefined,
    session: string | undefined,
    appId: string,
    body: Buffer,
  ): Answer {
    const json = () => {
      try {
        return JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
    };
    if (!action && req.method === 'PATCH') return done(drafts.update(draft, json()), 200);
    if (!action && req.method === 'DELETE') {
      drafts.delete(draft.id);
      return { status: 204 };
    }
    if (action === 'send' && req.method === 'POST') {
      drafts.delete(draft.id);
      record(draft.mailbox, appId, draft.mime, {
        route: 'draft',
        attachments: draft.attachments,
        savedToSentItems: !draft.deleteAfterSubmit,
      });
      return { status: 202, stall: faults.takeStall() };
    }
    if (action === 'attachments' && !session && req.method === 'POST') {
      return done(drafts.addAttachment(draft, json()), 201);
    }
    if (session && req.method === 'POST') {
      const created = drafts.createUploadSession(draft, json());
      if ('status' in created) return error(created);
      return {
        status: 201,
        body: {
          uploadUrl: `${endpoint}/upload/${created.id}`,
          expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
          nextExpectedRanges: ['0-'],
        },
      };
    }
    return error({ status: 405, code: 'ErrorInvalidRequest', message: 'Method not allowed.' });
  }

  async function uploadRequest(req: IncomingMessage, id: string, body: Buffer): Promise<Answer> {
    if (req.method !== 'PUT')
      return error({ status: 405, code: 'ErrorInvalidRequest', message: 'PUT only.' });
    if (req.headers.authorization) {
      // Graph's upload URLs carry their own authorisation and refuse a bearer token.
      return error({
        status: 401,
        code: 'InvalidAuthenticationToken',
        message: 'Do not send an Authorization header to an upload URL.',
      });
    }
    const result = drafts.uploadChunk(id, req.headers['content-range'], body);
    if ('status' in result) return error(result);
    return result.done
      ? { status: 201 }
      : { status: 200, body: { nextExpectedRanges: [`${result.next}-`] } };
  }

  function maySendAs(mailbox: string, from: string | undefined): boolean {
    if (!from || from === mailbox) return true;
    const sendAs = mailboxes?.get(mailbox)?.sendAs ?? [];
    return sendAs.some((a) => a.toLowerCase() === from);
  }

  const pki = loadTestPki();
  const server = createServer({ key: pki.keyPem, cert: pki.certPem, minVersion: 'TLSv1.2' });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks))
        .then(
          (answer) => answer,
          (err: unknown) => error({ status: 500, code: 'EmulatorBug', message: String(err) }),
        )
        .then(async (answer) => {
          const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
          if ('drop' in answer) {
            requests.push(`${req.method} ${path} dropped`);
            req.socket.destroy();
            return;
          }
          requests.push(`${req.method} ${path} ${answer.status}`);
          if (answer.stall) await faults.hold(answer.stall);
          res.writeHead(answer.status, {
            'request-id': crypto.randomUUID(),
            ...(answer.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...answer.headers,
          });
          res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    messages,
    stats,
    requests,
    get drafts() {
      return drafts.count;
    },
    faults,
    waitForMessages: (n, timeoutMs = 10_000) =>
      waitForEvent(
        events,
        'message',
        () => messages.length >= n,
        timeoutMs,
        () => `waitForMessages: ${messages.length} of ${n} messages after ${timeoutMs} ms`,
      ).then(() => messages.slice()),
    rejectRecipient: (address) => rejected.add(address.toLowerCase()),
    failNext: (answer, times) => faults.failNext(answer, times),
    stallNext: (ms, times) => faults.stallNext(ms, times),
    dropNext: (times) => faults.dropNext(times),
    delayNext: (ms, times) => faults.delayNext(ms, times),
    waitForStall: (timeoutMs = 10_000) =>
      waitForEvent(
        events,
        'stall',
        () => faults.stalled > 0,
        timeoutMs,
        () => `waitForStall: nothing held after ${timeoutMs} ms`,
      ),
    reset() {
      messages.length = 0;
      requests.length = 0;
      Object.assign(stats, emptyStats());
      rejected.clear();
      drafts.clear();
      faults.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        faults.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

type Answer =
  | { status: number; body?: unknown; headers?: Record<string, string>; stall?: number }
  | { drop: true };

function error(e: GraphErrorAnswer | { status: number; code: string; message: string }): Answer {
  return {
    status: e.status,
    headers: 'headers' in e ? e.headers : undefined,
    body: {
      error: {
        code: e.code,
        message: e.message,
        innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID() },
      },
    },
  };
}

function done(failure: GraphErrorAnswer | undefined, status: number): Answer {
  return failure ? error(failure) : { status };
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
