/**
 * A TCP relay on 127.0.0.1 in front of the SMTP emulator, standing in for the network between a
 * Lambda and Exchange: it can drop the connections that go through it, the way Exchange (or a NAT)
 * drops an idle session. TLS is end to end (STARTTLS passes through untouched), so the sender still
 * verifies the emulator's certificate.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  host: '127.0.0.1';
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Closes every open connection now, both ways (the client sees its idle session end). */
  dropAll(): void;
  /**
   * The open connections die silently: the client notices only when it next writes, and then
   * gets a reset. This is what a sender whose sandbox was frozen finds when it thaws.
   */
  dropSilently(): void;
  /** The open connections stop carrying anything, with no reset either (a dead NAT mapping). */
  blackhole(): void;
  stop(): Promise<void>;
}

export async function startTcpRelay(target: { host: string; port: number }): Promise<TcpRelay> {
  const pairs = new Set<{ client: Socket; server: Socket }>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    const pair = { client, server: upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    get accepted() {
      return accepted;
    },
    dropAll() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
    },
    dropSilently() {
      for (const pair of pairs) {
        // The server side goes now; the client side stays open, unread, until the client writes.
        pair.client.unpipe(pair.server);
        pair.server.unpipe(pair.client);
        pair.server.removeAllListeners('close');
        pair.server.on('error', () => undefined);
        pair.server.destroy();
        pair.client.once('data', () => pair.client.resetAndDestroy());
        // unpipe paused it; a paused socket would never see the write.
        pair.client.resume();
      }
    },
    blackhole() {
      for (const pair of pairs) {
        pair.client.unpipe(pair.server);
        pair.server.unpipe(pair.client);
        // Read and drop, so nothing backs up and nothing is answered.
        pair.client.on('data', () => undefined);
        pair.client.resume();
      }
    },
    stop() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
