/**
 * The HTTP client MSAL uses to reach the token endpoint. Hand-written (about 40 lines over `fetch`)
 * instead of MSAL's default for two reasons: MSAL's client puts no timeout on the token POST, so a
 * stalled endpoint would hold the Lambda until its deadline; and MSAL turns a failed OpenID
 * metadata request into a bare `openid_config_error`, losing Entra's answer (e.g. AADSTS90002,
 * tenant not found). This client times out every request and remembers the last failure so the
 * token provider can report what Entra actually said.
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/** The last request that failed: an HTTP error status with its body, or no answer at all. */
export interface NetworkFailure {
  method: 'GET' | 'POST';
  url: string;
  status?: number;
  body?: Record<string, unknown>;
  error?: Error;
}

/** @default 10000 ms per request */
export const DEFAULT_TOKEN_REQUEST_TIMEOUT_MS = 10_000;

export class RecordingNetworkClient implements INetworkModule {
  /** Every URL requested, in order (tests check that no Microsoft host is contacted). */
  readonly requests: string[] = [];
  lastFailure: NetworkFailure | undefined;
  readonly #inner: INetworkModule | undefined;
  readonly #timeoutMs: number;

  /** @param inner a caller's client to wrap; without one, requests go through `fetch`. */
  constructor(inner?: INetworkModule, timeoutMs = DEFAULT_TOKEN_REQUEST_TIMEOUT_MS) {
    this.#inner = inner;
    this.#timeoutMs = timeoutMs;
  }

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.#send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    return this.#send<T>('POST', url, options);
  }

  async #send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    this.requests.push(`${method} ${url}`);
    try {
      const response = this.#inner
        ? await (method === 'GET'
            ? this.#inner.sendGetRequestAsync<T>(url, options, timeout)
            : this.#inner.sendPostRequestAsync<T>(url, options))
        : await this.#fetch<T>(method, url, options, timeout);
      if (response.status >= 400) {
        this.lastFailure = {
          method,
          url,
          status: response.status,
          body: response.body as Record<string, unknown>,
        };
      }
      return response;
    } catch (err) {
      this.lastFailure = {
        method,
        url,
        error: err instanceof Error ? err : new Error(String(err)),
      };
      throw err;
    }
  }

  async #fetch<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const response = await fetch(url, {
      method,
      headers: options?.headers,
      ...(method === 'POST' && { body: options?.body ?? '' }),
      signal: AbortSignal.timeout(Math.min(timeout ?? this.#timeoutMs, this.#timeoutMs)),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // A proxy's HTML error page: keep the status, MSAL reports the failure.
      body = {
        error: 'invalid_response',
        error_description: `HTTP ${response.status} with a non-JSON body`,
      };
    }
    return { headers, body: body as T, status: response.status };
  }
}
