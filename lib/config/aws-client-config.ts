/**
 * Region and credentials for the sender's AWS clients (SQS, S3). In Lambda both come from the
 * runtime's environment and this adds nothing: the SDK's own provider chain decides. Against a
 * local emulator (an endpoint on a loopback address) a missing region would fail every call and
 * missing credentials would send the SDK probing the instance metadata service; emulators ignore
 * signatures, so placeholders are used there, and only there.
 */
import type { AwsCredentialIdentity } from '@smithy/types';

type Env = Record<string, string | undefined>;

export interface AwsClientConfig {
  region?: string;
  credentials?: AwsCredentialIdentity;
  /** The SQS endpoint override (`AWS_ENDPOINT_URL_SQS`, else `AWS_ENDPOINT_URL`), if any. */
  sqsEndpoint?: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1|.+\.localhost)$/i;

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

export function awsClientConfig(
  env: Env,
  queueUrls: readonly (string | undefined)[],
): AwsClientConfig {
  const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined;
  const config: AwsClientConfig = sqsEndpoint ? { sqsEndpoint } : {};
  if (!env.AWS_REGION && !env.AWS_DEFAULT_REGION) {
    const fromUrl = queueUrls
      .map((u) => /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(hostOf(u) ?? '')?.[1])
      .find(Boolean);
    config.region = fromUrl ?? 'us-east-1';
  }
  const local = [sqsEndpoint, ...queueUrls].some((u) => LOOPBACK.test(hostOf(u) ?? ''));
  const hasCredentialSource =
    env.AWS_ACCESS_KEY_ID ||
    env.AWS_PROFILE ||
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
    env.AWS_WEB_IDENTITY_TOKEN_FILE;
  if (local && !hasCredentialSource) {
    config.credentials = { accessKeyId: 'local-emulator', secretAccessKey: 'local-emulator' };
  }
  return config;
}
