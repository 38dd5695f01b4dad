import type { SenderConfig } from '../config/sender-config.ts';
import { checkAuthAndSend } from './check-auth.ts';
import { checkConfiguration } from './check-configuration.ts';
import { checkGraphSend } from './check-graph-send.ts';
import { checkDns, checkTcp } from './check-network.ts';
import { checkHttpsTls, checkTls } from './check-tls.ts';
import { checkToken } from './check-token.ts';
import { type DoctorStepId, type StepResult, skipped } from './doctor-step.ts';
import { graphFailureFromError } from './graph-step-failure.ts';
import { tokenExpectation } from './token-expectation.ts';

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
  if (config.transport === 'graph') {
    for await (const step of graphSteps(config, options)) if (!record(step)) break;
    return finish();
  }
  if (!record(await checkDns(config.smtp))) return finish();
  if (!record(await checkTcp(config.smtp))) return finish();
  if (!record(await checkTls(config.smtp))) return finish();
  let token: string | undefined;
  if (config.oauth) {
    const checked = await checkToken(config.oauth, tokenExpectation(config));
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

/** The path to Graph: its host on 443 (DNS, TCP, TLS), the token, and the test send. */
async function* graphSteps(
  config: SenderConfig,
  options: DoctorOptions,
): AsyncGenerator<StepResult> {
  const url = new URL(config.graph?.endpoint ?? 'https://graph.microsoft.com');
  const target = {
    host: url.hostname,
    port: Number(url.port || 443),
    connectionTimeoutMs: config.smtp.connectionTimeoutMs,
  };
  yield await checkDns(target, graphFailureFromError);
  yield await checkTcp(target, graphFailureFromError);
  yield await checkHttpsTls(target, graphFailureFromError);
  if (!config.oauth) return;
  const checked = await checkToken(config.oauth, tokenExpectation(config), graphFailureFromError);
  yield checked.result;
  yield* await checkGraphSend(config, {
    token: checked.token,
    sendTestTo: options.sendTestTo,
    from: options.from,
  });
}
