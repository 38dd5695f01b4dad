/**
 * One Lambda execution environment: a worker thread that imports the real `functions/sender.ts`
 * handler once (cold start) and runs one invocation at a time, like a Lambda sandbox. Its module
 * state (runtime, MSAL token cache) survives between invocations; `terminate()` from the parent is
 * the runtime killing the sandbox (timeout, crash), closing its sockets mid-whatever.
 */
import { parentPort } from 'node:worker_threads';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler } from '../../functions/sender.ts';
import {
  isProbeEvent,
  type PROBE_EVENT,
  type ProbeReport,
} from '../../lib/delivery/sender-lambda.ts';

export interface InvokeRequest {
  /** A batch, or the circuit breaker's scheduled probe. */
  event: SQSEvent | typeof PROBE_EVENT;
  /** The function timeout; the clock starts when the sandbox starts the invocation (after init). */
  timeoutMs: number;
  functionName: string;
}

export type InvokeResponse =
  | { kind: 'ready' }
  | { kind: 'started' }
  | { kind: 'done'; ok: true; response: SQSBatchResponse | ProbeReport }
  | { kind: 'done'; ok: false; error: string };

function contextUntil(deadline: number, functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'soak',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// Static imports above are the init phase: as in Lambda, it does not count against the timeout.
parentPort?.on('message', (request: InvokeRequest) => {
  const deadline = Date.now() + request.timeoutMs;
  parentPort?.postMessage({ kind: 'started' } satisfies InvokeResponse);
  const context = contextUntil(deadline, request.functionName);
  const invocation: Promise<SQSBatchResponse | ProbeReport> = isProbeEvent(request.event)
    ? handler(request.event, context)
    : handler(request.event, context);
  invocation.then(
    (response) =>
      parentPort?.postMessage({ kind: 'done', ok: true, response } satisfies InvokeResponse),
    (error: unknown) =>
      parentPort?.postMessage({
        kind: 'done',
        ok: false,
        error: String(error),
      } satisfies InvokeResponse),
  );
});
parentPort?.postMessage({ kind: 'ready' } satisfies InvokeResponse);
