/**
 * `o365-mail-queue/cdk`: the `MailSender` construct with its props' types and the error its checks
 * throw (all that infra/mail-sender.ts exports), and the parts it exposes.
 */
export { DeliveryStateTable, type DeliveryStateTableProps } from './delivery-state-table.ts';
export * from './mail-sender.ts';
export {
  MailSenderMonitoring,
  type MailSenderMonitoringProps,
  METRICS_NAMESPACE,
} from './mail-sender-monitoring.ts';
