import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LatencyRelay, startLatencyRelay } from '../emulators/latency-relay.ts';
import { startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const SENDER = 'sender@contoso.test';

/**
 * A target whose connections the test drives by hand. Not half-open, like smtp-server: a FIN from
 * the client ends the connection.
 */
async function startTarget(): Promise<{ server: Server; port: number; next(): Promise<Socket> }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => {});
    accepted.push(socket);
    server.emit('accepted');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as { port: number }).port,
    async next() {
      while (accepted.length === 0) await once(server, 'accepted');
      return accepted.shift()!;
    },
  };
}

async function openClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Everything `socket` receives until it ends. */
async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

const closeEvent = (socket: Socket) =>
  socket.closed ? Promise.resolve() : once(socket, 'close').then(() => {});

describe('latency relay', () => {
  let target: Awaited<ReturnType<typeof startTarget>>;
  let relay: LatencyRelay;

  beforeAll(async () => {
    target = await startTarget();
    relay = await startLatencyRelay({ targetPort: target.port, latencyMs: 2 });
  });
  afterAll(async () => {
    await relay.stop();
    target.server.close();
  });

  it('passes bytes both ways unchanged and in order, FINs included', async () => {
    const client = await openClient(relay.port);
    const upstream = await target.next();
    // Every byte value, in many writes, more than one socket buffer's worth each way.
    const toServer = Array.from({ length: 64 }, () => randomBytes(16 * 1024));
    const toClient = Array.from({ length: 64 }, () => randomBytes(16 * 1024));
    const atServer = readAll(upstream);
    const atClient = readAll(client);
    for (const chunk of toServer) client.write(chunk);
    client.end();
    for (const chunk of toClient) upstream.write(chunk);
    upstream.end();
    expect((await atServer).equals(Buffer.concat(toServer))).toBe(true);
    expect((await atClient).equals(Buffer.concat(toClient))).toBe(true);
    await Promise.all([closeEvent(client), closeEvent(upstream)]);
  });

  it("delivers the server's reply to a half-closed client, then its FIN", async () => {
    const client = await openClient(relay.port);
    const upstream = await target.next();
    const atClient = readAll(client);
    // As a client that sends QUIT and closes its side at once, and a server that answers and closes.
    upstream.once('data', () => upstream.end('221 bye\r\n'));
    client.end('QUIT\r\n');
    expect((await atClient).toString()).toBe('221 bye\r\n');
    await Promise.all([closeEvent(client), closeEvent(upstream)]);
  });

  it("closes the server's side when the client goes away", async () => {
    const client = await openClient(relay.port);
    const upstream = await target.next();
    client.destroy();
    await closeEvent(upstream);
  });

  it("closes the client's side when the server goes away", async () => {
    const client = await openClient(relay.port);
    const upstream = await target.next();
    upstream.destroy();
    await closeEvent(client);
  });

  it('passes a reset on, both ways', async () => {
    const client = await openClient(relay.port);
    const upstream = await target.next();
    const clientError = once(client, 'error');
    upstream.resetAndDestroy();
    expect((await clientError)[0]).toMatchObject({ code: 'ECONNRESET' });

    const client2 = await openClient(relay.port);
    const upstream2 = await target.next();
    const serverError = once(upstream2, 'error');
    client2.resetAndDestroy();
    expect((await serverError)[0]).toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('latency relay in front of the Office 365 emulator', () => {
  let tokens: TokenEndpoint;

  beforeAll(async () => {
    tokens = await startTokenEndpoint();
  });
  afterAll(async () => {
    await tokens.stop();
  });

  it('does not hold the server back: pipelined commands are all answered before any reply is released', async () => {
    const smtp = await startOffice365Smtp({ tokenEndpoint: tokens });
    // Far longer than the test, so nothing can be released while it runs.
    const relay = await startLatencyRelay({ targetPort: smtp.port, latencyMs: 600_000 });
    let held = '';
    relay.events.on('held', (chunk) => {
      held += chunk.toString();
    });
    const answeredAll = new Promise<void>((resolve) => {
      relay.events.on('held', () => {
        // Greeting, EHLO, MAIL (451: no TLS), RCPT and DATA (503: no sender).
        if ((held.match(/^\d{3} /gm) ?? []).length >= 5) resolve();
      });
    });
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const client = await openClient(relay.port);
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    client.write(
      'EHLO client.test\r\nMAIL FROM:<a@contoso.test>\r\nRCPT TO:<b@fabrikam.test>\r\nDATA\r\n',
    );
    await answeredAll;
    expect(smtp.stats.commands).toMatchObject({ EHLO: 1, MAIL: 1, RCPT: 1, DATA: 1 });
    expect(held).toMatch(
      /^220 .*\r\n250-.*\r\n(250-.*\r\n)*250 .*\r\n451 .*STARTTLS.*\r\n503 .*\r\n503 .*\r\n$/,
    );
    expect(received).toBe(0);

    // stop() with a connection open and its replies still held: everything closes, no timer stays.
    await relay.stop();
    await closeEvent(client);
    expect(received).toBe(0);
    expect(relay.openConnections).toBe(0);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    await smtp.waitForOpenConnections(0);
    await smtp.stop();
  });

  describe('networkLatencyMs', () => {
    it('sends through STARTTLS, XOAUTH2 and a pipelined envelope; counters stay the server’s', async () => {
      const smtp = await startOffice365Smtp({ tokenEndpoint: tokens, networkLatencyMs: 2 });
      const transport = createTransport({
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        requireTLS: true,
        tls: { servername: 'localhost' },
        auth: { type: 'OAuth2', user: SENDER, accessToken: await tokens.issueToken() },
        pool: true,
        maxConnections: 1,
      });
      try {
        for (const n of [1, 2]) {
          const info = await transport.sendMail({
            from: SENDER,
            to: ['a@fabrikam.test', 'b@fabrikam.test'],
            subject: `through the relay ${n}`,
            text: 'hello',
          });
          expect(info.response).toMatch(/^250 2\.0\.0 OK </);
        }
        const messages = await smtp.waitForMessages(2);
        expect(messages.map((m) => m.subject)).toEqual([
          'through the relay 1',
          'through the relay 2',
        ]);
        expect(smtp.stats).toMatchObject({
          connections: 1,
          tlsHandshakes: 1,
          authSuccesses: 1,
          messages: 2,
        });
        expect(smtp.stats.commands).toMatchObject({ MAIL: 2, RCPT: 4, DATA: 2 });
        // The pooled session is still open here: stop() must close it through the relay.
        expect(smtp.openConnections).toBe(1);
      } finally {
        await smtp.stop();
        transport.close();
      }
      await smtp.waitForOpenConnections(0);
    });
  });
});
