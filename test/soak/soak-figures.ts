/**
 * What a soak run proves, from what the servers saw: the SMTP or Graph emulator's accepted messages, the
 * DLQ's contents and the ledger writes seen by dynalite.
 *
 * A duplicate is "inside the documented window" when every copy left the client (end of DATA)
 * before the ledger first recorded the id as sent: the server accepted a copy whose 250 never
 * became a ledger entry (the sandbox died after the 250, or the 250 never arrived). A copy sent
 * after the id was recorded would be a ledger bug, counted as "outside the window".
 */
import type { ConfigOutageFigures } from './config-outage.ts';
import type { SandboxStats } from './lambda-sandboxes.ts';
import type { FaultKind } from './soak-faults.ts';
import type { SoakKind, SoakMessage } from './soak-messages.ts';

export type DeadLetterClass = 'invalid' | 'rejected' | 'retries-exhausted';
export type ExtraFault = 'killed-after-250' | 'died-before-ack';

export interface SoakObservations {
  messages: SoakMessage[];
  /** Per mail id: when each accepted copy finished DATA at the client (server receivedAt). */
  deliveries: Map<string, number[]>;
  /** Per mail id: when the ledger was asked to record it as sent. */
  completes: Map<string, number[]>;
  /** Per mail id: the class of each DLQ copy. */
  deadLetters: Map<string, DeadLetterClass[]>;
  faults: Record<FaultKind | ExtraFault, number>;
  sandboxes: SandboxStats;
  serverRateLimited: number;
  recordsInvoked: number;
  dynamoCalls: { ledger: number; rate: number };
  drainMs: number;
  drained: boolean;
  /** MAIL FROMs the server refused because the mailbox had more than 3 connections (`432 4.3.2`). */
  concurrencyRefused?: number;
  /** Times the circuit breaker paused consuming of the main queue (and its probe resumed it). */
  pauses?: number;
  /** The configuration-outage episode, when it ran. */
  configOutage?: ConfigOutageFigures;
}

export interface SoakFigures {
  messages: number;
  byKind: Record<SoakKind, number>;
  sent: number;
  serverAccepted: number;
  deadLettered: Record<DeadLetterClass, number>;
  /**
   * Mail that ended in the wrong place: good mail dead-lettered as invalid or rejected, bad mail
   * sent. (Good mail the redrive policy dead-lettered after maxReceiveCount is not misrouted: that
   * is the queue's contract; it is counted under `retries-exhausted`.)
   */
  misrouted: string[];
  /** Good mail dead-lettered by the redrive policy and never sent. */
  goodRetriesExhausted: number;
  lost: string[];
  sentTwice: number;
  sentTwiceInWindow: number;
  sentTwiceOutsideWindow: string[];
  /**
   * Sent ids the ledger never recorded. Must be empty: it proves the ledger took part, so the
   * window classification above (which trusts its records) means something.
   */
  sentUnrecorded: string[];
  deadLetteredTwice: number;
  drainSeconds: number;
  drained: boolean;
  faults: Record<FaultKind | ExtraFault, number>;
  sandboxes: SandboxStats;
  serverRateLimited: number;
  receivesPerMessage: number;
  dynamoCallsPerSent: { ledger: number; rate: number };
  /** `432 4.3.2` replies: the server counted more than 3 connections for the mailbox. Must be 0. */
  concurrencyRefused: number;
  /** Pauses of the main queue's circuit breaker (each resumed by its probe). */
  pauses: number;
  configOutage?: ConfigOutageFigures;
}

