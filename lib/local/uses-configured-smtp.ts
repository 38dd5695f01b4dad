/**
 * `.env` (or the environment) names an SMTP server, an SMTP auth mode or an Entra app: then the
 * local pipeline sends through that server (real Office 365) instead of the capture server.
 */
export function usesConfiguredSmtp(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SMTP_HOST || env.O365_CLIENT_ID || env.SMTP_AUTH);
}
