/** Shared fixtures for the infra tests: valid props, a fresh stack, and no AWS credentials. */
import { readFileSync } from 'node:fs';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { MailSender, type MailSenderProps } from '../../infra/mail-sender.ts';

export const TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:o365/mail-AbC123';

/** Props a real deployment would use; tests override what they look at. */
export function senderProps(overrides: Partial<MailSenderProps> = {}): MailSenderProps {
  return {
    sender: 'mail@contoso.com',
    tenantId: TENANT_ID,
    clientId: CLIENT_ID,
    ...overrides,
  };
}

const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/** Context that makes CDK skip asset bundling (esbuild runs once per file, where it is asserted). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/**
 * An app for tests. CDK's built-in CloudFormation schema check is off: it only warns (never fails
 * a synth) and takes seconds per template; `cdk synth` in app-synth.test.ts still runs it.
 */
export function newApp({ bundle = false, context = {} as Record<string, unknown> } = {}): App {
  return new App({
    builtinCloudFormationValidation: false,
    // The feature flags of cdk.json, so tests see the template `cdk deploy` deploys.
    context: { ...CDK_JSON_CONTEXT, ...(bundle ? {} : SKIP_BUNDLING), ...context },
  });
}

/**
 * A stack in a fresh app; `env` left out, as `cdk synth` without settings does. Functions are
 * bundled only with `bundle: true`.
 */
export function newStack(id = 'Test', { bundle = false } = {}): Stack {
  return new Stack(newApp({ bundle }), id);
}

/**
 * Removes every AWS credential and profile variable from this test process, so a synth that
 * tried to reach AWS would fail instead of quietly using someone's credentials.
 */
export function withoutAwsCredentials(): void {
  for (const key of Object.keys(process.env)) {
    if (
      /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE|REGION|DEFAULT_REGION)$/.test(
        key,
      )
    ) {
      delete process.env[key];
    }
  }
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}

/** Where the bundled code of the function under `scope` was staged. */
export function stagedBundleDir(scope: IConstruct): string {
  const staging = scope.node.findAll().find((c): c is AssetStaging => c instanceof AssetStaging);
  if (!staging) throw new Error(`no asset under ${scope.node.path}`);
  return staging.absoluteStagedPath;
}

/** The statements of the one policy attached to `role`, exactly as synthesized. */
export function policyOf(template: Template, stack: Stack, role: IRole | undefined) {
  if (!role) throw new Error('no role');
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [stack.resolve(role.roleName)] },
    }),
  );
  // The role's default policy, and the breaker's own (see infra/consumption-breaker.ts).
  if (policies.length === 0) throw new Error('no policy on the role');
  return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** A `MailSender` with {@link senderProps} and `overrides` in a fresh stack, and its template. */
export function synthSender(overrides: Partial<MailSenderProps> = {}) {
  const stack = newStack();
  const sender = new MailSender(stack, 'MailSender', senderProps(overrides));
  return { stack, sender, template: Template.fromStack(stack) };
}

/** The sender function's environment variables (the function that has `MAIL_SENDER`). */
export function senderVariables(template: Template): Record<string, unknown> {
  const [fn] = Object.values(
    template.findResources('AWS::Lambda::Function', {
      Properties: {
        Environment: { Variables: Match.objectLike({ MAIL_SENDER: Match.anyValue() }) },
      },
    }),
  );
  return (fn?.Properties.Environment.Variables ?? {}) as Record<string, unknown>;
}
