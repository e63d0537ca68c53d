/**
 * The rules of an examinee's exam day: may they sign in, download, start, save, submit, now?
 * Each rule takes the state and the time and returns a decision; nothing here has side effects.
 */
import { refuse, type Result } from './errors.js';
import type { ExamineeTimeline } from './exam-clock.js';
import type { AnswerFile } from './answers.js';
import type { Question } from './exam-format.js';
import { activeSubmission, type ExamineeState } from './examinee-state.js';

/** What signing in with a device does. */
export type SignInDecision = Result<{
  /** bind: first sign-in or a new session on the bound device; relogin: second device, waits. */
  action: 'bind' | 'same-device' | 'relogin-request' | 'already-pending';
}>;

/** May the examinee sign in from `deviceId` now? */
export function decideSignIn(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  deviceId: string,
  now: number,
): SignInDecision {
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (state.deviceId === undefined) {
    if (now < timeline.loginOpens) return refuse('login-not-open-yet');
    if (now > timeline.lateLoginDeadline) return refuse('late-login-closed');
    return { ok: true, action: 'bind' };
  }
  if (state.deviceId === deviceId) return { ok: true, action: 'same-device' };
  if (state.pendingDeviceId === deviceId) return { ok: true, action: 'already-pending' };
  return { ok: true, action: 'relogin-request' };
}

/** May the examinee download the exam package now? */
export function decideDownload(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  maxDownloads: number,
  now: number,
): Result<{ downloadNo: number }> {
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (activeSubmission(state)) return refuse('already-submitted');
  if (now < timeline.downloadOpens) return refuse('download-window-not-open');
  if (now > timeline.downloadCloses) return refuse('download-window-closed');
  if (state.downloads.length >= maxDownloads) return refuse('download-limit-reached');
  return { ok: true, downloadNo: state.downloads.length + 1 };
}

/** May the examinee get the exam key (start the exam) now? */
export function decideStart(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  now: number,
  /** The exam (or a proctor) asks for password or camera verification before the start. */
  needsVerification = false,
  /**
   * Whether the appliance's clock is trusted (NTP or a chief proctor). On an untrusted clock no
   * exam opens for the first time: "the official start has come" cannot be told. An examinee who
   * already started keeps getting the key (e.g. after a reload).
   */
  clockTrusted = true,
): Result<{ firstStart: boolean }> {
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (needsVerification && state.startedAt === undefined && state.verification !== 'verified')
    return refuse('verification-pending');
  if (activeSubmission(state)) return refuse('already-submitted');
  if (state.downloads.length === 0) return refuse('exam-not-downloaded');
  if (!clockTrusted && state.startedAt === undefined) return refuse('clock-not-trusted');
  if (now < timeline.officialStart) return refuse('exam-not-started');
  if (now >= timeline.deadline) return refuse('exam-time-over');
  return { ok: true, firstStart: state.startedAt === undefined };
}

/**
 * Has the examinee's exam begun? Either the appliance released the key, or the examinee has the
 * package and the official start has passed: then they may have opened it with the exam password
 * the proctor read out while the network was down, and their answers must be taken.
 */
export function examBegun(state: ExamineeState, timeline: ExamineeTimeline, now: number): boolean {
  return state.startedAt !== undefined || (state.downloads.length > 0 && now >= timeline.officialStart);
}

/** May the examinee autosave a draft now? */
export function decideDraft(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  now: number,
): Result<Record<never, never>> {
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (!examBegun(state, timeline, now)) return refuse('not-started-by-examinee');
  if (activeSubmission(state)) return refuse('already-submitted');
  if (now > timeline.graceEnd) return refuse('exam-time-over');
  return { ok: true };
}

/**
 * May a submission with this content be accepted now? Until the cutoff (deadline + grace, or the
 * upload deadline); the timing case is decided apart (time-up.ts). A retry of the accepted content is
 * idempotent (`replay`); a different content after an accepted submission is refused.
 */
export function decideSubmission(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  sha256: string,
  now: number,
): Result<{ action: 'accept'; n: number } | { action: 'replay'; submissionId: string }> {
  const current = activeSubmission(state);
  if (current) {
    return current.sha256 === sha256
      ? { ok: true, action: 'replay', submissionId: current.submissionId }
      : refuse('already-submitted');
  }
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (!examBegun(state, timeline, now)) return refuse('not-started-by-examinee');
  if (now > timeline.submissionCutoff) {
    return refuse(
      timeline.uploadDeadline !== undefined && now > timeline.uploadDeadline
        ? 'upload-deadline-passed'
        : 'exam-time-over',
    );
  }
  // Whether it is on time, and which time-up case it is, is decided with what the appliance saw
  // at the deadline (domain/time-up.ts decideTiming).
  return { ok: true, action: 'accept', n: state.submissions.length + 1 };
}

/**
 * May the examinee upload this file for a file question now? The same rules as an autosave
 * (answers may change), plus the question's type, extensions and size; re-sending a file already
 * uploaded for the question is a `replay`.
 */
export function decideFileUpload(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  question: Question | undefined,
  file: { name: string; sha256: string; size: number },
  now: number,
): Result<{ action: 'accept' | 'replay' }> {
  const open = decideDraft(state, timeline, now);
  if (!open.ok) return open;
  if (!question || question.type !== 'file') return refuse('validation-failed', 'not a file question of this exam');
  const ext = file.name.includes('.') ? file.name.slice(file.name.lastIndexOf('.') + 1).toLowerCase() : '';
  if (question.accept.length > 0 && !question.accept.includes(ext)) {
    return refuse('validation-failed', `this question accepts ${question.accept.map((a) => `.${a}`).join(', ')} files`);
  }
  if (file.size > question.maxBytes) return refuse('payload-too-large', `at most ${question.maxBytes} bytes`);
  const forQuestion = state.files.filter((f) => f.questionId === question.id);
  if (forQuestion.some((f) => f.sha256 === file.sha256)) return { ok: true, action: 'replay' };
  // Room for replacing each allowed file a few times, not for filling the disk.
  if (forQuestion.length >= question.maxFiles * 5)
    return refuse('validation-failed', 'too many uploads for this question');
  return { ok: true, action: 'accept' };
}

/** Every file an answer file names must be one this examinee uploaded for that question. */
export function decideAnswerFiles(state: ExamineeState, answers: AnswerFile['answers']): Result<Record<never, never>> {
  for (const [questionId, value] of Object.entries(answers)) {
    if (!Array.isArray(value)) continue;
    for (const ref of value) {
      if (typeof ref !== 'object') continue;
      const uploaded = state.files.some(
        (f) => f.questionId === questionId && f.sha256 === ref.sha256 && f.size === ref.size,
      );
      if (!uploaded) return refuse('file-not-found', `"${ref.name}" (question ${questionId}) was not uploaded by you`);
    }
  }
  return { ok: true };
}
