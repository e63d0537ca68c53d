/**
 * The proctor API as the dashboard uses it (appliance/src/http/proctor-routes.ts, described in
 * docs/proctoring.md). The session is an HttpOnly `__Host-` cookie the browser keeps; the
 * browser's own Origin header passes the appliance's check on every change.
 */
import type { ExamForExaminees } from '../../../domain/exam-package.js';
import type { AnswerValue } from '../../../domain/answers.js';
import type { HardwareCheck } from '../../../domain/exam-options.js';
import type {
  ExamInfo,
  ExamSummary,
  MonitorMessage,
  MonitorSnapshot,
  ParticipantColumn,
  ParticipantRow,
  TrackingTotals,
} from '../../../domain/monitor.js';
import type { SyncStatus } from '../../../domain/sync-status.js';
import type { TimeUpChoice, TimingCase } from '../../../domain/time-up.js';
import { callApi, type ApiResult } from '../shared/api';

export type { RefusedDoc, SyncStatus } from '../../../domain/sync-status.js';

// The wire types are declared once, in domain/ (docs/architecture.md, "Wire types").
export type {
  ExamInfo,
  ExamSummary,
  HardwareCheck,
  MonitorMessage,
  MonitorSnapshot,
  ParticipantColumn,
  ParticipantRow,
  TrackingTotals,
};
export { INTEGRITY_REVIEW_STATUSES } from '../../../domain/events.js';
export {
  HARDWARE_CHECKS,
  PROCTORING_TYPES,
  SNAPSHOT_INTERVAL_SECONDS,
  VERIFICATION_MODES,
} from '../../../domain/exam-options.js';
export type { ProctoringType, SnapshotProblem, SnapshotSource } from '../../../domain/exam-options.js';

export interface Proctor {
  username: string;
  displayName: string;
  role: string;
}

export interface ExamineeEvent {
  seq: number;
  at: string;
  kind: string;
  actor: { role: string; username?: string; studentId?: string };
  data: Record<string, unknown>;
}

export interface SebInfo {
  required: boolean;
  startURL: string;
  configKey: string;
  quitPassword: string | null;
  fileName: string;
}

const P = '/api/proctor';
const exam = (examId: string) => `${P}/exams/${encodeURIComponent(examId)}`;
const examinee = (examId: string, studentId: string) => `${exam(examId)}/participants/${encodeURIComponent(studentId)}`;

export const login = (username: string, password: string): Promise<ApiResult<{ proctor: Proctor }>> =>
  callApi(`${P}/login`, { method: 'POST', json: { username, password } });

export const me = (): Promise<ApiResult<{ proctor: Proctor }>> => callApi(`${P}/me`);

export const logout = (): Promise<ApiResult<{ ok: true }>> => callApi(`${P}/logout`, { method: 'POST' });

export const exams = (): Promise<ApiResult<{ exams: ExamSummary[] }>> => callApi(`${P}/exams`);

export const examInfo = (examId: string): Promise<ApiResult<ExamInfo>> => callApi(exam(examId));

export const saveExamSettings = (
  examId: string,
  settings: Partial<ExamInfo['editable']>,
): Promise<ApiResult<ExamInfo>> => callApi(`${exam(examId)}/settings`, { method: 'PATCH', json: settings });

/** GET .../exam-password (chief; each look is an event). */
export const examPassword = (examId: string): Promise<ApiResult<{ password: string }>> =>
  callApi(`${exam(examId)}/exam-password`);

export const generatePasswords = (examId: string, count: number): Promise<ApiResult<{ passwords: string[] }>> =>
  callApi(`${exam(examId)}/verification-passwords`, { method: 'POST', json: { count } });

/** A question as the Messages tab labels it: its number; the prompt's first words when allowed. */
export interface QuestionLabel {
  questionId: string;
  number: number;
  excerpt: string | null;
}
export const questionLabels = (examId: string): Promise<ApiResult<{ questions: QuestionLabel[] }>> =>
  callApi(`${exam(examId)}/questions`);
export const preview = (examId: string): Promise<ApiResult<{ version: string; exam: ExamForExaminees }>> =>
  callApi(`${exam(examId)}/preview`);

