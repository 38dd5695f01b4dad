import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Properties of {@link DeliveryStateTable}. */
export interface DeliveryStateTableProps {
  /** The sender function's role: gets exactly the four item operations on the table. */
  readonly role: IRole;
  /** The function timeout: a claim must outlive any invocation that could still hold it. */
  readonly functionTimeout: Duration;
  /** Remember sent message ids (the delivery ledger); `false` = rate limit only. */
  readonly ledger: boolean;
  /** How long a sent id is remembered. */
  readonly ledgerTtl: Duration;
  /** The per-mailbox budget; `false` = no rate limit. */
  readonly rateLimit:
    | false
    | { readonly messagesPerMinute: number; readonly recipientsPerDay: number };
  /** SMTP connections per mailbox across all sandboxes (`lease#<mailbox>`); 0 = no cap. */
  readonly maxConnections: number;
  /** The circuit breaker's state (`breaker#<queue name>`). */
  readonly breaker: boolean;
}

/**
 * One on-demand DynamoDB table (partition key `id`, TTL attribute `expiresAt`) holding the
 * delivery ledger (one item per message id), the rate limiter's budgets (one item per sending
 * mailbox, `rate#<mailbox>`), the connection leases (`lease#<mailbox>`) and the circuit breaker
 * (`breaker#<queue name>`; `#` cannot occur in a message id, so they never collide), plus the
 * environment that points the sender at it (`lib/guards/`).
 */
export class DeliveryStateTable extends Construct {
  readonly table: Table;
  /** `MAIL_LEDGER_*` / `MAIL_RATE_*` for the sender function. */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: DeliveryStateTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      // Short-lived bookkeeping (days at most) that rebuilds itself; nothing worth keeping.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Items are dedup and rate-limit bookkeeping that expire within days (TTL); a restored copy would be stale by the time it is restored, and losing the table only reopens the duplicate window it narrows.',
    });
    props.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DeliveryState',
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [this.table.tableArn],
      }),
    );
    const ledger: Record<string, string> = props.ledger
      ? {
          MAIL_LEDGER_TABLE: this.table.tableName,
          MAIL_LEDGER_TTL_SECONDS: String(props.ledgerTtl.toSeconds()),
          MAIL_LEDGER_IN_PROGRESS_SECONDS: String(props.functionTimeout.toSeconds() + 60),
        }
      : {};
    const rate: Record<string, string> = props.rateLimit
      ? {
          MAIL_RATE_TABLE: this.table.tableName,
          MAIL_RATE_PER_MINUTE: String(props.rateLimit.messagesPerMinute),
          MAIL_RECIPIENTS_PER_DAY: String(props.rateLimit.recipientsPerDay),
        }
      : {};
    // A lease outlives any invocation that could hold its connection (see lib/guards/connection-lease/).
    const lease: Record<string, string> =
      props.maxConnections > 0
        ? {
            MAIL_MAX_CONNECTIONS: String(props.maxConnections),
            MAIL_CONNECTION_LEASE_SECONDS: String(props.functionTimeout.toSeconds() + 30),
          }
        : { MAIL_MAX_CONNECTIONS: '0' };
    const state: Record<string, string> =
      props.maxConnections > 0 || props.breaker ? { MAIL_STATE_TABLE: this.table.tableName } : {};
    this.environment = { ...ledger, ...rate, ...state, ...lease };
  }
}
