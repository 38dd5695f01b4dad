/**
 * Promise wrappers around nodemailer's callback-style SMTPConnection steps (connect, AUTH, and for
 * the doctor's test message send and QUIT), so the callers read as a sequence. Each settles exactly
 * once, also when the connection fails through its `error` event instead of the callback.
 */

import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection/index.js';
import type XOAuth2 from 'nodemailer/lib/xoauth2/index.js';
import type { ComposedMime, TokenProvider } from '../../types.ts';

/** Runs `start(done)` and settles with its result, or with the connection's `error`/`end`. */
function settle<T>(
  conn: SMTPConnection,
  start: (done: (err: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let finished = false;
    const finish = (err: unknown, value?: T) => {
      if (finished) return;
      finished = true;
      conn.off('error', onError);
      conn.off('end', onEnd);
      if (err) reject(err);
      else resolve(value as T);
    };
    const onError = (err: Error) => finish(err);
    // nodemailer emits 'end' just before it hands the step its real error (e.g. the 421 that closed
    // the session): give that callback the first word.
    const onEnd = () =>
      setImmediate(() =>
        finish(
          Object.assign(new Error('Connection closed unexpectedly'), {
            code: 'ECONNECTION',
            command: 'CONN',
          }),
        ),
      );
    conn.once('error', onError);
    conn.once('end', onEnd);
    start(finish);
  });
}

/** TCP (+ TLS), greeting, EHLO and STARTTLS as configured. */
export function connect(conn: SMTPConnection): Promise<void> {
  return settle<void>(conn, (done) => conn.connect((err) => done(err)));
}

/** Authenticates with XOAUTH2; `renew` makes the first token a fresh one (after a refused token). */
export function loginOAuth2(
  conn: SMTPConnection,
  user: string,
  tokens: TokenProvider,
  renew: boolean,
): Promise<void> {
  let forceRenew = renew;
  // SMTPConnection asks its `oauth2` for two things only: a token (`getToken`, renew=true after a
  // 334 challenge) and the XOAUTH2 blob. nodemailer's XOAuth2 class is a whole OAuth2 client
  // (refresh tokens, service accounts, its own cache) of which this path would use neither: MSAL
  // owns the cache, so every login asks the provider. Answering those two calls here keeps that
  // class (5.6 KB) out of the Lambda bundle.
  const oauth2 = {
    getToken(renewRequested: boolean, callback: (err: Error | null, token?: string) => void) {
      const fresh = forceRenew || renewRequested;
      forceRenew = false;
      tokens.getAccessToken(fresh).then(
        (token) => callback(null, token),
        (err: Error) => callback(err),
      );
    },
    buildXOAuth2Token(accessToken: string): string {
      return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`, 'utf-8').toString(
        'base64',
      );
    },
  } as unknown as XOAuth2;
  return settle<void>(conn, (done) =>
    conn.login({ type: 'OAuth2', method: 'XOAUTH2', user, oauth2 }, (err) => done(err)),
  );
}

/** Authenticates with a password; nodemailer picks LOGIN or PLAIN from what the server offers. */
export function loginPassword(conn: SMTPConnection, user: string, pass: string): Promise<void> {
  return settle<void>(conn, (done) => conn.login({ user, pass }, (err) => done(err)));
}

export function sendMessage(
  conn: SMTPConnection,
  mime: ComposedMime,
): Promise<SMTPConnectionSendInfo> {
  return settle<SMTPConnectionSendInfo>(conn, (done) =>
    conn.send(
      { from: mime.envelope.from, to: mime.envelope.to, size: mime.raw.length },
      mime.raw,
      done,
    ),
  );
}

/** QUIT, then wait (briefly) for the server to close; never rejects. */
export function quit(conn: SMTPConnection, waitMs = 1_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      conn.close();
      resolve();
    }, waitMs);
    timer.unref();
    conn.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      conn.quit();
    } catch {
      conn.close();
    }
  });
}
