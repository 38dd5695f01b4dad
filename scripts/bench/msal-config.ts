import type { Configuration } from '@azure/msal-node';
import type { VariantInput } from './variant-protocol.ts';

/**
 * The MSAL configuration the peer variants use against the local token endpoint. A custom
 * authority listed in `knownAuthorities` makes MSAL read its metadata from that host only, never
 * from Microsoft (see SPEC, "Pitfalls").
 */
export function msalConfiguration(oauth: VariantInput['oauth']): Configuration {
  return {
    auth: {
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      authority: `${oauth.authorityHost}/${oauth.tenantId}`,
      knownAuthorities: [new URL(oauth.authorityHost).host],
    },
  };
}

/** The fields of a project message body the peers hand to nodemailer, as their authors would. */
export interface PeerMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** `JSON.parse` plus the few fields a hand-written consumer reads; no contract validation. */
export function toPeerMail(body: string | undefined): PeerMail {
  const parsed = JSON.parse(body ?? '{}') as PeerMail;
  return { from: parsed.from, to: parsed.to, subject: parsed.subject, text: parsed.text };
}
