/**
 * Office 365 replies about the session itself: throttling and temporary trouble (retry), TLS and
 * authentication (config), and SendAs (rejected). Part of the table in `office365-replies.ts`.
 */
import type { ReplyTableRow } from './office365-replies.ts';

const FIX_SMTP_AUTH =
  'Enable SMTP AUTH for the sending mailbox: Set-CASMailbox -Identity <MAIL_SENDER> -SmtpClientAuthenticationDisabled $false (the mailbox setting wins over the tenant default).';
const FIX_OAUTH_SETUP =
  'Check the app-only setup: Entra permission SMTP.SendAsApp (admin consent), New-ServicePrincipal with the Enterprise Application object id, Add-MailboxPermission FullAccess on MAIL_SENDER, scope https://outlook.office365.com/.default. With RBAC for Applications instead: no Entra permission, and New-ManagementRoleAssignment -Role "Application SMTP.SendAsApp" -App <app id> -CustomResourceScope <scope that includes MAIL_SENDER>. Right after setup, allow up to an hour to propagate.';
export const FIX_SEND_AS =
  'Send from MAIL_SENDER, or grant the app SendAs on that address (Add-RecipientPermission -Identity <from> -Trustee <service principal> -AccessRights SendAs), or remove the address from MAIL_ALLOWED_FROM.';
export const FIX_ABUSE =
  'Microsoft has blocked this sender or tenant; sending will not work until an admin clears it (Microsoft 365 Defender > Restricted entities, or a support case).';

