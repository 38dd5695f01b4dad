import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS } from '../local/local-defaults.ts';
import { localStateFile, readLocalState } from '../local/local-state.ts';

/** The flags every queue command accepts; they win over the environment and the local pipeline. */
export interface TargetFlags {
  queueUrl?: string;
  dlqUrl?: string;
  region?: string;
  endpointUrl?: string;
  stack?: string;
}

/** Which queues a command talks to, and where that choice came from (shown to the user). */
export interface QueueTarget {
  source: 'flags' | 'stack' | 'environment' | 'local pipeline';
  queueUrl?: string;
  dlqUrl?: string;
  region: string;
  /** True for queues on this machine (an emulator): dummy credentials, inspection endpoint for ages. */
  local: boolean;
  client: SQSClient;
}

export type TargetResult = { ok: true; target: QueueTarget } | { ok: false; problem: string };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Decides where the command line sends its calls: `--queue-url`/`--dlq-url` flags, else the
 * outputs of `--stack`, else `MAIL_QUEUE_URL`/`MAIL_DLQ_URL` (environment or `.env`), else the
 * running local pipeline (`npm start`).
 */
export async function resolveQueueTarget(
  flags: TargetFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TargetResult> {
  const urls = await pickUrls(flags, env);
  if (!urls.ok) return urls;
  const { queueUrl, dlqUrl, source } = urls;
  const anyUrl = queueUrl ?? dlqUrl;
  if (!anyUrl) {
    return {
      ok: false,
      problem:
        'No queue to talk to: start the local pipeline (npm start), or pass --queue-url (and --dlq-url), ' +
        'or --stack <name>, or set MAIL_QUEUE_URL / MAIL_DLQ_URL.',
    };
  }
  const local = isLoopbackUrl(anyUrl);
  const region =
    flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOfUrl(anyUrl) ?? 'us-east-1';
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  // An emulator serves every queue from its own origin; calls without a queue URL (move tasks)
  // must go there too, not to AWS.
  const endpoint = flags.endpointUrl ?? (local ? new URL(anyUrl).origin : undefined);
  const client = new SQSClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    // An emulator checks no signature; without this the SDK would search for credentials (and IMDS).
    ...(local && !hasCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
  });
  return { ok: true, target: { source, queueUrl, dlqUrl, region, local, client } };
}

type PickedUrls =
  | { ok: true; source: QueueTarget['source']; queueUrl?: string; dlqUrl?: string }
  | { ok: false; problem: string };

async function pickUrls(flags: TargetFlags, env: NodeJS.ProcessEnv): Promise<PickedUrls> {
  if (flags.queueUrl || flags.dlqUrl) {
    return { ok: true, source: 'flags', queueUrl: flags.queueUrl, dlqUrl: flags.dlqUrl };
  }
  if (flags.stack) return stackOutputs(flags.stack, flags.region ?? env.AWS_REGION);
  if (env.MAIL_QUEUE_URL || env.MAIL_DLQ_URL) {
    return {
      ok: true,
      source: 'environment',
      queueUrl: env.MAIL_QUEUE_URL || undefined,
      dlqUrl: env.MAIL_DLQ_URL || undefined,
    };
  }
  const state = readLocalState(localStateFile(env));
  if (state) {
    return { ok: true, source: 'local pipeline', queueUrl: state.queueUrl, dlqUrl: state.dlqUrl };
  }
  return { ok: true, source: 'flags' };
}

/**
 * Reads the queue URLs from a deployed stack's outputs. Matches output keys loosely (any key
 * naming a dead-letter queue URL, any other queue URL) so renaming outputs in infra/ does not
 * break the command line.
 */
async function stackOutputs(stackName: string, region: string | undefined): Promise<PickedUrls> {
  // Loaded on demand: most runs never need CloudFormation, and the client is slow to import.
  const { CloudFormationClient, DescribeStacksCommand } = await import(
    '@aws-sdk/client-cloudformation'
  );
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Stacks?.[0]?.Outputs ?? [];
    const isUrl = (key: string) => /url/i.test(key);
    const isDlq = (key: string) => /dlq|dead.?letter/i.test(key);
    const dlqUrl = outputs.find((o) => o.OutputKey && isUrl(o.OutputKey) && isDlq(o.OutputKey));
    const queueUrl = outputs.find(
      (o) => o.OutputKey && isUrl(o.OutputKey) && !isDlq(o.OutputKey) && /queue/i.test(o.OutputKey),
    );
    if (!queueUrl?.OutputValue && !dlqUrl?.OutputValue) {
      return { ok: false, problem: `Stack ${stackName} has no queue URL outputs.` };
    }
    return {
      ok: true,
      source: 'stack',
      queueUrl: queueUrl?.OutputValue,
      dlqUrl: dlqUrl?.OutputValue,
    };
  } catch (error) {
    return { ok: false, problem: `Could not read stack ${stackName}: ${(error as Error).message}` };
  } finally {
    cfn.destroy();
  }
}

/**
 * The DLQ of `queueUrl`, read from its redrive policy, for when only `--queue-url` was given.
 * Local queues get the path-style URL (fauxqs' own host names need not resolve).
 */
export async function dlqUrlFromRedrivePolicy(target: QueueTarget): Promise<string | undefined> {
  if (!target.queueUrl) return undefined;
  const { Attributes } = await target.client.send(
    new GetQueueAttributesCommand({ QueueUrl: target.queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const policy = Attributes?.RedrivePolicy;
  if (!policy) return undefined;
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  const [, , , region, account, name] = arn?.split(':') ?? [];
  if (!name || !account) return undefined;
  const url = new URL(target.queueUrl);
  return target.local
    ? `${url.origin}/${account}/${name}`
    : `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

export function isLoopbackUrl(url: string): boolean {
  try {
    const { hostname } = new URL(url);
    // fauxqs names its queues http://sqs.<region>.localhost:<port>/...
    return LOOPBACK.has(hostname) || hostname.endsWith('.localhost');
  } catch {
    return false;
  }
}

function regionOfUrl(url: string): string | undefined {
  try {
    return /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

/** The queue's name, the last segment of its URL. */
export function queueNameOf(url: string): string {
  return new URL(url).pathname.split('/').filter(Boolean).pop() ?? url;
}
