/**
 * Runs the real handler the way Lambda does, for the soak and the timeout tests: each concurrent
 * invocation gets its own sandbox (a worker thread, {@link ./sandbox-worker.ts}), reused while it is
 * healthy, and killed — `Worker.terminate()`, sockets and all — when the invocation times out or a
 * test decides the sandbox dies. A killed sandbox's batch is simply not acknowledged: its messages
 * come back after the visibility timeout, as in AWS.
 *
 * Why workers and not the handler in-process: an async function cannot be killed. In-process, a
 * "timed-out" invocation keeps running and may still finish its sends and ledger writes, which
 * would hide exactly the failures the soak is about.
 */
import { Worker } from 'node:worker_threads';
import type { SQSEvent } from 'aws-lambda';
import type { ProbeReport } from '../../lib/delivery/sender-lambda.ts';
import { PROBE_EVENT } from '../../lib/guards/breaker/probe-event.ts';
import type { SqsLambdaHandler } from '../../lib/local/sqs-event-source.ts';
import type { InvokeRequest, InvokeResponse } from './sandbox-worker.ts';

export interface LambdaSandboxesOptions {
  /** The sender's environment (SPEC variables, endpoints of the emulators). */
  env: Record<string, string>;
  /** The function timeout; the sandbox is killed when an invocation runs longer. */
  functionTimeoutMs: number;
  /**
   * Asked after a handler returned: `true` kills the sandbox before the answer reaches the event
   * source (a crash between the last send and the acknowledgement): nothing is deleted.
   */
  dieBeforeAck?: (event: SQSEvent) => boolean;
  /** The sandboxes' stdout and stderr (logs, EMF); dropped when absent. */
  onOutput?: (chunk: string) => void;
}

export interface SandboxStats {
  coldStarts: number;
  invocations: number;
  timeouts: number;
  /** Sandboxes killed by the test (`kill`, `dieBeforeAck`). */
  kills: number;
}

export interface LambdaSandboxes {
  handler: SqsLambdaHandler;
  stats: SandboxStats;
  /**
   * Starts `n` sandboxes and waits for their init (module load), like provisioned concurrency, so
   * a measurement starts with warm sandboxes. Later kills still cost cold starts.
   */
  warm(n: number): Promise<void>;
  /** Mail/SQS ids of each running invocation, to pick a victim. */
  running(): { messageIds: string[]; bodies: string[]; kill: () => void }[];
  /** Invokes the circuit breaker's scheduled probe (as EventBridge would) in a sandbox. */
  probe(): Promise<ProbeReport>;
  close(): Promise<void>;
}

type Settled = { ok: true; response: unknown } | { ok: false; error: string };

interface Sandbox {
  worker: Worker;
  /** Resolves when the handler module is loaded (init done). */
  ready: Promise<void>;
  busy?: { event: InvokeRequest['event']; started: () => void; settle: (r: Settled) => void };
}

/** Lambda's init phase may take up to 10 s before the handler runs. */
const INIT_TIMEOUT_MS = 10_000;

export function createLambdaSandboxes(options: LambdaSandboxesOptions): LambdaSandboxes {
  const idle: Sandbox[] = [];
  const all = new Set<Sandbox>();
  const stats: SandboxStats = { coldStarts: 0, invocations: 0, timeouts: 0, kills: 0 };
  const workerUrl = new URL('./sandbox-worker.ts', import.meta.url);

  function spawn(): Sandbox {
    stats.coldStarts++;
    const worker = new Worker(workerUrl, { env: { ...options.env }, stdout: true, stderr: true });
    for (const stream of [worker.stdout, worker.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => options.onOutput?.(chunk));
    }
    let markReady = () => {};
    const sandbox: Sandbox = { worker, ready: new Promise((resolve) => (markReady = resolve)) };
    worker.on('message', (r: InvokeResponse) => {
      if (r.kind === 'ready') markReady();
      else if (r.kind === 'started') sandbox.busy?.started();
      else sandbox.busy?.settle(r);
    });
    worker.on('error', (error) => sandbox.busy?.settle({ ok: false, error: String(error) }));
    worker.on('exit', () => {
      markReady();
      all.delete(sandbox);
      sandbox.busy?.settle({ ok: false, error: 'Runtime exited' });
    });
    all.add(sandbox);
    return sandbox;
  }

  function kill(sandbox: Sandbox, reason: string): void {
    all.delete(sandbox);
    const busy = sandbox.busy;
    sandbox.busy = undefined;
    void sandbox.worker.terminate();
    busy?.settle({ ok: false, error: reason });
  }

  /** One invocation in an idle sandbox (or a new one): its answer, or the error Lambda would give. */
  async function invoke(
    event: InvokeRequest['event'],
  ): Promise<{ sandbox: Sandbox; response: unknown }> {
    stats.invocations++;
    let sandbox = idle.pop();
    while (sandbox && !all.has(sandbox)) sandbox = idle.pop();
    sandbox ??= spawn();
    const current = sandbox;
    const result = await new Promise<Settled>((resolve) => {
      const timeOut = (what: string) => () => {
        stats.timeouts++;
        kill(current, what);
      };
      let timer = setTimeout(timeOut('Init timed out'), INIT_TIMEOUT_MS);
      current.busy = {
        event,
        started: () => {
          clearTimeout(timer);
          const message = `Task timed out after ${options.functionTimeoutMs} ms`;
          timer = setTimeout(timeOut(message), options.functionTimeoutMs);
        },
        settle: (r) => {
          clearTimeout(timer);
          current.busy = undefined;
          resolve(r);
        },
      };
      current.worker.postMessage({
        event,
        timeoutMs: options.functionTimeoutMs,
        functionName: 'o365-mail-sender-soak',
      } satisfies InvokeRequest);
    });
    if (!result.ok) throw new Error(result.error);
    return { sandbox: current, response: result.response };
  }

  const handler: SqsLambdaHandler = async (event) => {
    const invoked = await invoke(event);
    const { sandbox } = invoked;
    const response = invoked.response as Awaited<ReturnType<SqsLambdaHandler>>;
    if (options.dieBeforeAck?.(event)) {
      stats.kills++;
      kill(sandbox, 'sandbox died before acknowledging');
      throw new Error('sandbox died before acknowledging');
    }
    if (all.has(sandbox)) idle.push(sandbox);
    return response;
  };

  return {
    handler,
    stats,
    async probe() {
      const { sandbox, response } = await invoke(PROBE_EVENT);
      if (all.has(sandbox)) idle.push(sandbox);
      return response as ProbeReport;
    },
    async warm(n) {
      const fresh = Array.from({ length: n }, spawn);
      await Promise.all(fresh.map((sandbox) => sandbox.ready));
      idle.push(...fresh);
    },
    running: () =>
      [...all].flatMap((sandbox) => {
        const busy = sandbox.busy;
        if (!busy || !('Records' in busy.event)) return [];
        return [
          {
            messageIds: busy.event.Records.map((r) => r.messageId),
            bodies: busy.event.Records.map((r) => r.body),
            kill: () => {
              stats.kills++;
              kill(sandbox, 'sandbox killed');
            },
          },
        ];
      }),
    async close() {
      idle.length = 0;
      await Promise.all([...all].map((s) => s.worker.terminate()));
      all.clear();
    },
  };
}
