/**
 * The connection cap across sandboxes: `DynamoDbConnectionLease` on dynalite, and kept SMTP
 * connections of several "sandboxes" (one `KeptSmtpConnections` each, as one per Lambda sandbox)
 * sharing it against the Office 365 emulator that refuses a mailbox's fourth connection with
 * `432 4.3.2 Concurrent connections limit exceeded`.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { SenderConfig } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { connectionLeaseFromEnv } from '../../lib/guards/connection-lease/connection-lease-from-env.ts';
import {
  DynamoDbConnectionLease,
  type DynamoDbConnectionLeaseOptions,
} from '../../lib/guards/connection-lease/dynamodb-connection-lease.ts';
import {
  KeptSmtpConnections,
  NoConnectionSlotError,
} from '../../lib/transport/smtp/kept-smtp-connections.ts';
import { SmtpSession } from '../../lib/transport/smtp/smtp-session.ts';
import type { SendOutcome } from '../../lib/types.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const MAILBOX = 'mailer@contoso.com';
let dynamo: DynamoDbEmulator;
let entra: TokenEndpoint;
let o365: Office365Smtp;
let table: string;
let tableNo = 0;
let clock: number;

beforeAll(async () => {
  [dynamo, entra] = await Promise.all([startDynamoDbEmulator(), startTokenEndpoint()]);
  o365 = await startOffice365Smtp({ tokenEndpoint: entra, connectionsPerMailbox: 3 });
});
afterAll(async () => {
  await o365.stop();
  await entra.stop();
  await dynamo.stop();
});
beforeEach(async () => {
  table = await dynamo.createTable(`lease-${++tableNo}`);
  clock = Date.UTC(2026, 10, 22, 9, 0, 0);
  o365.reset();
  clearTokenProviderCache();
});

/** A lease on the shared clock; its waits advance the clock instead of sleeping. */
function lease(options: Partial<DynamoDbConnectionLeaseOptions> = {}) {
  return new DynamoDbConnectionLease({
    client: dynamo.client,
    tableName: table,
    now: () => clock,
    sleep: async (ms) => {
      clock += Math.ceil(ms);
    },
    ...options,
  });
}

describe('DynamoDbConnectionLease against dynalite', () => {
  it('grants three slots, makes the fourth wait its full wait and then says how many are held', async () => {
    const l = lease({ maxWaitSeconds: 2 });
    for (const holder of ['a', 'b', 'c']) {
      expect(await l.acquire(MAILBOX, holder, 60_000)).toEqual({ ok: true });
    }
    const started = clock;
    expect(await l.acquire(MAILBOX, 'd', 60_000)).toEqual({ ok: false, inUse: 3, max: 3 });
    expect(clock - started).toBeGreaterThanOrEqual(2_000);
  });

  it('gives a released slot, and a lapsed one, to the next holder; the lapsed holder cannot renew', async () => {
    const l = lease({ maxWaitSeconds: 0 });
    await l.acquire(MAILBOX, 'a', 60_000);
    await l.acquire(MAILBOX, 'b', 10_000);
    await l.acquire(MAILBOX, 'c', 60_000);
    await l.release(MAILBOX, 'a');
    expect(await l.acquire(MAILBOX, 'd', 60_000)).toEqual({ ok: true });
    expect((await l.acquire(MAILBOX, 'e', 60_000)).ok).toBe(false);

    clock += 10_001;
    expect(await l.acquire(MAILBOX, 'e', 60_000)).toEqual({ ok: true });
    expect(await l.renew(MAILBOX, 'b', 60_000)).toEqual({ ok: false, wanted: false });
    expect(await l.renew(MAILBOX, 'c', 60_000)).toEqual({ ok: true, wanted: false });
  });

  it('counts mailboxes apart, whatever their case', async () => {
    const l = lease({ maxConnections: 1, maxWaitSeconds: 0 });
    expect((await l.acquire('One@Contoso.com', 'a', 60_000)).ok).toBe(true);
    expect((await l.acquire('one@contoso.com', 'b', 60_000)).ok).toBe(false);
    expect((await l.acquire('two@contoso.com', 'c', 60_000)).ok).toBe(true);
  });

  it('tells a holder that renews while someone waits for a slot, and only then', async () => {
    const holder = lease({ maxConnections: 1 });
    await holder.acquire(MAILBOX, 'a', 60_000);
    let seen: unknown;
    const waiter = lease({
      maxConnections: 1,
      maxWaitSeconds: 1,
      // The holder ends its batch while the waiter waits.
      sleep: async (ms) => {
        seen ??= await holder.renew(MAILBOX, 'a', 60_000);
        clock += Math.ceil(ms);
      },
    });
    expect((await waiter.acquire(MAILBOX, 'b', 60_000)).ok).toBe(false);
    expect(seen).toEqual({ ok: true, wanted: true });
    expect(await holder.renew(MAILBOX, 'a', 60_000)).toEqual({ ok: true, wanted: false });
  });

  it('never lets more than the cap hold at once when many race for the slots', async () => {
    const l = lease({ maxWaitSeconds: 0, now: Date.now, sleep: undefined });
    const grants = await Promise.all(
      Array.from({ length: 12 }, (_, i) => l.acquire(MAILBOX, `h${i}`, 60_000)),
    );
    expect(grants.filter((g) => g.ok)).toHaveLength(3);
  });

  it('is read from the environment: MAIL_STATE_TABLE and MAIL_MAX_CONNECTIONS (0 = no cap)', () => {
    const env = { MAIL_STATE_TABLE: table, MAIL_MAX_CONNECTIONS: '2' };
    const on = connectionLeaseFromEnv(env, dynamo.client);
    expect(on.ok && (on.lease as DynamoDbConnectionLease).maxConnections).toBe(2);
    const off = connectionLeaseFromEnv({ ...env, MAIL_MAX_CONNECTIONS: '0' }, dynamo.client);
    expect(off).toEqual({ ok: true });
    expect(connectionLeaseFromEnv({}, dynamo.client)).toEqual({ ok: true });
    expect(connectionLeaseFromEnv({ ...env, MAIL_MAX_CONNECTIONS: 'three' })).toEqual({
      ok: false,
      problems: ['MAIL_MAX_CONNECTIONS must be a whole number ≥ 0, got "three"'],
    });
  });
});

