/**
 * The Graph session against the Graph emulator, with real tokens from the token endpoint through
 * MSAL: what Graph receives (the SMTP path's MIME, byte for byte, plus a Bcc header), and how each
 * kind of answer becomes one of the five outcomes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { GraphSettings, OAuthSettings } from '../../lib/config/sender-config.ts';
import { composeMime } from '../../lib/delivery/compose-mime.ts';
import { GraphSession } from '../../lib/transport/graph/graph-session.ts';
import type { ComposedMime, TokenProvider } from '../../lib/types.ts';
import { type GraphEmulator, startGraphEmulator } from '../emulators/graph-emulator.ts';
import {
  MAIL_SEND_ROLE,
  rolesPerResource,
  SMTP_SEND_AS_APP_ROLE,
  startTokenEndpoint,
  type TokenEndpoint,
} from '../emulators/token-endpoint.ts';

const SENDER = 'mailer@contoso.com';
const OUTSIDE_SCOPE = 'ceo@contoso.com';

let entra: TokenEndpoint;
let graph: GraphEmulator;

beforeAll(async () => {
  entra = await startTokenEndpoint({
    clients: {
      // Granted through RBAC for Applications: nothing in the Graph token, Exchange knows.
      'test-client': {
        secret: 'test-secret',
        rolesFor: rolesPerResource([SMTP_SEND_AS_APP_ROLE], []),
      },
      // Mail.Send consented tenant-wide in Entra: the role rides in the token.
      'consented-client': {
        secret: 'test-secret',
        rolesFor: rolesPerResource([], [MAIL_SEND_ROLE]),
      },
    },
  });
  graph = await startGraphEmulator({
    tokenEndpoint: entra,
    mailboxes: { [SENDER]: { sendAs: ['alerts@contoso.com'] }, [OUTSIDE_SCOPE]: {} },
    rbac: { 'test-client': { mailSend: [SENDER], mailReadWrite: [SENDER] } },
  });
});
afterAll(async () => {
  await graph.stop();
  await entra.stop();
});
beforeEach(() => {
  graph.reset();
  clearTokenProviderCache();
});

function oauth(clientId = 'test-client'): OAuthSettings {
  return {
    tenantId: entra.tenantId,
    clientId,
    authorityHost: entra.authorityHost,
    scope: `${graph.endpoint}/.default`,
    clientSecret: 'test-secret',
  };
}

function session(
  settings: Partial<GraphSettings> = {},
  options: { sender?: string; tokenProvider?: TokenProvider; clientId?: string } = {},
): GraphSession {
  return new GraphSession({
    settings: {
      endpoint: graph.endpoint,
      saveToSentItems: true,
      largeMessages: 'reject',
      timeoutMs: 5_000,
      ...settings,
    },
    sender: options.sender ?? SENDER,
    tokenProvider: options.tokenProvider ?? createTokenProvider(oauth(options.clientId)),
  });
}

function mime(extra: Record<string, unknown> = {}): Promise<ComposedMime> {
  return composeMime({
    from: SENDER,
    to: ['ann@example.com'],
    subject: 'Hello',
    text: 'Hi Ann',
    messageId: '<fixed-1@contoso.com>',
    ...extra,
  });
}

describe('GraphSession: what Graph receives', () => {
  it('sends the exact MIME of the SMTP path, with Bcc recipients in a Bcc header', async () => {
    const composed = await mime({
      cc: ['carol@example.com'],
      bcc: ['audit@example.com', 'dave@example.com'],
    });
    const outcome = await session().send(composed);

    expect(outcome).toMatchObject({ kind: 'sent', response: '202 Accepted' });
    const [received] = graph.messages;
    expect(received?.route).toBe('sendMail');
    expect(received?.messageId).toBe('<fixed-1@contoso.com>');
    expect(received?.recipients.sort()).toEqual(
      ['ann@example.com', 'audit@example.com', 'carol@example.com', 'dave@example.com'].sort(),
    );
    expect(received?.bcc).toEqual(['audit@example.com', 'dave@example.com']);
    // Everything after the Bcc header is the SMTP path's bytes.
    const raw = received!.raw.toString('utf8');
    expect(raw.startsWith('Bcc: audit@example.com, dave@example.com\r\n')).toBe(true);
    expect(raw.slice(raw.indexOf('\r\n') + 2)).toBe(composed.raw.toString('utf8'));
    expect(received?.savedToSentItems).toBe(true);
  });

  it('sends nothing for a message narrowed to some of its recipients: Graph would reach them all', async () => {
    const composed = await mime({ to: ['ann@example.com', 'bob@example.com'] });
    const narrowed = {
      ...composed,
      envelope: { ...composed.envelope, to: ['bob@example.com'], narrowed: true },
    };
    expect(await session().send(narrowed)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('MAIL_TRANSPORT=smtp'),
    });
    expect(graph.messages).toEqual([]);
  });

  it('sends a message without Bcc byte for byte as composed', async () => {
    const composed = await mime();
    await session().send(composed);
    expect(graph.messages[0]?.raw.equals(composed.raw)).toBe(true);
  });

  it('keeps a message out of Sent Items through a draft marked delete-after-submit', async () => {
    const outcome = await session({ saveToSentItems: false }).send(await mime());
    expect(outcome).toMatchObject({ kind: 'sent', response: '202 Accepted (draft sent)' });
    expect(graph.messages[0]).toMatchObject({ route: 'draft', savedToSentItems: false });
    expect(graph.drafts).toBe(0);
  });
});

describe('GraphSession: answers become outcomes', () => {
  it('dead-letters a message with an invalid recipient (400) and goes on with the next', async () => {
    graph.rejectRecipient('nobody@example.com');
    const s = session();
    const refused = await s.send(await mime({ to: ['nobody@example.com'] }));
    expect(refused).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(
        /^Invalid recipients \(sendMail\): 400 ErrorInvalidRecipients: /,
      ),
      reply: { code: 400, command: 'sendMail' },
    });
    expect(await s.send(await mime())).toMatchObject({ kind: 'sent' });
    expect(graph.messages).toHaveLength(1);
  });

  it('dead-letters a From the mailbox may not send as (403 ErrorSendAsDenied) as rejected', async () => {
    const outcome = await session().send(await mime({ from: 'billing@contoso.com' }));
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('ErrorSendAsDenied'),
    });
    expect((await session().send(await mime({ from: 'alerts@contoso.com' }))).kind).toBe('sent');
  });

  it('stops the batch on a mailbox outside the RBAC scope (403) with the RBAC commands as the fix', async () => {
    const s = session({}, { sender: OUTSIDE_SCOPE });
    const first = await s.send(await mime({ from: OUTSIDE_SCOPE }));
    expect(first).toMatchObject({
      kind: 'config',
      reason: expect.stringContaining('403 ErrorAccessDenied'),
      fix: expect.stringContaining(
        'New-ManagementRoleAssignment -App <O365_CLIENT_ID> -Role "Application Mail.Send" -CustomResourceScope',
      ),
    });
    expect(first.kind === 'config' && first.fix).toMatch(
      /tenant-wide consent .* restricts nothing/,
    );
    const requests = graph.stats.requests;
    expect(await s.send(await mime({ from: OUTSIDE_SCOPE }))).toEqual(first);
    expect(graph.stats.requests).toBe(requests);
  });

  it('lets an app with tenant-wide Mail.Send consent send as any mailbox: the scope restricts nothing', async () => {
    const outcome = await session({}, { sender: OUTSIDE_SCOPE, clientId: 'consented-client' }).send(
      await mime({ from: OUTSIDE_SCOPE }),
    );
    expect(outcome.kind).toBe('sent');
  });

  it('treats an unknown mailbox (404 ErrorInvalidUser) as a configuration error', async () => {
    const outcome = await session({}, { sender: 'ghost@contoso.com' }).send(
      await mime({ from: 'ghost@contoso.com' }),
    );
    expect(outcome).toMatchObject({
      kind: 'config',
      reason: expect.stringContaining('ErrorInvalidUser'),
    });
  });

  it('renews a refused token once, then stops the batch (401)', async () => {
    let asked = 0;
    const wrongAudience = {
      getAccessToken: async () => {
        asked++;
        return entra.issueToken({ aud: 'https://graph.microsoft.com' });
      },
    };
    const outcome = await session({}, { tokenProvider: wrongAudience }).send(await mime());
    expect(outcome).toMatchObject({
      kind: 'config',
      reason: expect.stringContaining('401 InvalidAuthenticationToken'),
      fix: expect.stringContaining('O365_GRAPH_ENDPOINT'),
    });
    expect(asked).toBe(2);
    expect(graph.stats.tokenRefusals).toBe(2);
  });

  it('a token endpoint that refuses the app is a configuration error', async () => {
    const provider = createTokenProvider({ ...oauth(), clientSecret: 'wrong' });
    expect(await session({}, { tokenProvider: provider }).send(await mime())).toMatchObject({
      kind: 'config',
      reason: expect.stringContaining('AADSTS7000215'),
    });
  });

  it('retries a 5xx, keeping Retry-After as the floor, and the session goes on', async () => {
    graph.failNext({
      status: 503,
      code: 'ServiceUnavailable',
      message: 'The service is temporarily unavailable.',
      headers: { 'retry-after': '7' },
    });
    const s = session();
    expect(await s.send(await mime())).toMatchObject({
      kind: 'retry',
      minDelaySeconds: 7,
      reply: { code: 503 },
    });
    expect((await s.send(await mime())).kind).toBe('sent');
  });

  it('answers a fifth concurrent request for the mailbox with 429 MailboxConcurrency, retried no earlier than Retry-After', async () => {
    const slow = await startGraphEmulator({
      tokenEndpoint: entra,
      rbac: { 'test-client': { mailSend: [SENDER] } },
      responseDelayMs: 300,
      retryAfterSeconds: 3,
    });
    try {
      const provider = createTokenProvider({ ...oauth(), scope: `${slow.endpoint}/.default` });
      await provider.getAccessToken();
      const sessions = Array.from(
        { length: 5 },
        () =>
          new GraphSession({
            settings: {
              endpoint: slow.endpoint,
              saveToSentItems: true,
              largeMessages: 'reject',
              timeoutMs: 5_000,
            },
            sender: SENDER,
            tokenProvider: provider,
          }),
      );
      const composed = await mime();
      const outcomes = await Promise.all(sessions.map((s) => s.send(composed)));
      expect(outcomes.filter((o) => o.kind === 'sent')).toHaveLength(4);
      const throttled = outcomes.find((o) => o.kind === 'retry');
      expect(throttled).toMatchObject({
        kind: 'retry',
        minDelaySeconds: 3,
        reason: expect.stringMatching(
          /^Too many parallel requests for the mailbox \(sendMail\): 429 ApplicationThrottled: Application is over its MailboxConcurrency limit/,
        ),
      });
      expect(slow.stats).toMatchObject({ throttled: 1, peakConcurrency: 4 });
      // The rest of that batch waits too: no request until Retry-After has passed.
      const held = sessions[outcomes.indexOf(throttled!)]!;
      const requests = slow.stats.requests;
      expect(await held.send(composed)).toEqual(throttled);
      expect(slow.stats.requests).toBe(requests);
    } finally {
      await slow.stop();
    }
  });

  it('retries when Graph does not answer in time; Graph may have accepted it meanwhile', async () => {
    graph.stallNext(2_000);
    const outcome = await session({ timeoutMs: 300 }).send(await mime());
    expect(outcome).toMatchObject({
      kind: 'retry',
      reason: expect.stringMatching(
        /^Graph did not answer in time \(sendMail\): no answer within 300 ms/,
      ),
    });
    expect(graph.messages).toHaveLength(1);
  });

  it('retries a connection reset before the answer', async () => {
    graph.dropNext();
    expect(await session().send(await mime())).toMatchObject({
      kind: 'retry',
      reason: expect.stringContaining('Could not reach Graph (sendMail)'),
    });
    expect(graph.messages).toHaveLength(0);
  });
});

describe("GraphSession: messages over sendMail's 4 MB", () => {
  const big = (bytes: number, name = 'big.bin') => ({
    filename: name,
    contentType: 'application/octet-stream',
    content: Buffer.alloc(bytes, 7),
  });

  it('dead-letters a message over the limit as rejected, with its size and the fix, without a request', async () => {
    const outcome = await session().send(await mime({ attachments: [big(3_500_000)] }));
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(
        /^Message too large for sendMail: the sendMail request would be 6\.\d MB \(a MIME of 4\.\d MB, base64-encoded\), over Graph's limit of about 4\.0 MB; not sent\. Fix: Set MAIL_GRAPH_LARGE_MESSAGES=upload/,
      ),
    });
    expect(graph.stats.requests).toBe(0);
  });

  it('sends it as a draft with an upload session under MAIL_GRAPH_LARGE_MESSAGES=upload', async () => {
    const large = big(5_000_000, 'report.pdf');
    const small = big(1_000, 'note.txt');
    const outcome = await session({ largeMessages: 'upload' }).send(
      await mime({ attachments: [large, small], bcc: ['audit@example.com'] }),
    );
    expect(outcome).toMatchObject({ kind: 'sent', response: '202 Accepted (draft sent)' });
    const [received] = graph.messages;
    expect(received).toMatchObject({
      route: 'draft',
      messageId: '<fixed-1@contoso.com>',
      bcc: ['audit@example.com'],
    });
    expect(received?.attachments.map((a) => [a.name, a.content.length])).toEqual([
      ['report.pdf', 5_000_000],
      ['note.txt', 1_000],
    ]);
    expect(received?.attachments[0]?.content.equals(large.content)).toBe(true);
    // 5,000,000 bytes in chunks of 12 × 320 KiB: two PUTs, the last one completes the upload.
    const chunks = graph.requests.filter((r) => r.startsWith('PUT /upload/'));
    expect(chunks.map((r) => r.split(' ').pop())).toEqual(['200', '201']);
    expect(graph.drafts).toBe(0);
  });

  it('stops the batch with the Mail.ReadWrite fix when the app may only send', async () => {
    const s = session(
      { largeMessages: 'upload' },
      { sender: OUTSIDE_SCOPE, clientId: 'consented-client' },
    );
    const outcome = await s.send(
      await mime({ from: OUTSIDE_SCOPE, attachments: [big(3_500_000)] }),
    );
    expect(outcome).toMatchObject({
      kind: 'config',
      reason: expect.stringMatching(
        /^No Mail\.ReadWrite for the draft route \(createDraft\): 403 ErrorAccessDenied/,
      ),
      fix: expect.stringContaining('Application Mail.ReadWrite'),
    });
  });
});
