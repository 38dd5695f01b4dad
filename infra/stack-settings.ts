import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The committed example, used when no settings are given so `cdk synth` works for a first look. */
export const EXAMPLE_CONFIG_FILE = fileURLToPath(new URL('./example.config.json', import.meta.url));

const bool = z.union([z.boolean(), z.stringbool()], { error: 'must be true or false' });
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** `a@x.com,@y.com` on the command line, or an array in a config file. */
const list = z.union([
  z.array(z.string().trim().min(1)),
  z.string().transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0),
  ),
]);

/**
 * Deployment settings: CDK context (`-c key=value`) over a JSON config file (`-c configFile=...`).
 * Formats are checked here; the `MailSender` construct checks the rest with the same names.
 */
export const stackSettingsSchema = z
  .object({
    /** CloudFormation stack name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('O365MailQueue'),
    /** Target account and region; without them the template is environment-agnostic. */
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
      .optional(),
    sender: z.email({ error: 'must be the mailbox address that sends, e.g. mail@contoso.com' }),
    allowedFrom: list.optional(),
    smtpAuth: z.enum(['oauth2', 'password', 'none']).default('oauth2'),
    /** The door into Exchange Online (`MAIL_TRANSPORT`): SMTP AUTH or Microsoft Graph; docs/doors.md. */
    transport: z.enum(['smtp', 'graph']).optional(),
    /** SMTP endpoint preset (`SMTP_ENDPOINT`): `office365`, or `hve` for High Volume Email. */
    endpoint: z.enum(['office365', 'hve']).optional(),
    /** Graph host for sovereign clouds (`O365_GRAPH_ENDPOINT`), with transport graph. */
    graphEndpoint: z.url({ protocol: /^https$/ }).optional(),
    /** Graph's saveToSentItems (`MAIL_SAVE_TO_SENT_ITEMS`); false needs Mail.ReadWrite. */
    saveToSentItems: bool.optional(),
    /** Graph messages over ~4 MB (`MAIL_GRAPH_LARGE_MESSAGES`): reject, or upload (needs Mail.ReadWrite). */
    graphLargeMessages: z.enum(['reject', 'upload']).optional(),
    tenantId: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    authorityHost: z.url({ protocol: /^https$/ }).optional(),
    smtpHost: z.string().min(1).optional(),
    smtpPort: count(1, 65_535).optional(),
    secretArn: z.string().startsWith('arn:').optional(),
    /** Names of S3 buckets that messages may take attachments from. */
    attachmentBuckets: list
      .pipe(
        z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be S3 bucket names')),
      )
      .optional(),
    alarmEmail: z.email().optional(),
    fifo: bool.default(false),
    batchSize: count(1, 10).optional(),
    maxBatchingWindowSeconds: count(0, 300).optional(),
    maxConcurrency: count(2, 1000).optional(),
    maxReceiveCount: count(1, 1000).optional(),
    oldestMessageAgeMinutes: count(1, 20_160).optional(),
    /** The circuit breaker that pauses consuming on configuration errors and outages; `false` turns it off. */
    breaker: bool.optional(),
    /** SMTP connections to the mailbox at once across all sandboxes (`MAIL_MAX_CONNECTIONS`); 0 = no cap. */
    maxConnections: count(0, 1000).optional(),
    /** How long a warm sender keeps its idle SMTP session (`SMTP_KEEPALIVE_SECONDS`); 0 = QUIT after every batch. */
    smtpKeepAliveSeconds: count(0, 3600).optional(),
    /** The sender's metric `service` name; one per stack when several share an account. */
    serviceName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)
      .optional(),
    /** Turns on the scheduled daily report job (the example producer). */
    dailyReport: bool.default(false),
    /** Recipients of the daily report; required with `dailyReport`. */
    reportTo: list.optional(),
    /** EventBridge schedule of the report, UTC. */
    reportSchedule: z
      .string()
      .regex(/^(cron|rate)\(.+\)$/)
      .default('cron(0 6 * * ? *)'),
  })
  .strict()
  .superRefine((settings, ctx) => {
    if (settings.dailyReport && !settings.reportTo?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['reportTo'],
        message: 'is required when dailyReport is on',
      });
    }
  });

export type StackSettings = z.output<typeof stackSettingsSchema>;
export const SETTING_NAMES = Object.keys(stackSettingsSchema.shape) as (keyof StackSettings)[];

/** Thrown once with every problem, each naming the setting and how to set it. */
export class StackSettingsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(`Invalid deployment settings:\n- ${problems.join('\n- ')}`, options);
    this.name = 'StackSettingsError';
    this.problems = problems;
  }
}

/** Validates raw settings (context values are strings, config file values typed). */
export function parseStackSettings(raw: Record<string, unknown>): StackSettings {
  const result = stackSettingsSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown setting ${issue.keys.map((k) => `'${k}'`).join(', ')}: known settings are ${SETTING_NAMES.join(', ')}`;
    }
    const name = String(issue.path[0] ?? 'settings');
    const got = raw[name] === undefined ? 'it is missing' : `got ${JSON.stringify(raw[name])}`;
    return `${name}: ${issue.message.replace(/^Invalid input: /, '')} (${got}). Fix: -c ${name}=... or "${name}" in your config file`;
  });
  throw new StackSettingsError(problems, { cause: result.error });
}

/** Where the settings came from. */
export type SettingsSource = 'context' | 'config-file' | 'example';

export interface LoadedStackSettings {
  settings: StackSettings;
  source: SettingsSource;
  /** The config file read, if any. */
  configFile?: string;
}

function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) {
    throw new StackSettingsError([
      `configFile: ${path} does not exist. Fix: -c configFile=<path to JSON>`,
    ]);
  }
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a JSON object');
    const { $comment: _comment, ...settings } = parsed as Record<string, unknown>;
    return settings;
  } catch (error) {
    throw new StackSettingsError(
      [`configFile: ${path} is not a JSON object of settings (${(error as Error).message})`],
      {
        cause: error,
      },
    );
  }
}

/**
 * Reads settings: the config file named by the `configFile` context key (relative to `cwd`),
 * overlaid with any individual context keys. With neither a config file nor `sender`, the
 * committed example config is used and `source` says so (the app then warns).
 */
export function loadStackSettings(
  tryGetContext: (key: string) => unknown,
  cwd: string = process.cwd(),
): LoadedStackSettings {
  const fromContext: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const value = tryGetContext(name);
    if (value !== undefined) fromContext[name] = value;
  }
  const configFileSetting = tryGetContext('configFile');
  if (configFileSetting !== undefined && typeof configFileSetting !== 'string') {
    throw new StackSettingsError(['configFile: must be a path to a JSON file']);
  }
  const useExample = configFileSetting === undefined && fromContext.sender === undefined;
  const configFile = useExample
    ? EXAMPLE_CONFIG_FILE
    : configFileSetting && resolve(cwd, configFileSetting);
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const settings = parseStackSettings({ ...fromFile, ...fromContext });
  const source: SettingsSource = useExample ? 'example' : configFile ? 'config-file' : 'context';
  return configFile ? { settings, source, configFile } : { settings, source };
}
