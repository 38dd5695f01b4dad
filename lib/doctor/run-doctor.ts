import { checkAuthAndSend } from './check-auth.ts';
import { checkConfiguration } from './check-configuration.ts';
import { checkDns, checkTcp } from './check-network.ts';
import { checkTls } from './check-tls.ts';
import { checkToken } from './check-token.ts';
import { type DoctorStepId, type StepResult, skipped } from './doctor-step.ts';

export interface DoctorOptions {
  env: NodeJS.ProcessEnv;
  /** Send one test message to this address after AUTH. */
  sendTestTo?: string;
  /** From address of the test message. @default the sender mailbox */
  from?: string;
  /** Called as each step ends, so the command can print it at once. */
  onStep?: (step: StepResult) => void;
}

export interface DoctorReport {
  ok: boolean;
  steps: StepResult[];
}

const ORDER: DoctorStepId[] = ['configuration', 'dns', 'tcp', 'tls', 'token', 'auth', 'sendTest'];

/**
 * Walks the path to Office 365 one step at a time: configuration, DNS, TCP, STARTTLS/TLS, token,
 * AUTH, optional test send. After the first failure the later steps are skipped: their result
 * would only repeat it.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const steps: StepResult[] = [];
  const record = (step: StepResult) => {
    steps.push(step);
    options.onStep?.(step);
    return step.status !== 'failed';
  };
  const finish = (): DoctorReport => {
    const failedStep = steps.find((s) => s.status === 'failed');
    for (const id of ORDER.slice(steps.length)) {
      record(skipped(id, `skipped: ${failedStep?.title ?? 'an earlier step'} failed`));
    }
    return { ok: !failedStep, steps };
  };

  const configured = await checkConfiguration(options.env);
  if (!record(configured.result) || !configured.config) return finish();
  const { config } = configured;
  if (!record(await checkDns(config.smtp))) return finish();
  if (!record(await checkTcp(config.smtp))) return finish();
  if (!record(await checkTls(config.smtp))) return finish();
  let token: string | undefined;
  if (config.oauth) {
    const checked = await checkToken(config.oauth);
    token = checked.token;
    if (!record(checked.result)) return finish();
  } else {
    record(skipped('token', `not needed: SMTP_AUTH=${config.smtp.auth}`));
  }
  for (const step of await checkAuthAndSend(config, {
    token,
    sendTestTo: options.sendTestTo,
    from: options.from,
  })) {
    record(step);
  }
  return finish();
}
