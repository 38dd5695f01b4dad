/** `o365-mail-queue/cdk`: the `MailSender` construct, its parts, and the error its props checks throw. */
export { DeliveryStateTable, type DeliveryStateTableProps } from './delivery-state-table.ts';
export { MailSender } from './mail-sender.ts';
export {
  MailSenderMonitoring,
  type MailSenderMonitoringProps,
  METRICS_NAMESPACE,
} from './mail-sender-monitoring.ts';
export type { MailSenderProps, SenderCode, SmtpAuthMode } from './mail-sender-props.ts';
export { MailSenderPropsError } from './validate-mail-sender-props.ts';
