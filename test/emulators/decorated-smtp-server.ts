import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/**
 * smtp-server creates each connection inside `connect()` and writes the greeting right after;
 * overriding it is the one place to change a connection (reply wording, EHLO list) before it
 * speaks. The body mirrors `SMTPServer.prototype.connect` of smtp-server 3.21.
 */
export class DecoratedSmtpServer extends SMTPServer {
  /** Called with each new connection before `init()`. */
  decorate: (connection: SMTPConnection) => void = () => {};

  override connect(
    socket: Socket,
    socketOptions?: ConstructorParameters<typeof SMTPConnection>[2],
  ): void {
    const connection = new SMTPConnection(this, socket, socketOptions ?? undefined);
    this.decorate(connection);
    this.connections.add(connection);
    connection.on('error', (err: Error) => this._onError(err));
    connection.on('connect', (data: unknown) => this.emit('connect', data));
    connection.init();
  }
}
