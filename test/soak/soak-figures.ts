/**
 * What a soak run proves, from what the servers saw: the SMTP or Graph emulator's accepted messages
 * (and whom each went to), the DLQ's contents and the ledger writes seen by dynalite.
 *
 * Everything is counted per recipient: a message may reach its recipients in several copies (some
 * refused for now get it later), so "sent twice" means some recipient got it twice. A duplicate is
 * "inside the documented window" when every copy to that recipient left the client (end of DATA)
 * before the ledger first recorded that recipient as served: the server accepted a copy whose 250
 * never became a ledger entry (the sandbox died after the 250, or the 250 never arrived). A copy
 * sent after that would be a ledger bug, counted as "outside the window".
 */
import { ledgerKeyOf } from '../../lib/delivery/failure-recipients.ts';
import type { ConfigOutageFigures } from './config-outage.ts';
import type { SandboxStats } from './lambda-sandboxes.ts';
import type { FaultKind } from './soak-faults.ts';
import type { SoakKind, SoakMessage } from './soak-messages.ts';

export type DeadLetterClass = 'invalid' | 'rejected' | 'retries-exhausted';
export type ExtraFault = 'killed-after-250' | 'died-before-ack';

/** One copy the server accepted: when it finished at the client, and whom it went to. */
export interface SoakDelivery {
  at: number;
  recipients: readonly string[];
}

/** What the ledger was told about one key of a mail id (`<id>` or `<id>/<digest>`). */
export interface LedgerWrite {
  key: string;
  at: number;
  /** `settle`: the verdict text (JSON), e.g. a split message's `accepted` recipients. */
  verdict?: string;
}

/** One DLQ copy: its class, and the recipients it names (`FailureRecipients`; all when absent). */
export interface DeadLetterCopy {
  cls: DeadLetterClass;
  recipients?: readonly string[];
}