function config(): SenderConfig {
  return {
    dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
    sender: MAILBOX,
    allowedFrom: [MAILBOX],
    smtp: {
      host: o365.host,
      port: o365.port,
      tls: 'starttls',
      auth: 'oauth2',
      allowPlaintext: false,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      socketTimeoutMs: 5_000,
      keepAliveSeconds: 60,
    },
    oauth: {
      tenantId: entra.tenantId,
      clientId: 'test-client',
      authorityHost: entra.authorityHost,
      scope: 'https://outlook.office365.com/.default',
      clientSecret: 'test-secret',
    },
  };
}

/** One Lambda sandbox's kept connections, under the shared lease (real time, short waits). */
function sandbox(maxWaitSeconds: number) {
  const cfg = config();
  return new KeptSmtpConnections(cfg, createTokenProvider(cfg.oauth), {
    lease: lease({ maxWaitSeconds, now: Date.now, sleep: undefined, pollMs: 20 }),
  });
}

async function wantedUntil(): Promise<number> {
  const { Item } = await dynamo.client.send(
    new GetItemCommand({ TableName: table, Key: { id: { S: `lease#${MAILBOX}` } } }),
  );
  return Number(Item?.wantedUntil?.N ?? 0);
}

async function mime(i: number) {
  return composeMime({
    from: MAILBOX,
    to: [`reader-${i}@fabrikam.example`],
    subject: `lease ${i}`,
    text: 'hello',
    messageId: `<lease-${i}@contoso.com>`,
  });
}

describe('kept SMTP connections of six sandboxes under a cap of 3', () => {
  it('never opens a fourth connection: sandboxes without a slot get a retry, the server no 432', async () => {
    const sandboxes = Array.from({ length: 6 }, () => sandbox(0));
    try {
      const outcomes: SendOutcome[] = [];
      // Two rounds of one batch per sandbox, all at once; kept connections stay idle in between.
      for (let round = 0; round < 2; round++) {
        const sessions = sandboxes.map((s) => new SmtpSession(s));
        outcomes.push(
          ...(await Promise.all(sessions.map(async (s, i) => s.send(await mime(round * 6 + i))))),
        );
        await Promise.all(sessions.map((s) => s.close()));
      }
      const sent = outcomes.filter((o) => o.kind === 'sent');
      const retried = outcomes.filter((o) => o.kind === 'retry');
      expect(sent.length + retried.length).toBe(12);
      expect(sent.length).toBeGreaterThanOrEqual(6);
      expect(retried.every((o) => o.kind === 'retry' && /connections of/.test(o.reason))).toBe(
        true,
      );
      expect(o365.stats.concurrencyLimited).toBe(0);
      expect(o365.messages).toHaveLength(sent.length);
    } finally {
      await Promise.all(sandboxes.map((s) => s.close()));
    }
  });

  it('a sandbox that waits gets a slot: the holder about to keep its idle connection QUITs it instead', async () => {
    const holders = Array.from({ length: 3 }, () => sandbox(0));
    const waiter = sandbox(5);
    try {
      const held = await Promise.all(holders.map((h) => h.borrow()));
      const borrowing = waiter.borrow();
      // The first holder finishes its batch once the waiter has said it waits.
      await vi.waitFor(async () => expect(await wantedUntil()).toBeGreaterThan(Date.now()));
      await holders[0]!.giveBack(held[0]!);
      const got = await borrowing;
      expect(got.alive).toBe(true);
      expect(o365.stats.concurrencyLimited).toBe(0);
      await waiter.giveBack(got);
      await Promise.all(holders.slice(1).map((h, i) => h.giveBack(held[i + 1]!)));
    } finally {
      await Promise.all([...holders, waiter].map((s) => s.close()));
    }
  });

  it('refuses to open a connection when the lease store cannot be reached', async () => {
    const cfg = config();
    const broken = new KeptSmtpConnections(cfg, createTokenProvider(cfg.oauth), {
      lease: lease({ tableName: 'no-such-table' }),
    });
    await expect(broken.borrow()).rejects.toBeInstanceOf(NoConnectionSlotError);
    expect(o365.stats.connections).toBe(0);
  });
});
