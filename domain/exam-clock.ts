/**
 * The exam clock: every time an examinee's day turns on, computed from the exam, the
 * examinee's accommodation and the minutes proctors granted. All times are epoch milliseconds.
 */
import { MINUTE } from './clock.js';
import type { ExamFile } from './exam-format.js';

/** Adjustments proctors make during the exam (each one an event). */
export interface TimeAdjustments {
  /** Minutes added for everyone (Exam info tab). */
  examExtraMinutes: number;
  /** Minutes added for this examinee (Participants tab). */
  personalExtraMinutes: number;
  /** Late-login limit for everyone, when a proctor changed it; otherwise the exam's. */
  examLateLoginMinutes?: number | undefined;
  /** Late-login limit for this examinee, when a proctor set one. */
  personalLateLoginMinutes?: number | undefined;
}

export const NO_ADJUSTMENTS: TimeAdjustments = { examExtraMinutes: 0, personalExtraMinutes: 0 };

/** One examinee's timeline. */
export interface ExamineeTimeline {
  /** Examinees may sign in from here: the download window's opening or the lobby, whichever is first. */
  loginOpens: number;
  officialStart: number;
  /** After this, an examinee who never signed in may no longer sign in. */
  lateLoginDeadline: number;
  downloadOpens: number;
  downloadCloses: number;
  /** start + duration × (1 + accommodation%) + granted minutes. */
  deadline: number;
  /** The deadline plus the exam's submission grace: the last moment answers may still change. */
  graceEnd: number;
  /** The exam's upload deadline, if it has one. */
  uploadDeadline: number | undefined;
  /** The last moment a submission is accepted (see acceptSubmissionsUntil). */
  submissionCutoff: number;
  /** Working time in ms this examinee has (duration with accommodation and extensions). */
  allowedMs: number;
}

type TimedExam = Pick<
  ExamFile,
  'scheduledStart' | 'durationMinutes' | 'downloadWindow' | 'uploadDeadline' | 'lateLoginMinutes' | 'settings'
>;

/** Computes an examinee's timeline. */
export function examineeTimeline(
  exam: TimedExam,
  accommodationPercent: number,
  adjustments: TimeAdjustments = NO_ADJUSTMENTS,
): ExamineeTimeline {
  const officialStart = Date.parse(exam.scheduledStart);
  const downloadOpens = Date.parse(exam.downloadWindow.opens);
  const downloadCloses = Date.parse(exam.downloadWindow.closes);
  const uploadDeadline = exam.uploadDeadline === undefined ? undefined : Date.parse(exam.uploadDeadline);
  const lateLoginMinutes =
    adjustments.personalLateLoginMinutes ?? adjustments.examLateLoginMinutes ?? exam.lateLoginMinutes;
  const allowedMs =
    Math.round(exam.durationMinutes * MINUTE * (1 + accommodationPercent / 100)) +
    (adjustments.examExtraMinutes + adjustments.personalExtraMinutes) * MINUTE;
  const deadline = officialStart + allowedMs;
  const graceEnd = deadline + exam.settings.submissionGraceSeconds * 1_000;
  const submissionCutoff =
    exam.settings.acceptSubmissionsUntil === 'upload-deadline' && uploadDeadline !== undefined
      ? Math.max(graceEnd, uploadDeadline)
      : graceEnd;
  return {
    loginOpens: Math.min(downloadOpens, officialStart - exam.settings.lobbyMinutes * MINUTE),
    officialStart,
    lateLoginDeadline: officialStart + lateLoginMinutes * MINUTE,
    downloadOpens,
    downloadCloses,
    deadline,
    graceEnd,
    uploadDeadline,
    submissionCutoff,
    allowedMs,
  };
}

/** Milliseconds left for the examinee at `now` (0 when over; the full time before the start). */
export function timeLeftMs(timeline: ExamineeTimeline, now: number): number {
  if (now < timeline.officialStart) return timeline.allowedMs;
  return Math.max(0, timeline.deadline - now);
}