/** SMTP replies, most specific first within an enhanced code. */
export const SESSION_REPLY_ROWS: readonly ReplyTableRow[] = [
  // Throttling and temporary trouble: retry later.
  {
    id: 'rate-limit',
    title: 'Submission rate exceeded',
    stage: 'MAIL FROM',
    match: { enhanced: ['4.4.2'], text: /submission rate/i },
    example: '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
    failureClass: 'retry',
    explanation:
      'The mailbox sent more than 30 messages in a minute; Office 365 refuses more and closes the connection.',
    fix: 'Nothing to fix for one burst; if it repeats, lower the Lambda concurrency or the rate limit per mailbox, or spread the load over more mailboxes.',
    minDelaySeconds: 60,
  },
  {
    id: 'connection-dropped',
    title: 'Connection dropped by the server',
    stage: 'any',
    match: { enhanced: ['4.4.1', '4.4.2'] },
    example: '421 4.4.2 Connection dropped due to SocketError',
    failureClass: 'retry',
    explanation: 'The server closed the session (idle or socket timeout on its side).',
    fix: 'None needed; the message is retried on a new connection.',
  },
  {
    id: 'sender-thread-limit',
    title: 'Too many parallel sessions',
    stage: 'MAIL FROM / DATA',
    match: { enhanced: ['4.3.2'], code: [432], text: /thread limit/i },
    example: '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
    failureClass: 'retry',
    explanation:
      'Too many sessions submit for this mailbox at the same time (about 3 are allowed).',
    fix: 'Lower the Lambda reserved concurrency (or the batch fan-out) for this mailbox.',
    minDelaySeconds: 60,
  },
  {
    id: 'concurrent-connections',
    title: 'Too many concurrent connections',
    stage: 'MAIL FROM',
    match: { enhanced: ['4.3.2'], code: [432] },
    example: '432 4.3.2 Concurrent connections limit exceeded',
    failureClass: 'retry',
    explanation: 'More connections are open for this mailbox than Office 365 allows (about 3).',
    fix: 'Lower the Lambda reserved concurrency for this mailbox.',
    minDelaySeconds: 60,
  },
  {
    id: 'service-not-available',
    title: 'Service not available',
    stage: 'any',
    match: { enhanced: ['4.3.2'] },
    example: '421 4.3.2 Service not available',
    failureClass: 'retry',
    explanation: 'Trouble on the Office 365 side.',
    fix: 'None; the message is retried with backoff.',
    minDelaySeconds: 60,
  },
  {
    id: 'proxy-temporary-error',
    title: 'Temporary server error',
    stage: 'any',
    match: { enhanced: ['4.7.0'], text: /temporary server error/i },
    example:
      '451 4.7.0 Temporary server error. Please try again later. PRX4 [AM0PR02CA0010.eurprd02.prod.outlook.com]',
    failureClass: 'retry',
    explanation: 'A front-end or proxy hiccup at Office 365.',
    fix: 'None; the message is retried with backoff.',
    minDelaySeconds: 60,
  },
  {
    id: 'too-many-errors',
    title: 'Too many errors on the connection',
    stage: 'any',
    match: { enhanced: ['4.7.0'], text: /too many errors/i },
    example: '421 4.7.0 Too many errors on this connection, closing transmission channel',
    failureClass: 'retry',
    explanation: 'The server closed a session that had many failed commands.',
    fix: 'Look at the failures logged before this one; they are the real problem.',
    minDelaySeconds: 60,
  },
  {
    id: 'temporary-auth-failure',
    title: 'Temporary authentication failure',
    stage: 'AUTH',
    match: { enhanced: ['4.7.0'], code: [454], text: /authentication failure/i },
    example: '454 4.7.0 Temporary authentication failure',
    failureClass: 'retry',
    explanation: 'Office 365 could not check the credentials just now.',
    fix: 'None; retried with backoff. If it persists, check the Microsoft 365 service health.',
    minDelaySeconds: 60,
  },
  {
    id: 'access-denied-try-later',
    title: 'Sending paused (suspicious activity)',
    stage: 'any',
    match: { enhanced: ['4.7.5xx', '4.7.6xx'] },
    example: '451 4.7.500 Access denied, please try again later',
    failureClass: 'retry',
    explanation: 'Office 365 paused sending from this mailbox or IP after suspicious activity.',
    fix: 'Wait; if it lasts for hours, check the mailbox for compromise and open a Microsoft support case.',
    minDelaySeconds: 900,
  },
  {
    id: 'mailbox-logon-failure',
    title: 'Mailbox logon failure',
    stage: 'after DATA',
    match: { enhanced: ['4.2.0'], text: /logon failure|LogonFailed/i },
    example:
      '430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message [BeginDiagnosticData]Cannot open mailbox',
    failureClass: 'retry',
    explanation:
      'Exchange could not open the sending mailbox; usually the app lacks FullAccess (or SendAs) on it, sometimes a mailbox hiccup.',
    fix: 'If it repeats: Add-MailboxPermission -Identity <MAIL_SENDER> -User <service principal> -AccessRights FullAccess.',
    minDelaySeconds: 300,
  },
  // TLS and authentication: the sender is misconfigured.
  {
    id: 'tls-version',
    title: 'TLS 1.0/1.1 refused',
    stage: 'TLS',
    match: { enhanced: ['4.7.66', '5.7.67'] },
    example:
      '421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls. [MAXPR0101CA0021.INDPRD01.PROD.OUTLOOK.COM]',
    failureClass: 'config',
    explanation: 'The connection negotiated TLS older than 1.2.',
    fix: 'Use TLS 1.2 or newer (the sender sets minVersion TLSv1.2; check for a TLS-intercepting proxy).',
  },
  {
    id: 'starttls-required',
    title: 'STARTTLS skipped',
    stage: 'MAIL FROM',
    match: { enhanced: ['5.7.3'], code: [451], text: /STARTTLS/i },
    example:
      '451 5.7.3 STARTTLS is required to send mail [PA7P264CA0250.FRAP264.PROD.OUTLOOK.COM 2026-03-05T11:41:09.483Z 08DE7A509B86EADD]',
    failureClass: 'config',
    explanation:
      'The client sent mail commands without upgrading to TLS first (a 4xx code, but nothing will change on retry).',
    fix: 'Use SMTP_TLS=starttls with SMTP_PORT=587 (the default).',
  },
  {
    id: 'auth-mechanism-unknown',
    title: 'Authentication mechanism not offered',
    stage: 'AUTH',
    match: { enhanced: ['5.7.4'] },
    example: '504 5.7.4 Unrecognized authentication type',
    failureClass: 'config',
    explanation:
      'The client asked for an AUTH mechanism the server does not offer (Office 365 offers only LOGIN and XOAUTH2, and only after STARTTLS).',
    fix: 'Use SMTP_AUTH=oauth2 (XOAUTH2) or password (LOGIN), over STARTTLS.',
  },
  {
    id: 'auth-unsuccessful',
    title: 'Authentication unsuccessful',
    stage: 'AUTH',
    match: { enhanced: ['5.7.3'], code: [535] },
    example:
      '535 5.7.3 Authentication unsuccessful [VI1PR0902CA0036.eurprd09.prod.outlook.com 2024-03-20T10:27:56.998Z 08DC48BEE95C08E5]',
    failureClass: 'config',
    explanation:
      'Office 365 refused the credentials: wrong password, or an OAuth token it does not accept (wrong audience, no SMTP.SendAsApp, service principal not registered in Exchange, no mailbox permission, or setup not yet propagated).',
    fix: FIX_OAUTH_SETUP,
  },
  {
    id: 'smtp-auth-disabled-tenant',
    title: 'SMTP AUTH disabled for the tenant',
    stage: 'AUTH',
    match: { enhanced: ['5.7.139'], text: /disabled for the Tenant/i },
    example:
      '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
    failureClass: 'config',
    explanation:
      'SMTP AUTH is switched off for the whole tenant and not switched on for this mailbox.',
    fix: FIX_SMTP_AUTH,
  },
  {
    id: 'smtp-auth-disabled-mailbox',
    title: 'SMTP AUTH disabled for the mailbox',
    stage: 'AUTH',
    match: { enhanced: ['5.7.139'], text: /disabled for the Mailbox/i },
    example:
      '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
    failureClass: 'config',
    explanation: 'SMTP AUTH is switched off for the sending mailbox.',
    fix: FIX_SMTP_AUTH,
  },
  {
    id: 'basic-auth-disabled',
    title: 'Basic authentication disabled',
    stage: 'AUTH',
    match: { enhanced: ['5.7.139'], text: /basic authentication is disabled/i },
    example:
      '535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [FR0P281CA0040.DEUP281.PROD.OUTLOOK.COM 2025-03-11T20:49:19.199Z 08DD60D78AC63372]',
    failureClass: 'config',
    explanation:
      'Password (Basic) authentication is blocked by an authentication policy (and is off by default for all tenants from the end of December 2026).',
    fix: 'Switch to SMTP_AUTH=oauth2 with an Entra app (see Configuration).',
  },
  {
    id: 'security-defaults',
    title: 'Blocked by security defaults',
    stage: 'AUTH',
    match: { enhanced: ['5.7.139'], text: /security defaults/i },
    example:
      "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
    failureClass: 'config',
    explanation: 'Entra security defaults block password sign-in for SMTP.',
    fix: 'Use SMTP_AUTH=oauth2 (app-only tokens are not blocked by security defaults).',
  },
  {
    id: 'conditional-access',
    title: 'Blocked by Conditional Access',
    stage: 'AUTH',
    match: { enhanced: ['5.7.139'], text: /did not meet the criteria/i },
    example:
      '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
    failureClass: 'config',
    explanation: 'A Conditional Access or MFA policy refused the sign-in.',
    fix: 'Exclude the sending identity from the policy, or use SMTP_AUTH=oauth2 with an app.',
  },
  {
    id: 'organization-policy',
    title: 'Refused by the organization configuration',
    stage: 'AUTH',
    match: { enhanced: ['5.7.139'], text: /organization configuration/i },
    example:
      '535 5.7.139 Authentication unsuccessful, the organization configuration does not allow this authentication request',
    failureClass: 'config',
    explanation: 'A tenant or authentication policy does not allow this kind of sign-in.',
    fix: 'Ask the Exchange admin which authentication policy applies to MAIL_SENDER (Get-AuthenticationPolicy).',
  },
  {
    id: 'basic-auth-retired',
    title: 'Basic authentication retired',
    stage: 'AUTH',
    match: { enhanced: ['5.7.30'] },
    example: '550 5.7.30 Basic authentication is not supported for Client Submission.',
    failureClass: 'config',
    explanation: 'Password authentication for SMTP is no longer available for this tenant.',
    fix: 'Switch to SMTP_AUTH=oauth2 with an Entra app (see Configuration).',
  },
  {
    id: 'not-authenticated',
    title: 'Not authenticated',
    stage: 'MAIL FROM',
    match: { enhanced: ['5.7.57'] },
    example: '530 5.7.57 Client not authenticated to send mail.',
    failureClass: 'config',
    explanation: 'Mail was submitted on a session that has not authenticated.',
    fix: 'Set SMTP_AUTH to oauth2 or password (none works only with relays that accept anonymous mail).',
  },
  // Per-message refusals: the message goes to the DLQ.
  {
    id: 'send-as-denied',
    title: 'SendAs denied',
    stage: 'after DATA',
    match: { enhanced: ['5.2.252'], text: /SendAsDenied/i },
    example:
      '554 5.2.252 SendAsDenied; info@contoso.com not allowed to send as noreply@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.',
    failureClass: 'rejected',
    explanation:
      "The message's From address is not the authenticated mailbox, and the mailbox (or app) has no SendAs right on it.",
    fix: FIX_SEND_AS,
  },
  {
    id: 'send-as-denied-legacy',
    title: 'SendAs denied',
    stage: 'after DATA',
    match: { enhanced: ['5.7.60'] },
    example: '550 5.7.60 SMTP; Client does not have permissions to send as this sender',
    failureClass: 'rejected',
    explanation: 'The older form of SendAs denied: From is an address the mailbox may not send as.',
    fix: FIX_SEND_AS,
  },
];