export const sebInfo = (examId: string): Promise<ApiResult<SebInfo>> => callApi(`${exam(examId)}/seb`);

export const messages = (examId: string): Promise<ApiResult<{ messages: MonitorMessage[] }>> =>
  callApi(`${exam(examId)}/messages`);

export const sendMessage = (
  examId: string,
  message: { text: string; audience?: 'all' | 'examinee' | 'staff'; studentId?: string; questionId?: string },
): Promise<ApiResult<{ messageId: string }>> => callApi(`${exam(examId)}/messages`, { method: 'POST', json: message });

export const participants = (examId: string): Promise<ApiResult<{ rows: ParticipantRow[]; total: number }>> =>
  callApi(`${exam(examId)}/participants`);

/** A per-row action (POST .../participants/:studentId/<action>); the answer is the changed row. */
export const rowAction = (
  examId: string,
  studentId: string,
  action: string,
  body: Record<string, unknown>,
): Promise<ApiResult<{ row: ParticipantRow }>> =>
  callApi(`${examinee(examId, studentId)}/${action}`, { method: 'POST', json: body });

export const revealContact = (
  examId: string,
  studentId: string,
): Promise<ApiResult<{ email: string | null; phone: string | null }>> =>
  callApi(`${examinee(examId, studentId)}/reveal-contact`, { method: 'POST', json: {} });

export const examineeEvents = (examId: string, studentId: string): Promise<ApiResult<{ events: ExamineeEvent[] }>> =>
  callApi(`${examinee(examId, studentId)}/events`);

/** GET .../participants/:studentId/time-up (appliance/src/http/proctor-participant-routes.ts). */
export interface TimeUpView {
  submission: {
    submissionId: string;
    at: string;
    submissionType: 'manual' | 'automatic';
    timing: TimingCase;
    late: boolean;
    differingAnswers: number | null;
  } | null;
  timeUp: {
    differingQuestions: { id: string; prompt: string }[];
    unseenMs: number | null;
    decision: { choice: TimeUpChoice; by: string; at: string; note: string | null } | null;
    answersAtTimeUp: { sha256: string; answers: Record<string, AnswerValue> };
    submittedFile: { sha256: string; answers: Record<string, AnswerValue> };
  } | null;
}

export const timeUpView = (examId: string, studentId: string): Promise<ApiResult<TimeUpView>> =>
  callApi(`${examinee(examId, studentId)}/time-up`);

export const photoUrl = (examId: string, studentId: string, sha256: string): string =>
  `${examinee(examId, studentId)}/verification-photos/${encodeURIComponent(sha256)}`;

/** A proctoring snapshot of this examinee (GET .../snapshots/:sha256). */
export const snapshotUrl = (examId: string, studentId: string, sha256: string): string =>
  `${examinee(examId, studentId)}/snapshots/${encodeURIComponent(sha256)}`;

export const resumeCode = (
  examId: string,
  studentId: string,
  challenge: string,
): Promise<ApiResult<{ challenge: string; resumeCode: string }>> =>
  callApi(`${examinee(examId, studentId)}/resume-code`, { method: 'POST', json: { challenge } });

export const columnPreferences = (): Promise<
  ApiResult<{ columns: ParticipantColumn[]; available: ParticipantColumn[] }>
> => callApi(`${P}/preferences/columns`);

export const saveColumnPreferences = (
  columns: ParticipantColumn[],
): Promise<ApiResult<{ columns: ParticipantColumn[] }>> =>
  callApi(`${P}/preferences/columns`, { method: 'PUT', json: { columns } });

export const syncStatus = (): Promise<ApiResult<SyncStatus>> => callApi('/api/sync/status');
/** Tries the central server now, not at the next retry. */
export const syncNow = (): Promise<ApiResult<SyncStatus>> => callApi('/api/sync/now', { method: 'POST' });

export const monitorUrl = (examId: string): string => `${exam(examId)}/monitor`;
export const reportUrl = (examId: string): string => `${exam(examId)}/report.csv`;
export const eventLogUrl = (examId: string): string => `${exam(examId)}/events.jsonl`;
export const sebConfigUrl = (examId: string): string => `${exam(examId)}/seb-config`;
