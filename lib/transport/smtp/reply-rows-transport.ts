/**
 * Failures that come without an SMTP reply: the socket, DNS, TLS, the local checks of nodemailer,
 * and the OAuth token endpoint. Part of the table in `office365-replies.ts`; matched by error code
 * (nodemailer's `code`, Node's `originalCode`, Entra's error and AADSTS number), in table order.
 */
import type { ReplyTableRow } from './office365-replies.ts';

const FIX_SECRET =
  'Put the current client secret VALUE (not its id) in O365_CLIENT_SECRET (in the MAIL_SECRET_ARN secret on AWS), or switch to a certificate.';

export const TRANSPORT_FAILURE_ROWS: readonly ReplyTableRow[] = [
  {
    id: 'no-starttls',
    title: 'Server offers no STARTTLS',
    stage: 'STARTTLS',
    match: {
      error: ['ETLS', 'ECONNECTION'],
      text: /upgrading connection with STARTTLS|does not support required STARTTLS/i,
    },
    example: 'Error upgrading connection with STARTTLS: 502 5.5.2 Error: command not recognized',
    exampleError: { code: 'ETLS', command: 'STARTTLS' },
    failureClass: 'config',
    explanation:
      'The server would not upgrade the connection to TLS, so no credentials and no mail were sent over it.',
    fix: 'Check SMTP_HOST and SMTP_PORT (Office 365: smtp.office365.com:587); a server that speaks TLS from the first byte needs SMTP_TLS=implicit.',
  },
  {
    id: 'tls-wrong-version',
    title: 'TLS mode does not match the port',
    stage: 'TLS',
    match: {
      error: ['ETLS', 'ESOCKET', 'ERR_SSL_WRONG_VERSION_NUMBER'],
      text: /wrong version number/i,
    },
    example: 'C0E7B1A8C87F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
    exampleError: {
      code: 'ESOCKET',
      originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
      command: 'CONN',
    },
    failureClass: 'config',
    explanation:
      'Implicit TLS was tried against a port that expects plain SMTP with STARTTLS (587), or the other way round.',
    fix: 'Port 587 needs SMTP_TLS=starttls (the default); only 465-style servers need SMTP_TLS=implicit.',
  },
  {
    id: 'tls-protocol-version',
    title: 'Server offers only TLS older than 1.2',
    stage: 'TLS',
    match: {
      error: [
        'ETLS',
        'ESOCKET',
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
        'ERR_SSL_UNSUPPORTED_PROTOCOL',
      ],
      text: /alert protocol version|unsupported protocol|no protocols available|version too low/i,
    },
    example:
      'C04C28D0647F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 70',
    exampleError: { code: 'ESOCKET', command: 'CONN' },
    failureClass: 'config',
    explanation:
      'The server and the sender share no TLS version: the sender requires TLS 1.2 or newer (as Office 365 does), the server offers only TLS 1.0 or 1.1. Nothing was sent.',
    fix: 'Point SMTP_HOST at a server that speaks TLS 1.2 or newer (smtp.office365.com does; smtp-legacy.office365.com and old relays may not), or upgrade the server; check for a TLS-intercepting proxy.',
  },
  {
    id: 'tls-certificate-expired',
    title: 'Server certificate expired',
    stage: 'TLS',
    match: {
      error: ['ETLS', 'ESOCKET', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'],
      text: /certificate has expired|certificate is not yet valid/i,
    },
    example: 'certificate has expired',
    exampleError: { code: 'ETLS', originalCode: 'CERT_HAS_EXPIRED', command: 'STARTTLS' },
    failureClass: 'config',
    explanation:
      "The server's certificate is outside its validity period (or this machine's clock is wrong). Credentials are never sent over such a connection.",
    fix: 'Renew the certificate on the SMTP server (for Office 365: check the clock and for a TLS-intercepting proxy). Never turn verification off.',
  },
  {
    id: 'tls-certificate-name',
    title: 'Server certificate is for another name',
    stage: 'TLS',
    match: {
      error: ['ETLS', 'ESOCKET', 'ERR_TLS_CERT_ALTNAME_INVALID'],
      text: /altnames|does not match certificate/i,
    },
    example:
      "Hostname/IP does not match certificate's altnames: IP: 52.96.0.1 is not in the cert's list: ",
    exampleError: {
      code: 'ETLS',
      originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
      command: 'STARTTLS',
    },
    failureClass: 'config',
    explanation:
      'The certificate verifies, but not for SMTP_HOST: an IP address or another name was configured, or a proxy answers instead of the server.',
    fix: 'Set SMTP_HOST to the DNS name the certificate is issued for (smtp.office365.com, never an IP address).',
  },
  {
    id: 'tls-certificate',
    title: 'Server certificate not trusted',
    stage: 'TLS',
    match: {
      error: ['ETLS', 'ESOCKET'],
      text: /certificate|self[- ]signed|altnames/i,
    },
    example: 'Error initiating TLS - unable to verify the first certificate',
    exampleError: { code: 'ETLS', command: 'STARTTLS' },
    failureClass: 'config',
    explanation:
      'The server certificate does not verify: self-signed, or from a CA this machine does not trust. Credentials are never sent over such a connection.',
    fix: 'For Office 365 use smtp.office365.com (a public CA) and check for a TLS-intercepting proxy; for a private server give Node its CA with NODE_EXTRA_CA_CERTS. Never turn verification off.',
  },
  {
    id: 'tls-handshake',
    title: 'TLS handshake failed',
    stage: 'TLS',
    match: { error: ['ETLS'] },
    example:
      'Error initiating TLS - Client network socket disconnected before secure TLS connection was established',
    exampleError: { code: 'ETLS', command: 'STARTTLS' },
    failureClass: 'retry',
    explanation: 'The connection broke during the TLS handshake.',
    fix: 'None for a single occurrence; if it repeats, check for a proxy or firewall that interferes with TLS.',
  },
  {
    id: 'dns-not-found',
    title: 'SMTP host does not resolve',
    stage: 'connect',
    match: { error: ['ENOTFOUND'] },
    example: 'getaddrinfo ENOTFOUND smtp.office365.con',
    exampleError: { code: 'EDNS', originalCode: 'ENOTFOUND', command: 'CONN' },
    failureClass: 'config',
    explanation: 'The SMTP host name does not exist in DNS.',
    fix: 'Check SMTP_HOST (Office 365: smtp.office365.com) and the DNS of the network the Lambda runs in.',
  },
  {
    id: 'dns-temporary',
    title: 'DNS lookup failed',
    stage: 'connect',
    match: { error: ['EDNS', 'EAI_AGAIN'] },
    example: 'getaddrinfo EAI_AGAIN smtp.office365.com',
    exampleError: { code: 'EDNS', originalCode: 'EAI_AGAIN', command: 'CONN' },
    failureClass: 'retry',
    explanation: 'The DNS lookup of the SMTP host failed for now.',
    fix: 'None for a single occurrence; check the VPC resolver if it repeats.',
  },
  {
    id: 'connection-refused',
    title: 'Connection refused',
    stage: 'connect',
    match: { error: ['ECONNREFUSED'] },
    example: 'connect ECONNREFUSED 52.96.0.1:587',
    exampleError: { code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' },
    failureClass: 'retry',
    explanation: 'Nothing accepted the TCP connection on that host and port.',
    fix: 'Check SMTP_HOST/SMTP_PORT and that outbound 587 is allowed (security group, NACL, NAT).',
  },
  {
    id: 'connection-reset',
    title: 'Connection reset',
    stage: 'any',
    match: { error: ['ECONNRESET', 'EPIPE'] },
    example: 'read ECONNRESET',
    exampleError: { code: 'ESOCKET', originalCode: 'ECONNRESET', command: 'CONN' },
    failureClass: 'retry',
    explanation: 'The connection was reset while in use.',
    fix: 'None; the message is retried on a new connection.',
  },
  {
    id: 'connection-closed',
    title: 'Connection closed unexpectedly',
    stage: 'any',
    match: { error: ['ECONNECTION'] },
    example: 'Connection closed unexpectedly',
    exampleError: { code: 'ECONNECTION', command: 'CONN' },
    failureClass: 'retry',
    explanation:
      'The server closed the connection in the middle of a command (for example during DATA).',
    fix: 'None; the message is retried on a new connection.',
  },
  {
    id: 'timeout',
    title: 'Timed out',
    stage: 'any',
    match: { error: ['ETIMEDOUT'] },
    example: 'Timeout',
    exampleError: { code: 'ETIMEDOUT', command: 'CONN' },
    failureClass: 'retry',
    explanation: 'The server did not answer within the socket, greeting or connection timeout.',
    fix: 'None for a single occurrence; if it repeats, check the network path to the SMTP host.',
  },
  {
    id: 'message-size-local',
    title: 'Message too large',
    stage: 'MAIL FROM',
    match: { error: ['EMESSAGE'], text: /size larger than allowed/i },
    example: 'Message size larger than allowed 157286400',
    exampleError: { code: 'EMESSAGE', command: 'MAIL FROM' },
    failureClass: 'rejected',
    explanation: 'The message is bigger than the SIZE the server announced, so it was not sent.',
    fix: 'Send smaller attachments, or links to them instead.',
  },
  {
    id: 'missing-credentials',
    title: 'No credentials for SMTP AUTH',
    stage: 'AUTH',
    match: { error: ['EAUTH'], text: /missing credentials/i },
    example: 'Missing credentials for "LOGIN"',
    exampleError: { code: 'EAUTH', command: 'API' },
    failureClass: 'config',
    explanation: 'The selected authentication needs credentials that are not configured.',
    fix: 'Set SMTP_PASSWORD for SMTP_AUTH=password, or the O365_* variables for oauth2.',
  },
  // The OAuth token endpoint (Microsoft Entra ID).
  {
    id: 'token-invalid-secret',
    title: 'Client secret refused',
    stage: 'token endpoint',
    match: { error: ['AADSTS7000215'] },
    example:
      "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '00000000-0000-0000-0000-000000000000'.",
    exampleError: { code: 'invalid_client', httpStatus: 401 },
    failureClass: 'config',
    explanation:
      'Entra refused the client secret: wrong value, or the secret id was used instead of its value.',
    fix: FIX_SECRET,
  },
  {
    id: 'token-secret-expired',
    title: 'Client secret expired',
    stage: 'token endpoint',
    match: { error: ['AADSTS7000222'] },
    example:
      "AADSTS7000222: The provided client secret keys for app '00000000-0000-0000-0000-000000000000' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
    exampleError: { code: 'invalid_client', httpStatus: 401 },
    failureClass: 'config',
    explanation: 'The client secret has expired.',
    fix: 'Create a new client secret for the app registration and update O365_CLIENT_SECRET (or the MAIL_SECRET_ARN secret).',
  },
  {
    id: 'token-certificate-unknown',
    title: 'Client certificate not registered',
    stage: 'token endpoint',
    match: { error: ['AADSTS700027'] },
    example:
      'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.]',
    exampleError: { code: 'invalid_client', httpStatus: 401 },
    failureClass: 'config',
    explanation:
      "The certificate in O365_CLIENT_CERTIFICATE is not one of the app registration's credentials.",
    fix: 'Upload the certificate (public part) to the app registration, or configure the certificate that is registered.',
  },
  {
    id: 'token-app-not-found',
    title: 'App registration not found',
    stage: 'token endpoint',
    match: { error: ['AADSTS700016'] },
    example:
      "AADSTS700016: Application with identifier '00000000-0000-0000-0000-000000000000' was not found in the directory 'contoso.onmicrosoft.com'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    exampleError: { code: 'unauthorized_client', httpStatus: 400 },
    failureClass: 'config',
    explanation: 'No app with this client id exists in the tenant.',
    fix: "Check O365_CLIENT_ID (the app registration's Application (client) ID) and O365_TENANT_ID.",
  },
  {
    id: 'token-tenant-not-found',
    title: 'Tenant not found',
    stage: 'token endpoint',
    match: { error: ['AADSTS90002'] },
    example:
      "AADSTS90002: Tenant 'contoso.onmicrosft.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
    exampleError: { code: 'invalid_request', httpStatus: 400 },
    failureClass: 'config',
    explanation: 'The tenant id or domain does not exist in this cloud.',
    fix: 'Check O365_TENANT_ID (Directory (tenant) ID) and O365_AUTHORITY_HOST (sovereign clouds have their own).',
  },
  {
    id: 'token-resource-not-found',
    title: 'Exchange Online not found in the tenant',
    stage: 'token endpoint',
    match: { error: ['AADSTS500011'] },
    example:
      'AADSTS500011: The resource principal named https://outlook.office365.com was not found in the tenant named contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.',
    exampleError: { code: 'invalid_resource', httpStatus: 400 },
    failureClass: 'config',
    explanation:
      'The scope names a resource the tenant does not have (wrong cloud, or no Exchange Online).',
    fix: 'Check O365_SCOPE (https://outlook.office365.com/.default in the commercial cloud) and O365_TENANT_ID.',
  },
  {
    id: 'token-invalid-scope',
    title: 'Scope refused',
    stage: 'token endpoint',
    match: { error: ['invalid_scope'] },
    example:
      'AADSTS1002012: The provided value for scope https://outlook.office365.com/SMTP.Send is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
    exampleError: { code: 'invalid_scope', httpStatus: 400 },
    failureClass: 'config',
    explanation: 'App-only tokens need a `/.default` scope.',
    fix: 'Set O365_SCOPE=https://outlook.office365.com/.default (or unset it).',
  },
  {
    id: 'token-certificate-untrusted',
    title: "Token endpoint's certificate not trusted",
    stage: 'token endpoint',
    match: { error: ['tls_certificate_error'] },
    example:
      "The token endpoint's certificate does not verify: TypeError: fetch failed / UNABLE_TO_VERIFY_LEAF_SIGNATURE unable to verify the first certificate",
    exampleError: { code: 'tls_certificate_error' },
    failureClass: 'config',
    explanation:
      'The TLS certificate of O365_AUTHORITY_HOST does not verify, so no credential was sent to it.',
    fix: 'Check O365_AUTHORITY_HOST (https://login.microsoftonline.com in the commercial cloud); for a private endpoint or emulator give Node its CA with NODE_EXTRA_CA_CERTS. Never turn verification off.',
  },
  {
    id: 'token-unavailable',
    title: 'Token endpoint unavailable',
    stage: 'token endpoint',
    match: { error: ['token_endpoint_unavailable'] },
    example:
      'temporarily_unavailable: AADSTS90033: A transient error has occurred. Please try again.',
    exampleError: { code: 'temporarily_unavailable', httpStatus: 503 },
    failureClass: 'retry',
    explanation: 'Entra ID could not be reached or answered with a server error.',
    fix: 'None for a single occurrence; the messages are retried. Check the Microsoft 365 service health if it lasts.',
    minDelaySeconds: 60,
  },
  {
    id: 'token-client-refused',
    title: 'App credentials refused',
    stage: 'token endpoint',
    match: { error: ['invalid_client', 'unauthorized_client', 'invalid_request', 'invalid_grant'] },
    example:
      "invalid_client: AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    exampleError: { code: 'invalid_client', httpStatus: 401 },
    failureClass: 'config',
    explanation: 'Entra refused the app credentials.',
    fix: 'Check O365_TENANT_ID, O365_CLIENT_ID and the secret or certificate.',
  },
];
