/**
 * Secrets for the sender: when `MAIL_SECRET_ARN` is set, the Secrets Manager secret (a JSON object)
 * is read through Powertools Parameters (cached in memory, so warm invocations do not call Secrets
 * Manager) and its values win over the environment. Values never appear in a message or log:
 * only variable names do.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { MailQueueError } from '../errors.ts';
import { loadSenderConfig, SECRET_VARIABLES, type SenderConfigResult } from './sender-config.ts';

type Env = Record<string, string | undefined>;

/**
 * Keys of the secret that are not variable names: `expiresAt`, when the client secret or password
 * it holds expires, is read as `MAIL_CREDENTIAL_EXPIRES_AT` (credential health).
 */
const SECRET_KEY_VARIABLES: Readonly<Record<string, string>> = {
  expiresAt: 'MAIL_CREDENTIAL_EXPIRES_AT',
};

/** Keys the secret may hold: the secret values, the app ids some teams keep next to them, `expiresAt`. */
export const SECRET_KEYS: readonly string[] = [
  ...SECRET_VARIABLES,
  'O365_TENANT_ID',
  'O365_CLIENT_ID',
  ...Object.keys(SECRET_KEY_VARIABLES),
];
/** @default 300 seconds: a rotated secret is picked up within five minutes. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

export interface ResolveSecretsOptions {
  /** How long a fetched secret is reused. @default 300 */
  maxAgeSeconds?: number;
  /**
   * Skip the cache and read the secret now (after a configuration error, and in the breaker's
   * probe: someone may just have fixed it). @default false
   */
  forceFetch?: boolean;
  /** Reads the secret as parsed JSON. @default Powertools `getSecret` with `transform: 'json'` */
  fetchSecret?: (secretId: string, maxAgeSeconds: number, forceFetch: boolean) => Promise<unknown>;
}

/** The secret could not be read or is not a JSON object of strings. */
export class SecretResolutionError extends MailQueueError {
  readonly secretId: string;
  /** True when a later attempt may work (throttling, network); false for access or format problems. */
  readonly transient: boolean;
  constructor(
    secretId: string,
    message: string,
    transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecretResolutionError';
    this.secretId = secretId;
    this.transient = transient;
  }
}

export interface ResolvedSecrets {
  /** `env` with the secret's values merged over it. */
  env: Env;
  /** Names of the variables that came from the secret. */
  fromSecret: string[];
  /** Keys in the secret this sender does not use (names only). */
  ignoredKeys: string[];
}

const TRANSIENT_SDK_ERRORS = new Set([
  'ThrottlingException',
  'InternalServiceError',
  'TimeoutError',
  'RequestTimeout',
]);

const defaultFetchSecret = (
  secretId: string,
  maxAge: number,
  forceFetch: boolean,
): Promise<unknown> => getSecret(secretId, { transform: 'json', maxAge, forceFetch });

/** Merges the `MAIL_SECRET_ARN` secret over `env`; returns `env` unchanged when it is not set. */
export async function resolveSecrets(
  env: Env,
  options: ResolveSecretsOptions = {},
): Promise<ResolvedSecrets> {
  const secretId = env.MAIL_SECRET_ARN?.trim();
  if (!secretId) return { env, fromSecret: [], ignoredKeys: [] };
  const fetchSecret = options.fetchSecret ?? defaultFetchSecret;
  let value: unknown;
  try {
    value = await fetchSecret(
      secretId,
      options.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS,
      options.forceFetch ?? false,
    );
  } catch (err) {
    throw describeFetchFailure(secretId, err);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new SecretResolutionError(
      secretId,
      `MAIL_SECRET_ARN: secret ${secretId} must hold a JSON object such as {"O365_CLIENT_SECRET": "..."}.`,
      false,
    );
  }
  const merged: Env = { ...env };
  const fromSecret: string[] = [];
  const ignoredKeys: string[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!SECRET_KEYS.includes(key)) {
      ignoredKeys.push(key);
      continue;
    }
    if (typeof v !== 'string') {
      throw new SecretResolutionError(
        secretId,
        `MAIL_SECRET_ARN: key ${key} in secret ${secretId} must be a string.`,
        false,
      );
    }
    const variable = SECRET_KEY_VARIABLES[key] ?? key;
    merged[variable] = v;
    fromSecret.push(variable);
  }
  return { env: merged, fromSecret, ignoredKeys };
}

function describeFetchFailure(secretId: string, err: unknown): SecretResolutionError {
  const root = rootCause(err);
  const name = root instanceof Error ? root.name : 'Error';
  if (err instanceof Error && err.name === 'TransformParameterError') {
    // Its message quotes the start of the secret (JSON.parse), so it is not passed on.
    return new SecretResolutionError(
      secretId,
      `MAIL_SECRET_ARN: secret ${secretId} is not valid JSON; store a JSON object such as {"O365_CLIENT_SECRET": "..."}.`,
      false,
    );
  }
  const transient =
    TRANSIENT_SDK_ERRORS.has(name) ||
    /ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket/i.test(String((root as Error)?.message));
  const hint =
    name === 'ResourceNotFoundException'
      ? 'check the ARN and the region'
      : name === 'AccessDeniedException'
        ? 'grant the function secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)'
        : 'the sender retries';
  const detail = root instanceof Error ? `${root.name}: ${root.message}` : String(root);
  return new SecretResolutionError(
    secretId,
    `MAIL_SECRET_ARN: could not read secret ${secretId} (${detail}); ${hint}.`,
    transient,
    { cause: err },
  );
}

function rootCause(err: unknown): unknown {
  let current = err;
  for (let i = 0; i < 5 && current instanceof Error && current.cause; i++) current = current.cause;
  return current;
}

/**
 * Resolves the secret, then reads and validates the configuration. A secret that cannot be read
 * is reported as a problem like any other configuration problem.
 */
export async function loadSenderConfigWithSecrets(
  env: Env,
  options: ResolveSecretsOptions = {},
): Promise<SenderConfigResult> {
  let resolved: ResolvedSecrets;
  try {
    resolved = await resolveSecrets(env, options);
  } catch (err) {
    const message =
      err instanceof SecretResolutionError ? err.message : `MAIL_SECRET_ARN: ${String(err)}`;
    return { ok: false, problems: [message] };
  }
  const result = loadSenderConfig(resolved.env);
  if (!result.ok) return result;
  const warnings = [...result.warnings];
  if (resolved.ignoredKeys.length > 0) {
    warnings.push(
      `MAIL_SECRET_ARN: ignored keys ${resolved.ignoredKeys.join(', ')} (this sender reads ${SECRET_KEYS.join(', ')}).`,
    );
  }
  if (env.AWS_LAMBDA_FUNCTION_NAME) {
    const plain = SECRET_VARIABLES.filter(
      (name) => env[name] && !resolved.fromSecret.includes(name),
    );
    if (plain.length > 0) {
      warnings.push(
        `${plain.join(', ')} set as plain Lambda environment variables: anyone who can read the function configuration can read them. Move them into the MAIL_SECRET_ARN secret.`,
      );
    }
  }
  return { ...result, warnings };
}
