/**
 * The examinee API as the app uses it (appliance/src/http/examinee-routes.ts). Every request
 * carries X-Client-Version; the exam info also measures the appliance clock.
 */
import { callApi, type ApiResult } from '../shared/api';
import type { ApplianceClock } from '../shared/appliance-clock';
import { CLIENT_VERSION } from '../shared/version';
import type { ProctoringType, SnapshotSource } from '../../../domain/exam-options.js';

/** What the appliance says the device is to photograph (GET /api/exam, and the event stream). */
export interface ProctoringConfig {
  type: ProctoringType;
  sources: SnapshotSource[];
  intervalSeconds: number;
  consentText: string | null;
  cameraRequired: boolean;
}

export interface SignedIn {
  token: string;
  examId: string;
  status: string;
  waitingForApproval: boolean;
}

/** The part of GET /api/exam the lobby shows. */
export interface ExamInfo {
  exam: { examId: string; title: string; durationMinutes: number };
  examinee: { studentId: string; name: string };
  status: string;
  schedule: { officialStart: string; deadline: string; downloadWindow: { opens: string; closes: string } };
  countdown: { serverNow: number; msUntilStart: number; msLeft: number };
  downloads: { used: number; max: number; left: number };
  /** The proctoring snapshots the device is to take (absent from an older appliance). */
  proctoring?: ProctoringConfig;
}

export const apiHeaders = (token?: string): Record<string, string> => ({
  'x-client-version': CLIENT_VERSION,
  ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
});

export function signIn(input: {
  studentId: string;
  accessCode: string;
  deviceId: string;
}): Promise<ApiResult<SignedIn>> {
  return callApi<SignedIn>('/api/session', { method: 'POST', headers: apiHeaders(), json: input });
}

/** What GET /api/session says of a session; `token`: a proctor approved this device, here is its session. */
export interface SessionStatus {
  studentId: string;
  waitingForApproval: boolean;
  status: string;
  token?: string;
}

/** GET /api/session: also answers a device waiting for a proctor's approval. */
export function sessionStatus(token: string): Promise<ApiResult<SessionStatus>> {
  return callApi<SessionStatus>('/api/session', { headers: apiHeaders(token) });
}

/** GET /api/exam; on success also tells `clock` the appliance's time. */
export async function examInfo(token: string, clock: ApplianceClock): Promise<ApiResult<ExamInfo>> {
  const sentAt = Date.now();
  const result = await callApi<ExamInfo>('/api/exam', { headers: apiHeaders(token) });
  if (result.ok) clock.observe(sentAt, result.body.countdown.serverNow, Date.now());
  return result;
}

/** GET /api/exam/key: the package key, from the official start (the first release starts the exam). */
export function examKey(token: string): Promise<ApiResult<{ key: string; startedAt: string; deadline: string }>> {
  return callApi('/api/exam/key', { headers: apiHeaders(token) });
}
