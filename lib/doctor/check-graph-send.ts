/**
 * The last steps of `doctor` over Graph. There is no login to test: Graph checks the app's right
 * on the mailbox with every request, so the proof is a real message (`--to`), sent exactly as the
 * sender sends one. When Graph refuses the app (401, 403, 404), the step prints the RBAC for
 * Applications commands with the sender's own mailbox and app id filled in.
 */
import type { SenderConfig } from '../config/sender-config.ts';
import { composeMime } from '../delivery/compose-mime.ts';
import { rbacCommands, TENANT_WIDE_CONSENT_WARNING } from '../transport/graph/graph-fixes.ts';
import { GraphSession } from '../transport/graph/graph-session.ts';
import { failed, ok, type StepResult, skipped } from './doctor-step.ts';

export interface GraphSendOptions {
  /** The token from the token step: one token request per doctor run. */
  token?: string;
  sendTestTo?: string;
  from?: string;
}

export async function checkGraphSend(
  config: SenderConfig,
  options: GraphSendOptions,
): Promise<StepResult[]> {
  const auth = skipped(
    'auth',
    "Graph has no login: each request carries the token (--to <address> checks the app's right on the mailbox)",
  );
  if (!options.sendTestTo) return [auth, skipped('sendTest', 'not asked for (--to <address>)')];
  const settings = config.graph;
  if (!settings || !options.token) {
    return [auth, skipped('sendTest', 'skipped: no Graph settings or token')];
  }
  const from = options.from ?? config.sender;
  const where = `from ${from} to ${options.sendTestTo}`;
  const session = new GraphSession({
    settings,
    sender: config.sender,
    tokenProvider: { getAccessToken: async () => options.token! },
  });
  const mime = await composeMime({
    from,
    to: options.sendTestTo,
    subject: 'o365-mail doctor: test message',
    text: `This message was sent by "o365-mail doctor --to" through Microsoft Graph (${settings.endpoint}) as ${config.sender}.\n`,
  });
  const outcome = await session.send(mime);
  if (outcome.kind === 'sent') {
    return [
      auth,
      ok('sendTest', [`${where}: ${outcome.response} (accepted for delivery, not yet delivered)`]),
    ];
  }
  const status = outcome.kind === 'invalid' ? undefined : outcome.reply?.code;
  const details = [where];
  if (status === 401 || status === 403 || status === 404) {
    details.push(
      'RBAC for Applications, for this mailbox and app:',
      ...rbacCommands(config.sender, config.oauth?.clientId).map((line) => `  ${line}`),
      TENANT_WIDE_CONSENT_WARNING,
    );
  }
  return [
    auth,
    failed(
      'sendTest',
      {
        reason: outcome.reason,
        explanation: explanationOf(outcome),
        fix: outcome.kind === 'config' ? outcome.fix : fixOf(outcome.reason),
      },
      details,
    ),
  ];
}

function explanationOf(outcome: { kind: string; reason: string }): string {
  switch (outcome.kind) {
    case 'config':
      return 'Graph refused the sender itself: no message can be sent until this is fixed.';
    case 'retry':
      return 'A temporary failure: the sender would retry this message later.';
    default:
      return 'Graph refused this message: the sender would dead-letter it.';
  }
}

/** Rejected and invalid reasons carry their fix after "Fix:" when the sender wrote one. */
function fixOf(reason: string): string {
  const at = reason.indexOf('Fix: ');
  return at >= 0 ? reason.slice(at + 5) : 'See the reason above and docs/replies.md.';
}
