import { type Duration, Validations } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IRole, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { EventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PROBE_EVENT } from '../lib/guards/breaker/probe-event.ts';

/** Properties of {@link ConsumptionBreaker}. */
export interface ConsumptionBreakerProps {
  /** The sender function: it pauses itself, and runs the probe. */
  readonly fn: IFunction;
  readonly role: IRole;
  /** The mapping between the mail queue and `fn`, which the breaker switches off and on. */
  readonly mapping: EventSourceMapping;
  /** How often the probe runs. */
  readonly probeInterval: Duration;
}

/**
 * The AWS side of the sender's circuit breaker (`lib/guards/breaker/`): the function may switch
 * its own event source mapping off and on, and an EventBridge rule runs its probe on a schedule
 * (the same function, with {@link PROBE_EVENT} as input). Part of `MailSender`.
 */
export class ConsumptionBreaker extends Construct {
  /** The schedule of the probe. */
  readonly probeRule: Rule;

  constructor(scope: Construct, id: string, props: ConsumptionBreakerProps) {
    super(scope, id);
    // A policy of its own, not the role's default one: the function depends on its default
    // policy, the mapping on the function, and this policy on the mapping (a cycle otherwise).
    const policy = new Policy(this, 'SwitchOwnMapping', {
      roles: [props.role],
      statements: [
        new PolicyStatement({
          sid: 'FindOwnEventSourceMapping',
          actions: ['lambda:ListEventSourceMappings'],
          resources: ['*'],
        }),
        new PolicyStatement({
          sid: 'SwitchOwnEventSourceMapping',
          actions: ['lambda:UpdateEventSourceMapping'],
          resources: [props.mapping.eventSourceMappingArn],
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'lambda:ListEventSourceMappings has no resource-level permissions; it only reads mapping metadata, so the function can find the UUID of its own mapping (which its environment cannot carry: the mapping depends on the function). Switching is allowed on that one mapping only.',
    });
    this.probeRule = new Rule(this, 'Probe', {
      description:
        "Mail sender circuit breaker: probes the sender's configuration while consuming is paused",
      schedule: Schedule.rate(props.probeInterval),
      targets: [
        new LambdaFunction(props.fn, {
          event: RuleTargetInput.fromObject(PROBE_EVENT),
          // The next scheduled probe is the retry.
          retryAttempts: 0,
        }),
      ],
    });
  }
}
