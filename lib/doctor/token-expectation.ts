/**
 * What each door wants in the app-only token: the audience it accepts, the role it needs (if it
 * can be seen in the token at all), and how a refusal is explained (the failure-table row the door
 * answers with). Read by the token step of `doctor`.
 */
import type { SenderConfig } from '../config/sender-config.ts';
import { TENANT_WIDE_CONSENT_WARNING } from '../transport/graph/graph-fixes.ts';
import { failureFromRow, type StepFailure } from './doctor-step.ts';
import { graphFailureFromRow } from './graph-step-failure.ts';

/** Audiences Exchange Online accepts: its resource URL (each cloud) or its application id. */
const EXCHANGE_AUDIENCE =
  /^(https:\/\/outlook\.office365\.(com|us)|https:\/\/outlook-dod\.office365\.us|https:\/\/partner\.outlook\.cn|00000002-0000-0ff1-ce00-000000000000)\/?$/i;
/** Microsoft Graph's application id, which Entra may put in `aud` instead of the URL. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface TokenExpectation {
  /** Whether `aud` is right for the door. */
  audienceOk(aud: string): boolean;
  /** Why a wrong audience is wrong, and what to set. */
  audienceProblem(aud: string | undefined): string;
  /** A role the token must carry, with the fix when it does not. */
  requiredRole?: { role: string; fix: string };
  /**
   * A role the token carries in one valid setup but not in another (an RBAC for Applications
   * assignment is granted in Exchange and never shows in the token): its absence is a warning
   * naming both setups, and the AUTH step decides.
   */
  expectedRole?: { role: string; warning: string };
  /** A role whose presence deserves a warning (a tenant-wide consent). */
  warnRole?: { role: string; warning: string };
  /** Explains a problem with the words of the row the door answers with. */
  explain(reason: string): StepFailure;
}

export function tokenExpectation(config: SenderConfig): TokenExpectation {
  if (config.transport === 'graph' && config.graph) {
    const endpoint = config.graph.endpoint;
    return {
      audienceOk: (aud) => aud.replace(/\/$/, '') === endpoint || aud === GRAPH_APP_ID,
      audienceProblem: (aud) =>
        `the token is for ${aud ?? 'no audience'}, not ${endpoint}: unset O365_SCOPE (the Graph scope is <O365_GRAPH_ENDPOINT>/.default) and check O365_GRAPH_ENDPOINT`,
      warnRole: {
        role: 'Mail.Send',
        warning: `Mail.Send is consented tenant-wide in Entra: the app can send as every mailbox. ${TENANT_WIDE_CONSENT_WARNING}`,
      },
      explain: (reason) => graphFailureFromRow('graph-token-refused', reason),
    };
  }
  const common = {
    audienceOk: (aud: string) => EXCHANGE_AUDIENCE.test(aud),
    audienceProblem: (aud: string | undefined) =>
      `the token is for ${aud ?? 'no audience'}, not Exchange Online: set O365_SCOPE to https://outlook.office365.com/.default (the default)`,
    explain: (reason: string) => failureFromRow(authUnsuccessful, reason),
  };
  if (config.smtp.endpoint === 'hve') {
    // HVE takes the consented Mail.Send permission only (plus Add-HVEAppAccess): no RBAC route.
    return {
      ...common,
      requiredRole: {
        role: 'Mail.Send',
        fix: 'grant the app the Office 365 Exchange Online application permission Mail.Send with admin consent, and allow it on the HVE account with Add-HVEAppAccess',
      },
    };
  }
  return {
    ...common,
    expectedRole: {
      role: SMTP_SEND_AS_APP,
      warning: `the token has no ${SMTP_SEND_AS_APP} role. That is right when Exchange grants it through RBAC for Applications (New-ManagementRoleAssignment -Role "Application ${SMTP_SEND_AS_APP}" with a management scope on MAIL_SENDER); otherwise grant the app the Office 365 Exchange Online application permission ${SMTP_SEND_AS_APP} with admin consent. The AUTH step shows whether Exchange accepts the app.`,
    },
  };
}

const SMTP_SEND_AS_APP = 'SMTP.SendAsApp';

/** What Office 365 answers at AUTH to a token without the role or audience. */
const authUnsuccessful = '535 5.7.3 Authentication unsuccessful';