export interface SoakObservations {
  messages: SoakMessage[];
  /** Per mail id: each accepted copy. */
  deliveries: Map<string, SoakDelivery[]>;
  /** Per mail id: the ledger's `complete` (no verdict) and `settle` writes, in order. */
  ledgerWrites: Map<string, LedgerWrite[]>;
  /** Per mail id: each DLQ copy. */
  deadLetters: Map<string, DeadLetterCopy[]>;
  faults: Partial<Record<FaultKind | ExtraFault, number>>;
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
  /**
   * `<id> <recipient>` for every recipient that neither got the message nor is named by a dead
   * letter: a recipient the server refused for now and nobody sent it to later.
   */
  recipientsDropped: string[];
  /** Messages that some recipient got more than once. */
  sentTwice: number;
  sentTwiceInWindow: number;
  sentTwiceOutsideWindow: string[];
  /**
   * Sent ids the ledger never recorded. Must be empty: it proves the ledger took part, so the
   * window classification above (which trusts its records) means something.
   */
  sentUnrecorded: string[];
  /**
   * Messages the server accepted whose sender never learnt it (killed right after the 250, or the
   * answer came after its timeout), which then spent every receive and were dead-lettered by SQS
   * before a later attempt got through. Delivered, and in the DLQ as well: a redrive sends them
   * again. The ledger could not record them (nobody alive knew), so they are not "unrecorded".
   */
  sentThenExhausted: string[];
  deadLetteredTwice: number;
  drainSeconds: number;
  drained: boolean;
  faults: Partial<Record<FaultKind | ExtraFault, number>>;
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
    'partly-rejected': 0,
  };
  const deadLettered: Record<DeadLetterClass, number> = {
    invalid: 0,
    rejected: 0,
    'retries-exhausted': 0,
  };
  const misrouted: string[] = [];
  const lost: string[] = [];
  const dropped: string[] = [];
  const outside: string[] = [];
  let inWindow = 0;
  let sentTwice = 0;
  let deadLetteredTwice = 0;
  let goodRetriesExhausted = 0;
  const unrecorded: string[] = [];
  const sentThenExhausted: string[] = [];
  for (const m of o.messages) {
    byKind[m.kind]++;
    const copies = o.deliveries.get(m.key) ?? [];
    const dead = o.deadLetters.get(m.key) ?? [];
    if (dead.length > 0) deadLettered[dead[0]!.cls]++;
    if (namedTwice(dead, m.recipients)) deadLetteredTwice++;
    if (copies.length === 0 && dead.length === 0) lost.push(m.key);
    const received = receivedBy(copies);
    const named = new Set(dead.flatMap((d) => d.recipients ?? m.recipients));
    for (const r of m.recipients) {
      if (!received.has(r) && !named.has(r)) dropped.push(`${m.key} ${r}`);
    }
    const good = m.kind === 'good';
    const sendable = good || m.kind === 'partly-rejected';
    const wrongClass = sendable && dead.some((d) => d.cls === 'invalid');
    const wrongGood = good && dead.some((d) => d.cls === 'rejected');
    if (wrongClass || wrongGood || (!sendable && copies.length > 0)) {
      misrouted.push(`${m.key} (${m.kind})`);
    }
    if (good && copies.length === 0 && dead.length > 0) goodRetriesExhausted++;
    const recordedAt = recordTimes(m, o.ledgerWrites.get(m.key) ?? []);
    if ([...received.keys()].some((r) => !recordedAt.has(r))) {
      const exhausted = dead.some((d) => d.cls === 'retries-exhausted');
      (exhausted ? sentThenExhausted : unrecorded).push(m.key);
    }
    const twice = [...received].filter(([, at]) => at.length > 1);
    if (twice.length > 0) {
      sentTwice++;
      const window = twice.every(([r, at]) => at.every((t) => t <= (recordedAt.get(r) ?? 0)));
      if (window) inWindow++;
      else outside.push(m.key);
    }
  }
  const sentKeys = o.messages.filter(
    (m) => m.kind === 'good' && (o.deliveries.get(m.key)?.length ?? 0) > 0,
  );
  const sent = sentKeys.length;
  return {
    messages: o.messages.length,
    byKind,
    sent,
    serverAccepted: [...o.deliveries.values()].reduce((n, c) => n + c.length, 0),
    deadLettered,
    misrouted,
    goodRetriesExhausted,
    lost,
    recipientsDropped: dropped,
    sentTwice,
    sentTwiceInWindow: inWindow,
    sentTwiceOutsideWindow: outside,
    sentUnrecorded: unrecorded,
    sentThenExhausted,
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

/** Per recipient (lower case): when each copy it got finished at the client. */
function receivedBy(copies: readonly SoakDelivery[]): Map<string, number[]> {
  const byRecipient = new Map<string, number[]>();
  for (const copy of copies) {
    for (const r of copy.recipients) {
      const key = r.toLowerCase();
      byRecipient.set(key, [...(byRecipient.get(key) ?? []), copy.at]);
    }
  }
  return byRecipient;
}

/** True when some recipient is named by more than one dead letter (a repeated DLQ move). */
function namedTwice(dead: readonly DeadLetterCopy[], all: readonly string[]): boolean {
  const seen = new Set<string>();
  for (const d of dead) {
    for (const r of d.recipients ?? all) {
      if (seen.has(r)) return true;
      seen.add(r);
    }
  }
  return false;
}

/**
 * When the ledger first knew each recipient had the message. A `complete` covers the recipients
 * its key stands for (the whole message for `<id>`, the narrowed set for `<id>/<digest>`), unless
 * the key first held a split verdict, whose `accepted` recipients it then covers; a `settle` of a
 * split verdict covers its `accepted` recipients at once.
 */
function recordTimes(m: SoakMessage, writes: readonly LedgerWrite[]): Map<string, number> {
  const keyRecipients = new Map<string, readonly string[]>([[m.key, m.recipients]]);
  for (const subset of subsets(m.recipients)) keyRecipients.set(ledgerKeyOf(m.key, subset), subset);
  const splitAccepted = new Map<string, string[]>();
  const recorded = new Map<string, number>();
  const cover = (recipients: readonly string[], at: number) => {
    for (const r of recipients) {
      const key = r.toLowerCase();
      recorded.set(key, Math.min(at, recorded.get(key) ?? Number.POSITIVE_INFINITY));
    }
  };
  for (const w of [...writes].sort((a, b) => a.at - b.at)) {
    if (w.verdict === undefined) {
      cover(splitAccepted.get(w.key) ?? keyRecipients.get(w.key) ?? [], w.at);
      continue;
    }
    const verdict = JSON.parse(w.verdict) as { kind: string; accepted?: string[] };
    if (verdict.kind !== 'partial') continue;
    splitAccepted.set(w.key, verdict.accepted ?? []);
    cover(verdict.accepted ?? [], w.at);
  }
  return recorded;
}

/** Every non-empty subset (the recipient sets a narrowed copy can be for). */
function subsets(items: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) {
    out.push(items.filter((_, i) => mask & (1 << i)));
  }
  return out;
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
    'recipients dropped': f.recipientsDropped.length,
    'good mail dead-lettered after maxReceiveCount': f.goodRetriesExhausted,
    'misrouted (wrong DLQ class, bad mail sent)': f.misrouted.length,
    'sent twice (to some recipient)': f.sentTwice,
    'sent twice, inside the documented window': f.sentTwiceInWindow,
    'sent twice, outside the window': f.sentTwiceOutsideWindow.length,
    'sent but never recorded by the ledger': f.sentUnrecorded.length,
    'sent, answer lost, then dead-lettered after maxReceiveCount': f.sentThenExhausted.length,
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
