/**
 * Fixes the Graph table and `doctor` share: the Exchange Online commands that give the app
 * `Mail.Send` on exactly the sending mailbox (RBAC for Applications), and the warning that keeps
 * that scope meaningful.
 */

/** The RBAC for Applications commands, with the names a user fills in. */
export function rbacCommands(
  sender = '<MAIL_SENDER>',
  clientId = '<O365_CLIENT_ID>',
  roles: readonly string[] = ['Application Mail.Send'],
): string[] {
  const scope = 'o365-mail-queue senders';
  return [
    'Connect-ExchangeOnline',
    `New-ServicePrincipal -AppId ${clientId} -ObjectId <object id of the Enterprise application> -DisplayName "o365-mail-queue"`,
    `New-ManagementScope -Name "${scope}" -RecipientRestrictionFilter "PrimarySmtpAddress -eq '${sender}'"`,
    ...roles.map(
      (role) =>
        `New-ManagementRoleAssignment -App ${clientId} -Role "${role}" -CustomResourceScope "${scope}"`,
    ),
    `Test-ServicePrincipalAuthorization -Identity ${clientId} -Resource ${sender}`,
  ];
}

export const TENANT_WIDE_CONSENT_WARNING =
  'Do not also grant Mail.Send with admin consent in Entra: a tenant-wide consent lets the app send as every mailbox and the scope restricts nothing (remove it if it is there).';

export const FIX_GRAPH_MAIL_SEND = `Give the app Mail.Send on MAIL_SENDER with RBAC for Applications: ${rbacCommands().join('; ')}. ${TENANT_WIDE_CONSENT_WARNING} Changes can take up to an hour to apply.`;

export const FIX_GRAPH_MAIL_READ_WRITE = `The draft route (MAIL_GRAPH_LARGE_MESSAGES=upload, or MAIL_SAVE_TO_SENT_ITEMS=false) also needs Mail.ReadWrite: New-ManagementRoleAssignment -App <O365_CLIENT_ID> -Role "Application Mail.ReadWrite" -CustomResourceScope "o365-mail-queue senders". Or remove those settings to send with Mail.Send alone.`;

export const FIX_GRAPH_SEND_AS =
  'Send from MAIL_SENDER, or grant that mailbox SendAs on the From address (Add-RecipientPermission -Identity <from> -Trustee <MAIL_SENDER> -AccessRights SendAs), or remove the address from MAIL_ALLOWED_FROM.';
