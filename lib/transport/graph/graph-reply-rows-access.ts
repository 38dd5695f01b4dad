/**
 * Graph answers that say the sender itself is misconfigured (config: nothing is dead-lettered, the
 * batch stops), and the failures that come without an answer: network, TLS, the token endpoint.
 * Part of the table in `graph-replies.ts`.
 */
import { FIX_GRAPH_MAIL_READ_WRITE, FIX_GRAPH_MAIL_SEND } from './graph-fixes.ts';
import type { GraphReplyRow } from './graph-replies.ts';

const DRAFT_REQUESTS = [
  'createDraft',
  'updateDraft',
  'addAttachment',
  'createUploadSession',
  'deleteDraft',
] as const;

export const GRAPH_ACCESS_ROWS: readonly GraphReplyRow[] = [
  {
    id: 'graph-draft-access-denied',
    title: 'No Mail.ReadWrite for the draft route',
    stage: 'createDraft',
    match: { status: [403], request: DRAFT_REQUESTS },
    example: '403 ErrorAccessDenied: Access is denied. Check credentials and try again.',
    failureClass: 'config',
    explanation:
      'A message over 4 MB (MAIL_GRAPH_LARGE_MESSAGES=upload) or one kept out of Sent Items (MAIL_SAVE_TO_SENT_ITEMS=false) is sent as a draft, which needs Mail.ReadWrite on the mailbox; the app has only Mail.Send.',
    fix: FIX_GRAPH_MAIL_READ_WRITE,
  },
  {
    id: 'graph-access-denied',
    title: 'No Mail.Send on the mailbox',
    stage: 'sendMail',
    match: { status: [403] },
    example: '403 ErrorAccessDenied: Access is denied. Check credentials and try again.',
    failureClass: 'config',
    explanation:
      'The token is valid but the app may not send as MAIL_SENDER: it has no Mail.Send application permission, or an RBAC for Applications scope leaves this mailbox out.',
    fix: FIX_GRAPH_MAIL_SEND,
  },
  {
    id: 'graph-token-refused',
    title: 'Token refused by Graph',
    stage: 'any request',
    match: { status: [401] },
    example: '401 InvalidAuthenticationToken: Access token validation failure. Invalid audience.',
    failureClass: 'config',
    explanation:
      'Graph did not accept the access token (wrong audience or cloud, another tenant, or expired even after one renewal).',
    fix: 'Check O365_GRAPH_ENDPOINT (the token scope is <endpoint>/.default) against O365_AUTHORITY_HOST and O365_TENANT_ID: all must be the same cloud and the tenant of MAIL_SENDER.',
  },
  {
    id: 'graph-mailbox-not-found',
    title: 'Mailbox not found',
    stage: 'any request',
    match: { status: [404], code: ['ErrorInvalidUser', 'ResourceNotFound', 'ErrorItemNotFound'] },
    example: "404 ErrorInvalidUser: The requested user 'noreply@contoso.com' is invalid.",
    failureClass: 'config',
    explanation:
      'MAIL_SENDER is not a user or shared mailbox of this tenant (or not in this cloud).',
    fix: 'Set MAIL_SENDER to an existing Exchange Online mailbox of the tenant in O365_TENANT_ID.',
  },
  {
    id: 'graph-mailbox-not-enabled',
    title: 'Mailbox not reachable through Graph',
    stage: 'any request',
    match: { code: ['MailboxNotEnabledForRESTAPI', 'MailboxNotSupportedForRESTAPI'] },
    example:
      '404 MailboxNotEnabledForRESTAPI: The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    failureClass: 'config',
    explanation:
      'MAIL_SENDER exists but has no Exchange Online mailbox Graph can use (no licence, inactive, or on-premises).',
    fix: 'Give MAIL_SENDER an Exchange Online licence (or use a shared mailbox in Exchange Online); on-premises mailboxes need SMTP.',
  },
  {
    id: 'graph-submission-quota',
    title: 'Daily recipient quota exceeded',
    stage: 'sendMail',
    match: { code: ['ErrorSubmissionQuotaExceeded', 'ErrorQuotaExceeded'] },
    example:
      '403 ErrorSubmissionQuotaExceeded: Cannot submit message. The sender has exceeded its submission quota.',
    failureClass: 'config',
    explanation:
      'The mailbox reached one of its Exchange limits (10,000 recipients a day, or a full mailbox); Graph applies the same limits as SMTP.',
    fix: 'Wait (up to 24 h); unsent messages stay on the queue. For more volume, spread senders over several mailboxes.',
  },
  {
    id: 'graph-submission-blocked',
    title: 'Sender blocked',
    stage: 'sendMail',
    match: { code: ['ErrorMessageSubmissionBlocked', 'ErrorAccountSuspend'] },
    example:
      '403 ErrorMessageSubmissionBlocked: Cannot send mail. Your account has been blocked from sending messages.',
    failureClass: 'config',
    explanation:
      'Microsoft has restricted this mailbox or tenant from sending (usually after spam).',
    fix: 'Microsoft has blocked this sender or tenant; sending will not work until an admin clears it (Microsoft 365 Defender > Restricted entities, or a support case).',
  },
  {
    id: 'graph-not-found',
    title: 'Graph endpoint not found',
    stage: 'any request',
    match: { status: [404, 405] },
    example: '404 UnknownError: Not Found',
    failureClass: 'config',
    explanation:
      "The URL did not reach Graph's sendMail (a wrong O365_GRAPH_ENDPOINT, or a proxy in the way).",
    fix: 'Check O365_GRAPH_ENDPOINT: https://graph.microsoft.com, or graph.microsoft.us, dod-graph.microsoft.us, microsoftgraph.chinacloudapi.cn.',
  },
  // Failures without an answer.
  {
    id: 'graph-certificate',
    title: 'Graph certificate not trusted',
    stage: 'TLS',
    match: {
      error: [
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        'SELF_SIGNED_CERT_IN_CHAIN',
        'DEPTH_ZERO_SELF_SIGNED_CERT',
        'CERT_HAS_EXPIRED',
        'ERR_TLS_CERT_ALTNAME_INVALID',
        'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      ],
    },
    example:
      'fetch failed / UNABLE_TO_VERIFY_LEAF_SIGNATURE unable to verify the first certificate',
    failureClass: 'config',
    explanation:
      'The TLS certificate of O365_GRAPH_ENDPOINT does not verify, so no token was sent to it.',
    fix: 'Check O365_GRAPH_ENDPOINT; for a private endpoint or emulator give Node its CA with NODE_EXTRA_CA_CERTS. Never turn verification off.',
  },
  {
    id: 'graph-dns-not-found',
    title: 'Graph host does not resolve',
    stage: 'connect',
    match: { error: ['ENOTFOUND'] },
    example: 'fetch failed / getaddrinfo ENOTFOUND graph.microsoft.con',
    failureClass: 'config',
    explanation: 'The host of O365_GRAPH_ENDPOINT does not exist in DNS.',
    fix: 'Check O365_GRAPH_ENDPOINT and the DNS of the network the Lambda runs in.',
  },
  {
    id: 'graph-connection-failed',
    title: 'Could not reach Graph',
    stage: 'connect',
    match: {
      error: [
        'ECONNREFUSED',
        'ECONNRESET',
        'EPIPE',
        'EAI_AGAIN',
        'ETIMEDOUT',
        'UND_ERR_SOCKET',
        'UND_ERR_CONNECT_TIMEOUT',
      ],
    },
    example: 'fetch failed / connect ECONNREFUSED 20.190.0.1:443',
    failureClass: 'retry',
    explanation:
      'The connection to Graph failed or broke before an answer came. If it broke after the request was sent, Graph may have accepted the message and the retry sends it again.',
    fix: 'None for a single occurrence; if it repeats, check that outbound 443 to the Graph endpoint is allowed (security group, NACL, NAT).',
  },
  // The token endpoint: rows whose fix differs for Graph; the others come from the SMTP table.
  {
    id: 'graph-token-resource-not-found',
    title: 'Microsoft Graph not found in the tenant',
    stage: 'token endpoint',
    match: { error: ['AADSTS500011'] },
    example:
      'AADSTS500011: The resource principal named https://graph.microsoft.us was not found in the tenant named contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.',
    failureClass: 'config',
    explanation: "The token scope names a Graph host of another cloud than the tenant's.",
    fix: "Set O365_GRAPH_ENDPOINT to the Graph host of the tenant's cloud (https://graph.microsoft.com commercially), with the matching O365_AUTHORITY_HOST.",
  },
];
