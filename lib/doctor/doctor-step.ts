import { classifySmtpFailure } from '../transport/smtp/classify-smtp-failure.ts';

/** The steps of `o365-mail doctor`, in the order they run. */
export const DOCTOR_STEPS = {
  configuration: 'Configuration',
  dns: 'DNS',
  tcp: 'TCP',
  tls: 'STARTTLS/TLS',
  token: 'Token',
  auth: 'AUTH',
  sendTest: 'Test send',
} as const;

export type DoctorStepId = keyof typeof DOCTOR_STEPS;

/** Why a step failed, in plain words, and what fixes it (from the failure table when a row matches). */
export interface StepFailure {
  /** What happened, with the server's reply or the error. */
  reason: string;
  explanation: string;
  fix: string;
  /** The id of the matching row of `lib/transport/smtp/office365-replies.ts`. */
  tableRow?: string;
}

export type StepResult =
  | { id: DoctorStepId; title: string; status: 'ok'; details: string[]; warnings?: string[] }
  | { id: DoctorStepId; title: string; status: 'failed'; details: string[]; failure: StepFailure }
  | { id: DoctorStepId; title: string; status: 'skipped'; details: string[]; note: string };

export function ok(id: DoctorStepId, details: string[], warnings: string[] = []): StepResult {
  return {
    id,
    title: DOCTOR_STEPS[id],
    status: 'ok',
    details,
    ...(warnings.length ? { warnings } : {}),
  };
}

export function failed(id: DoctorStepId, failure: StepFailure, details: string[] = []): StepResult {
  return { id, title: DOCTOR_STEPS[id], status: 'failed', details, failure };
}

export function skipped(id: DoctorStepId, note: string): StepResult {
  return { id, title: DOCTOR_STEPS[id], status: 'skipped', details: [], note };
}

/**
 * Explains an error or reply with the failure table, the same words the sender logs and the DLQ
 * carries; falls back to the classifier's own reason and fix when no row matches.
 */
export function failureFromError(error: unknown): StepFailure {
  const c = classifySmtpFailure(error);
  return {
    reason: c.reason,
    explanation: c.entry?.explanation ?? c.reason,
    fix: c.fix,
    ...(c.entry ? { tableRow: c.entry.id } : {}),
  };
}

/** A failure explained by a named row of the table, with a reason of our own (e.g. a token claim). */
export function failureFromRow(rowExample: string, reason: string): StepFailure {
  const c = classifySmtpFailure(rowExample);
  return {
    reason,
    explanation: c.entry?.explanation ?? reason,
    fix: c.fix,
    ...(c.entry ? { tableRow: c.entry.id } : {}),
  };
}
