/**
 * The attempt on this device (local-db.ts AttemptDoc): made when the exam opens, read back on
 * every later load (a reload, a browser restart, offline), so that the exam comes back without
 * the appliance. Which attempt is current is remembered next to the session token.
 */
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import type { ExamForExaminees } from '../shared/exam-package';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import { attemptId, localDb, type AttemptDoc, type LocalDb } from './local-db';

const CURRENT_KEY = 'exam-hall.current-attempt';
const OFFSET_KEY = 'exam-hall.clock-offset';

export function currentAttemptId(storage: Storage = localStorage): string | undefined {
  return storage.getItem(CURRENT_KEY) ?? undefined;
}

export function forgetCurrentAttempt(storage: Storage = localStorage): void {
  storage.removeItem(CURRENT_KEY);
}

/** The appliance clock's offset, kept so that a reload without network keeps the right time. */
export function savedClockOffset(storage: Storage = localStorage): number | undefined {
  const v = Number(storage.getItem(OFFSET_KEY));
  return storage.getItem(OFFSET_KEY) === null || !Number.isFinite(v) ? undefined : v;
}
export function saveClockOffset(offset: number | undefined, storage: Storage = localStorage): void {
  if (offset !== undefined) storage.setItem(OFFSET_KEY, String(offset));
}

/** The exam settings the device acts on (the package carries the exam's settings). */
function settingsOf(exam: ExamForExaminees): { lockOnReload: boolean; requireFullscreen: boolean } {
  const s = (exam as { settings?: { lockOnReload?: boolean; requireFullscreen?: boolean } }).settings;
  return { lockOnReload: s?.lockOnReload ?? true, requireFullscreen: s?.requireFullscreen ?? false };
}

/** The resume-code triples for offline unlock (empty when the appliance cannot be reached). */
export async function fetchTriples(token: string): Promise<ResumeTriple[]> {
  if (!navigator.onLine) return [];
  const result = await callApi<{ triples: ResumeTriple[] }>('/api/exam/resume-challenges', {
    headers: apiHeaders(token),
  });
  return result.ok ? result.body.triples : [];
}

/** Makes (or finds) the attempt when the exam opens, and makes it the current one. */
export async function openAttempt(input: {
  token: string;
  exam: ExamForExaminees;
  studentId: string;
  deadline: number;
  triples?: ResumeTriple[];
}): Promise<{ db: LocalDb; attempt: AttemptDoc }> {
  const db = await localDb();
  const id = attemptId(input.exam.examId, input.studentId);
  const existing = await db.attempts.findOne(id).exec();
  localStorage.setItem(CURRENT_KEY, id);
  if (existing) {
    // Signed in again here after the exam had moved away: it continues on this device.
    const back = existing.moved === null ? existing : await existing.incrementalPatch({ moved: null });
    return { db, attempt: back.toMutableJSON() };
  }
  const triples = input.triples ?? (await fetchTriples(input.token));
  const attempt: AttemptDoc = {
    id,
    examId: input.exam.examId,
    studentId: input.studentId,
    exam: input.exam,
    deadline: input.deadline,
    ...settingsOf(input.exam),
    triples,
    spent: [],
    lock: null,
    sealed: null,
    receipt: null,
    currentQuestionId: null,
    moved: null,
  };
  await db.attempts.insert(attempt);
  // A sheet may be there already (pulled from the appliance on a new device): keep it.
  if (!(await db.sheets.findOne(id).exec()))
    await db.sheets.insert({ id, counter: 0, answers: {}, flagged: [], versions: {} });
  return { db, attempt };
}

/**
 * The current attempt as this load finds it. A load that finds an attempt in progress is a
 * reload (or a browser restart): when the exam says so, it comes back locked.
 */
export async function resumeAttempt(now: number): Promise<{ db: LocalDb; attempt: AttemptDoc } | undefined> {
  const id = currentAttemptId();
  if (id === undefined) return undefined;
  const db = await localDb();
  const doc = await db.attempts.findOne(id).exec();
  if (!doc) return undefined;
  let attempt = doc.toMutableJSON();
  const inProgress = attempt.sealed === null && attempt.receipt === null;
  if (inProgress && attempt.lockOnReload && attempt.lock === null && attempt.triples.length > 0) {
    attempt = (await doc.incrementalPatch({ lock: { reason: 'reload', at: now } })).toMutableJSON();
  }
  return { db, attempt };
}