export function soakFigures(o: SoakObservations): SoakFigures {
  const byKind: Record<SoakKind, number> = {
    good: 0,
    'invalid-json': 0,
    'invalid-contract': 0,
    rejected: 0,
  };
  const deadLettered: Record<DeadLetterClass, number> = {
    invalid: 0,
    rejected: 0,
    'retries-exhausted': 0,
  };
  const misrouted: string[] = [];
  const lost: string[] = [];
  const outside: string[] = [];
  let inWindow = 0;
  let sentTwice = 0;
  let deadLetteredTwice = 0;
  let goodRetriesExhausted = 0;
  const unrecorded: string[] = [];
  for (const m of o.messages) {
    byKind[m.kind]++;
    const copies = o.deliveries.get(m.key) ?? [];
    const dead = o.deadLetters.get(m.key) ?? [];
    if (dead.length > 0) deadLettered[dead[0]!]++;
    if (dead.length > 1) deadLetteredTwice++;
    if (copies.length === 0 && dead.length === 0) lost.push(m.key);
    const good = m.kind === 'good';
    const wrongClass = good && dead.some((cls) => cls !== 'retries-exhausted');
    if (wrongClass || (!good && copies.length > 0)) misrouted.push(`${m.key} (${m.kind})`);
    if (good && copies.length === 0 && dead.length > 0) goodRetriesExhausted++;
    if (copies.length > 0 && !o.completes.has(m.key)) unrecorded.push(m.key);
    if (copies.length > 1) {
      sentTwice++;
      const recorded = Math.min(...(o.completes.get(m.key) ?? [Number.POSITIVE_INFINITY]));
      if (copies.every((at) => at <= recorded)) inWindow++;
      else outside.push(m.key);
    }
  }
  const sent = [...o.deliveries.values()].filter((c) => c.length > 0).length;
  return {
    messages: o.messages.length,
    byKind,
    sent,
    serverAccepted: [...o.deliveries.values()].reduce((n, c) => n + c.length, 0),
    deadLettered,
    misrouted,
    goodRetriesExhausted,
    lost,
    sentTwice,
    sentTwiceInWindow: inWindow,
    sentTwiceOutsideWindow: outside,
    sentUnrecorded: unrecorded,
    deadLetteredTwice,
    drainSeconds: Math.round(o.drainMs / 100) / 10,
    drained: o.drained,
    faults: o.faults,
    sandboxes: o.sandboxes,
    serverRateLimited: o.serverRateLimited,
    receivesPerMessage: round2(o.recordsInvoked / Math.max(1, o.messages.length)),
    dynamoCallsPerSent: {
      ledger: round2(o.dynamoCalls.ledger / Math.max(1, sent)),
      rate: round2(o.dynamoCalls.rate / Math.max(1, sent)),
    },
    concurrencyRefused: o.concurrencyRefused ?? 0,
    pauses: o.pauses ?? 0,
    ...(o.configOutage && { configOutage: o.configOutage }),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The figures as rows for `console.table`. */
export function soakTable(f: SoakFigures): Record<string, string | number> {
  const kinds = Object.entries(f.byKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const faults = Object.entries(f.faults)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return {
    'messages enqueued': `${f.messages} (${kinds})`,
    sent: f.sent,
    'accepted by the server (copies)': f.serverAccepted,
    'dead-lettered: invalid': f.deadLettered.invalid,
    'dead-lettered: rejected': f.deadLettered.rejected,
    'dead-lettered: retries exhausted': f.deadLettered['retries-exhausted'],
    'dead-lettered twice': f.deadLetteredTwice,
    lost: f.lost.length,
    'good mail dead-lettered after maxReceiveCount': f.goodRetriesExhausted,
    'misrouted (wrong DLQ class, bad mail sent)': f.misrouted.length,
    'sent twice': f.sentTwice,
    'sent twice, inside the documented window': f.sentTwiceInWindow,
    'sent twice, outside the window': f.sentTwiceOutsideWindow.length,
    'sent but never recorded by the ledger': f.sentUnrecorded.length,
    'time to drain (s)': f.drained ? f.drainSeconds : `not drained after ${f.drainSeconds}`,
    'faults injected': faults,
    'invocations / cold starts / timeouts / kills': `${f.sandboxes.invocations} / ${f.sandboxes.coldStarts} / ${f.sandboxes.timeouts} / ${f.sandboxes.kills}`,
    'server throttling, not scripted (SMTP 421 4.4.2, Graph 429)': f.serverRateLimited,
    'receives per message': f.receivesPerMessage,
    'DynamoDB calls per sent message (ledger / rate)': `${f.dynamoCallsPerSent.ledger} / ${f.dynamoCallsPerSent.rate}`,
    '432 concurrent-connection replies': f.concurrencyRefused,
    'circuit breaker pauses (main queue)': f.pauses,
    ...outageRows(f.configOutage),
  };
}

/** The configuration outage's rows: its dead letters (must be 0), and what it took. */
function outageRows(o: ConfigOutageFigures | undefined): Record<string, string | number> {
  if (!o) return { 'dead-lettered during configuration outage': 'not run' };
  const paused = o.pausedAfterMs === undefined ? 'never' : `${o.pausedAfterMs} ms`;
  const fixed = o.sentAfterFixMs === undefined ? 'not all' : `all in ${o.sentAfterFixMs} ms`;
  return {
    'dead-lettered during configuration outage': o.deadLettered,
    'configuration outage (maxReceiveCount 5)': `${o.messages} messages, ${o.consumers} sandboxes; SMTP AUTH off ${o.outageMs} ms (> five back-offs, ${o.fiveBackoffsMs} ms); paused after ${paused}; sent after the fix ${o.sent} (${fixed}); most extra receives ${o.mostExtraReceives}`,
  };
}
