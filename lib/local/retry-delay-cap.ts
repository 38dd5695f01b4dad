import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running front of the SQS emulator. */
export interface RetryDelayCap {
  /** `http://127.0.0.1:<port>`: use it as the sender's queue origin. */
  endpoint: string;
  stop(): Promise<void>;
}

const VISIBILITY_ACTIONS = new Set([
  'AmazonSQS.ChangeMessageVisibility',
  'AmazonSQS.ChangeMessageVisibilityBatch',
]);

/**
 * A small HTTP front of the SQS emulator that caps every visibility change at `maxSeconds`, so a
 * local run shows a retry within seconds instead of waiting out the production backoff (30 s to
 * 15 min, at least 60 s after throttling). The sender code is untouched: it still asks for its
 * real delays; only this local queue shortens them. Every other call passes through unchanged.
 * Only `npm run demo` (and `O365_LOCAL_MAX_RETRY_DELAY`) turns it on.
 */
export async function startRetryDelayCap(
  emulatorEndpoint: string,
  maxSeconds: number,
): Promise<RetryDelayCap> {
  const target = new URL(emulatorEndpoint);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '');
      let body: Buffer = Buffer.concat(chunks);
      if (VISIBILITY_ACTIONS.has(action)) body = capVisibility(body, maxSeconds);
      // The body was read whole (and may have changed length): send it with a plain length.
      const { 'transfer-encoding': _chunked, ...headers } = req.headers;
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...headers, host: target.host, 'content-length': String(body.length) },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        res.writeHead(502).end(String(error));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function capVisibility(body: Buffer, maxSeconds: number): Buffer {
  try {
    const json = JSON.parse(body.toString('utf8')) as {
      VisibilityTimeout?: number;
      Entries?: { VisibilityTimeout?: number }[];
    };
    const cap = (value: number | undefined) =>
      value === undefined ? value : Math.min(value, maxSeconds);
    json.VisibilityTimeout = cap(json.VisibilityTimeout);
    for (const entry of json.Entries ?? []) entry.VisibilityTimeout = cap(entry.VisibilityTimeout);
    return Buffer.from(JSON.stringify(json));
  } catch {
    // Not the JSON protocol: pass it on as it came.
    return body;
  }
}
