/**
 * `.env` (or the environment) names an SMTP server, an SMTP auth mode, an Entra app or a transport:
 * then the local pipeline sends through that server, or Graph (real Office 365), instead of the
 * capture server.
 */
export function usesConfiguredSmtp(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SMTP_HOST || env.O365_CLIENT_ID || env.SMTP_AUTH || env.MAIL_TRANSPORT);
}
