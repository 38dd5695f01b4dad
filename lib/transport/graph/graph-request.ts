/**
 * One HTTP request to Microsoft Graph over `fetch`, with a timeout, Graph's error body read into a
 * {@link GraphReply}, and failures without an answer thrown as {@link GraphNetworkError} with the
 * socket's or TLS's own code.
 *
 * Why not the Graph SDK (`@microsoft/microsoft-graph-client`): the sender makes at most six kinds of
 * request, and the SDK's retry middleware would wait out a 429 inside the Lambda invocation; here a
 * throttled message goes back to the queue with Retry-After as its floor, and every consumer of the
 * mailbox learns about it through the shared rate limiter.
 */
import { MailQueueError } from '../../errors.ts';
import type { GraphReply, GraphRequestName } from './graph-replies.ts';

/** A request that got no answer (network, TLS, timeout): what `graph-request.ts` throws. */
export class GraphNetworkError extends MailQueueError {
  readonly code: string;
  readonly request: GraphRequestName;
  constructor(
    request: GraphRequestName,
    code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GraphNetworkError';
    this.code = code;
    this.request = request;
  }
}

export interface GraphHttp {
  /** `O365_GRAPH_ENDPOINT`, an origin. */
  endpoint: string;
  /** Longest wait for one request. */
  timeoutMs: number;
}

export interface GraphRequest {
  name: GraphRequestName;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** A path under `{endpoint}/v1.0`, or an absolute URL (an upload session's). */
  path: string;
  /** Bearer token; absent for an upload session URL, which must not get one. */
  token?: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

export type GraphAnswer =
  | { ok: true; status: number; body: unknown; headers: Headers }
  | { ok: false; reply: GraphReply };

/** Sends one request; an HTTP error is an answer, only a missing answer throws. */
export async function graphRequest(http: GraphHttp, request: GraphRequest): Promise<GraphAnswer> {
  const url = /^https:\/\//.test(request.path)
    ? request.path
    : `${http.endpoint}/v1.0${request.path}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: request.method,
      headers: {
        ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
        ...request.headers,
      },
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal: AbortSignal.timeout(http.timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    throw networkError(request.name, err, http.timeoutMs);
  }
  const body = parseJson(text);
  if (response.ok) return { ok: true, status: response.status, body, headers: response.headers };
  return { ok: false, reply: replyOf(request.name, response, body, text) };
}

function replyOf(
  name: GraphRequestName,
  response: Response,
  body: unknown,
  text: string,
): GraphReply {
  const error = (body as { error?: { code?: unknown; message?: unknown; innerError?: unknown } })
    ?.error;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const message =
    typeof error?.message === 'string'
      ? error.message
      : text.trim().slice(0, 200) || response.statusText || `HTTP ${response.status}`;
  const inner = error?.innerError as { 'request-id'?: unknown } | undefined;
  const requestId =
    response.headers.get('request-id') ??
    (typeof inner?.['request-id'] === 'string' ? inner['request-id'] : undefined);
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  return {
    status: response.status,
    ...(code ? { code } : {}),
    message,
    request: name,
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** `Retry-After` as seconds (it may also be an HTTP date). */
export function retryAfterSeconds(
  header: string | null,
  now: number = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `fetch failed` says nothing; its cause chain has the socket's or TLS's code. */
function networkError(name: GraphRequestName, err: unknown, timeoutMs: number): GraphNetworkError {
  const e = err as { name?: string; message?: string; cause?: unknown };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new GraphNetworkError(name, 'TimeoutError', `no answer within ${timeoutMs} ms`, {
      cause: err,
    });
  }
  const parts = [e?.message ?? String(err)];
  let code: string | undefined;
  let cause = e?.cause;
  for (let depth = 0; depth < 4 && cause && typeof cause === 'object'; depth++) {
    const c = cause as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof c.code === 'string') code ??= c.code;
    if (typeof c.message === 'string') parts.push(c.message);
    cause = c.cause;
  }
  return new GraphNetworkError(name, code ?? 'UNKNOWN', parts.join(' / '), { cause: err });
}
