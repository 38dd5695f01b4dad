/**
 * Injects the soak's faults while messages flow: scripted server answers, resets and stalls (in
 * the words of the door the sender drives, `soak-server.ts`), token endpoint failures, and
 * sandboxes killed at the worst moments. Every injection is counted.
 */
import type { TokenEndpoint } from '../emulators/token-endpoint.ts';
import type { LambdaSandboxes } from './lambda-sandboxes.ts';
import type { SoakServerFaults } from './soak-server.ts';

export const FAULT_KINDS = [
  'temporary-reply',
  'throttling-reply',
  'dropped-mid-data',
  'stall-past-socket-timeout',
  'stall-past-function-timeout',
  'token-endpoint-failure',
  'sandbox-killed-mid-batch',
  'recipients-deferred',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How often each kind is drawn: the ones that cost a whole batch (kills, timeouts) less often. */
const FAULT_WEIGHTS: Record<FaultKind, number> = {
  'temporary-reply': 3,
  'throttling-reply': 2,
  'dropped-mid-data': 2,
  'stall-past-socket-timeout': 1,
  'stall-past-function-timeout': 1,
  'token-endpoint-failure': 1,
  'sandbox-killed-mid-batch': 1,
  'recipients-deferred': 2,
};

export interface FaultTimings {
  socketTimeoutMs: number;
  functionTimeoutMs: number;
}

export interface FaultInjector {
  /** Per kind the door can take (Graph has no per-recipient answers). */
  counts: Partial<Record<FaultKind, number>>;
  /** Injects one random fault (the soak calls it after some of the accepted messages). */
  injectOne(): void;
  /** Some kind has not been injected yet (the soak then injects more often, so a short run has all). */
  readonly firstRoundPending: boolean;
}

export function createFaultInjector(
  server: SoakServerFaults,
  token: TokenEndpoint,
  sandboxes: LambdaSandboxes,
  timings: FaultTimings,
  random: () => number,
): FaultInjector {
  const deferRecipients = server.deferRecipients?.bind(server);
  const kinds = FAULT_KINDS.filter((k) => k !== 'recipients-deferred' || deferRecipients);
  const counts: Partial<Record<FaultKind, number>> = Object.fromEntries(kinds.map((k) => [k, 0]));
  const inject: Record<FaultKind, () => boolean> = {
    'temporary-reply': () => {
      server.temporaryReply();
      return true;
    },
    'throttling-reply': () => {
      server.throttlingReply(random);
      return true;
    },
    'dropped-mid-data': () => {
      server.dropMidMessage();
      return true;
    },
    // The client gives up after its socket (or request) timeout while the server still accepts
    // the message: the one way besides a crash to send twice (the answer never arrives).
    'stall-past-socket-timeout': () => {
      server.stallAfterAccepting(timings.socketTimeoutMs + 1_000);
      return true;
    },
    // A slow server episode: each answer stays under the client's timeout, but together they
    // outlast the time the batch had left, so the runtime kills the sandbox before the message is
    // accepted. A single long stall would only trip the timeout (a plain retry).
    'stall-past-function-timeout': () => {
      server.slowEpisode(timings.socketTimeoutMs - 150);
      return true;
    },
    'token-endpoint-failure': () => {
      // Entra's transient answers: 503 temporarily_unavailable and 500 server_error (AADSTS50000);
      // both are retries (test/integration/token-provider.test.ts), never configuration errors.
      token.failNext(random() < 0.5 ? 'unavailable' : 'server_error');
      return true;
    },
    'sandbox-killed-mid-batch': () => {
      const running = sandboxes.running();
      const victim = running[Math.floor(random() * running.length)];
      victim?.kill();
      return victim !== undefined;
    },
    // Some recipients of a message refused for now, the others take it: the message must reach
    // the refused ones later, alone, and nobody twice.
    'recipients-deferred': () => {
      deferRecipients?.(random);
      return deferRecipients !== undefined;
    },
  };
  const bag = kinds.flatMap((kind) => Array<FaultKind>(FAULT_WEIGHTS[kind]).fill(kind));
  // Every kind once first (so even a short run exercises all of them), then drawn at random.
  const firstRound: FaultKind[] = [...kinds];
  return {
    counts,
    get firstRoundPending() {
      return firstRound.length > 0;
    },
    injectOne() {
      const kind = firstRound[0] ?? bag[Math.floor(random() * bag.length)]!;
      if (!inject[kind]()) return;
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (firstRound[0] === kind) firstRound.shift();
    },
  };
}
