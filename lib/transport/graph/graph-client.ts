/**
 * Graph requests on behalf of one mailbox, with its app-only token: taken from the MSAL cache for
 * each request, renewed once when Graph answers 401 (a token revoked or expired early), so a stale
 * cache costs one extra request instead of a configuration stop.
 */
import type { TokenProvider } from '../../types.ts';
import type { GraphReply } from './graph-replies.ts';
import {
  type GraphAnswer,
  type GraphHttp,
  type GraphRequest,
  graphRequest,
} from './graph-request.ts';

/** Counters of one client, for tests and logs. */
export interface GraphClientStats {
  requests: number;
  tokenRenewals: number;
}

/** A step that ended the way the sender wanted, or Graph's answer when it did not. */
export type GraphStep<T = unknown> = { ok: true; value: T } | { ok: false; reply: GraphReply };

export class GraphClient {
  readonly stats: GraphClientStats = { requests: 0, tokenRenewals: 0 };
  readonly #http: GraphHttp;
  readonly #tokens: TokenProvider;
  readonly #mailboxPath: string;

  constructor(http: GraphHttp, tokens: TokenProvider, mailbox: string) {
    this.#http = http;
    this.#tokens = tokens;
    this.#mailboxPath = `/users/${encodeURIComponent(mailbox)}`;
  }

  /** `/users/{mailbox}` + `suffix`. */
  mailbox(suffix: string): string {
    return `${this.#mailboxPath}${suffix}`;
  }

  /** An authenticated request; token errors are thrown (the classifier knows them). */
  async call(request: Omit<GraphRequest, 'token'>): Promise<GraphAnswer> {
    const answer = await this.#send(request, await this.#tokens.getAccessToken());
    if (answer.ok || answer.reply.status !== 401) return answer;
    this.stats.tokenRenewals++;
    return this.#send(request, await this.#tokens.getAccessToken(true));
  }

  /** A request to an upload session URL, which carries its own authorisation. */
  upload(request: Omit<GraphRequest, 'token'>): Promise<GraphAnswer> {
    return this.#send(request, undefined);
  }

  #send(request: Omit<GraphRequest, 'token'>, token: string | undefined): Promise<GraphAnswer> {
    this.stats.requests++;
    return graphRequest(this.#http, token === undefined ? request : { ...request, token });
  }
}
