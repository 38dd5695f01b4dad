/**
 * The Graph emulator itself, over raw HTTPS: the token checks a real Graph makes, and the refusals
 * the sender's tests rely on (413, invalid base64, upload sessions under 3 MB, bearer tokens on
 * upload URLs).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GraphEmulator, startGraphEmulator } from '../emulators/graph-emulator.ts';
import {
  MAIL_SEND_ROLE,
  startTokenEndpoint,
  type TokenEndpoint,
} from '../emulators/token-endpoint.ts';

const MAILBOX = 'mailer@contoso.com';
let entra: TokenEndpoint;
let graph: GraphEmulator;

beforeAll(async () => {
  entra = await startTokenEndpoint();
  graph = await startGraphEmulator({
    tokenEndpoint: entra,
    rbac: { 'test-client': { mailSend: [MAILBOX], mailReadWrite: [MAILBOX] } },
  });
});
afterAll(async () => {
  await graph.stop();
  await entra.stop();
});
beforeEach(() => graph.reset());

const MIME = Buffer.from(
  'From: mailer@contoso.com\r\nTo: ann@example.com\r\nSubject: hi\r\nMessage-ID: <m1@contoso.com>\r\n\r\nhello\r\n',
);

async function post(path: string, body: string, token?: string, type = 'text/plain') {
  const response = await fetch(`${graph.endpoint}/v1.0/users/${MAILBOX}${path}`, {
    method: 'POST',
    headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

const graphToken = (claims: Record<string, unknown> = {}) =>
  entra.issueToken({ aud: graph.endpoint, roles: [], ...claims });

describe('Graph emulator: tokens', () => {
  it('accepts a token for its own host and tenant, and stores the decoded MIME', async () => {
    const answer = await post('/sendMail', MIME.toString('base64'), await graphToken());
    expect(answer.status).toBe(202);
    expect(answer.headers.get('request-id')).toEqual(expect.any(String));
    expect(graph.messages[0]).toMatchObject({
      mailbox: MAILBOX,
      appId: 'test-client',
      messageId: '<m1@contoso.com>',
    });
    expect(graph.messages[0]?.raw.equals(MIME)).toBe(true);
  });

  it.each([
    ['no token', undefined, 'Access token is empty.'],
    ['another audience', { aud: 'https://outlook.office365.com' }, 'Invalid audience'],
    ['another tenant', { tid: 'other-tenant' }, 'Invalid tenant'],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }, 'expired'],
  ])('refuses %s with 401 InvalidAuthenticationToken', async (_what, claims, message) => {
    const token = claims === undefined ? undefined : await graphToken(claims);
    const answer = await post('/sendMail', MIME.toString('base64'), token);
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: expect.stringContaining(message),
    });
    expect(graph.messages).toEqual([]);
  });

  it('refuses a mailbox outside the RBAC scope unless Mail.Send is consented tenant-wide', async () => {
    const other = `${graph.endpoint}/v1.0/users/someone@contoso.com/sendMail`;
    const send = async (roles: string[]) =>
      (
        await fetch(other, {
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            authorization: `Bearer ${await graphToken({ roles })}`,
          },
          body: Buffer.from(MIME.toString().replace('From: mailer@', 'From: someone@')).toString(
            'base64',
          ),
        })
      ).status;
    expect(await send([])).toBe(403);
    expect(await send([MAIL_SEND_ROLE])).toBe(202);
  });
});

describe('Graph emulator: refusals', () => {
  it('answers 413 to a body over 4 MB', async () => {
    const answer = await post('/sendMail', 'A'.repeat(4 * 1024 * 1024 + 4), await graphToken());
    expect(answer.status).toBe(413);
    expect(graph.stats.tooLarge).toBe(1);
  });

  it('answers 400 ErrorMimeContentInvalidBase64String to a body that is not base64', async () => {
    const answer = await post('/sendMail', MIME.toString('utf8'), await graphToken());
    expect(answer).toMatchObject({
      status: 400,
      body: { error: { code: 'ErrorMimeContentInvalidBase64String' } },
    });
  });

  it('refuses an upload session for less than 3 MB, and a bearer token on an upload URL', async () => {
    const token = await graphToken();
    const draft = await post('/messages', MIME.toString('base64'), token);
    expect(draft.status).toBe(201);
    const session = (size: number) =>
      post(
        `/messages/${draft.body.id}/attachments/createUploadSession`,
        JSON.stringify({ AttachmentItem: { attachmentType: 'file', name: 'a.bin', size } }),
        token,
        'application/json',
      );
    expect((await session(1_000)).body.error.code).toBe(
      'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize',
    );
    const created = await session(3 * 1024 * 1024);
    expect(created.status).toBe(201);
    const put = await fetch(created.body.uploadUrl, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-range': 'bytes 0-9/3145728' },
      body: Buffer.alloc(10),
    });
    expect(put.status).toBe(401);
  });
});
