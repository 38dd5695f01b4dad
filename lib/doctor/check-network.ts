import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import type { SmtpSettings } from '../config/sender-config.ts';
import { failed, failureFromError, ok, type StepFailure, type StepResult } from './doctor-step.ts';

/** Where a probe goes: the SMTP server, or the Graph host on 443. */
export type NetworkTarget = Pick<SmtpSettings, 'host' | 'port' | 'connectionTimeoutMs'>;
/** Puts a failed probe in the door's words (its failure table). */
export type ExplainFailure = (error: unknown) => StepFailure;

/** Step 2: the host name resolves. */
export async function checkDns(
  smtp: NetworkTarget,
  explain: ExplainFailure = failureFromError,
): Promise<StepResult> {
  if (isIP(smtp.host)) return ok('dns', [`${smtp.host} is an IP address; nothing to resolve`]);
  try {
    const addresses = await lookup(smtp.host, { all: true });
    return ok('dns', [`${smtp.host} → ${addresses.map((a) => a.address).join(', ')}`]);
  } catch (error) {
    // Shaped as nodemailer reports it, so the table's DNS rows recognise it.
    return failed('dns', explain(asNodemailerError(error, 'EDNS')));
  }
}

/** Step 3: a TCP connection to the port opens within the connection timeout. */
export async function checkTcp(
  smtp: NetworkTarget,
  explain: ExplainFailure = failureFromError,
): Promise<StepResult> {
  const started = Date.now();
  try {
    const remote = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: smtp.host, port: smtp.port });
      socket.setTimeout(smtp.connectionTimeoutMs, () => {
        socket.destroy();
        reject(
          Object.assign(new Error(`Connection timeout after ${smtp.connectionTimeoutMs} ms`), {
            code: 'ETIMEDOUT',
            command: 'CONN',
          }),
        );
      });
      socket.once('connect', () => {
        const address = `${socket.remoteAddress}:${socket.remotePort}`;
        socket.destroy();
        resolve(address);
      });
      socket.once('error', reject);
    });
    return ok('tcp', [`connected to ${remote} in ${Date.now() - started} ms`]);
  } catch (error) {
    return failed('tcp', explain(asNodemailerError(error, 'ESOCKET')));
  }
}

/** nodemailer wraps socket errors: `code` its own, Node's code kept as `originalCode`. */
export function asNodemailerError(error: unknown, code: string): Error {
  const err = error as NodeJS.ErrnoException;
  if (err.code === 'ETIMEDOUT' && (err as { command?: string }).command) return err;
  return Object.assign(new Error(err.message), {
    code: err.code === 'ETIMEDOUT' ? 'ETIMEDOUT' : code,
    originalCode: err.code,
    command: 'CONN',
    errno: err.errno,
  });
}
