/**
 * The rules of an examinee's exam day: may they sign in, download, start, save, submit, now?
 * Each rule takes the state and the time and returns a decision; nothing here has side effects.
 */
import { refuse, type Result } from './errors.js';
import type { ExamineeTimeline } from './exam-clock.js';
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
): Result<{ firstStart: boolean }> {
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (activeSubmission(state)) return refuse('already-submitted');
  if (state.downloads.length === 0) return refuse('exam-not-downloaded');
  if (now < timeline.officialStart) return refuse('exam-not-started');
  if (now >= timeline.deadline) return refuse('exam-time-over');
  return { ok: true, firstStart: state.startedAt === undefined };
}

/** May the examinee autosave a draft now? */
export function decideDraft(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  now: number,
): Result<Record<never, never>> {
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (state.startedAt === undefined) return refuse('not-started-by-examinee');
  if (activeSubmission(state)) return refuse('already-submitted');
  if (now > timeline.graceEnd) return refuse('exam-time-over');
  return { ok: true };
}

/**
 * May a submission with this content be accepted now? A retry of the accepted content is
 * idempotent (`replay`); a different content after an accepted submission is refused.
 */
export function decideSubmission(
  state: ExamineeState,
  timeline: ExamineeTimeline,
  sha256: string,
  now: number,
): Result<{ action: 'accept'; n: number; late: boolean } | { action: 'replay'; submissionId: string }> {
  const current = activeSubmission(state);
  if (current) {
    return current.sha256 === sha256
      ? { ok: true, action: 'replay', submissionId: current.submissionId }
      : refuse('already-submitted');
  }
  if (state.verification === 'rejected') return refuse('verification-rejected');
  if (state.startedAt === undefined) return refuse('not-started-by-examinee');
  if (now > timeline.submissionCutoff) {
    return refuse(
      timeline.uploadDeadline !== undefined && now > timeline.uploadDeadline
        ? 'upload-deadline-passed'
        : 'exam-time-over',
    );
  }
  return { ok: true, action: 'accept', n: state.submissions.length + 1, late: now > timeline.deadline };
}
