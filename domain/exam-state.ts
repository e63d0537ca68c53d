/**
 * Exam-wide state changed by proctors during the exam (Exam info tab): everything here applies
 * to every examinee and is a fold of the exam's events without a studentId.
 */
import type { ExamEvent } from './events.js';
import {
  snapshotSources,
  type HardwareCheck,
  type ProctoringType,
  type SnapshotSource,
  type VerificationMode,
} from './exam-options.js';

export interface ExamWideState {
  /** Extra minutes for everyone. */
  extraMinutes: number;
  /** Late-login limit when a proctor changed it; otherwise the exam's. */
  lateLoginMinutes: number | undefined;
  /** Hardware checks disabled for everyone, when a proctor changed them; otherwise the exam's. */
  disabledHardwareChecks: HardwareCheck[] | undefined;
  verificationPasswordsGenerated: number;
  /** Allowed examinee networks; empty allows every address. */
  allowedNetworks: string[];
  /** The default verification type, when a proctor changed it; otherwise the exam's. */
  verificationMode: VerificationMode | undefined;
  /** The proctoring type and snapshot interval, when a proctor changed them; otherwise the exam's. */
  proctoring: { type: ProctoringType; intervalSeconds: number } | undefined;
}

export function initialExamWideState(): ExamWideState {
  return {
    extraMinutes: 0,
    lateLoginMinutes: undefined,
    disabledHardwareChecks: undefined,
    verificationPasswordsGenerated: 0,
    allowedNetworks: [],
    verificationMode: undefined,
    proctoring: undefined,
  };
}

/** Applies one exam-wide event; others leave the state unchanged. */
export function applyExamWideEvent(state: ExamWideState, event: ExamEvent): ExamWideState {
  switch (event.kind) {
    case 'exam-extension-set':
      return { ...state, extraMinutes: event.data.minutes };
    case 'late-login-limit-set':
      return { ...state, lateLoginMinutes: event.data.minutes };
    case 'hardware-checks-set':
      return { ...state, disabledHardwareChecks: event.data.disabled };
    case 'verification-passwords-generated':
      return { ...state, verificationPasswordsGenerated: state.verificationPasswordsGenerated + event.data.count };
    case 'allowed-networks-set':
      return { ...state, allowedNetworks: event.data.ranges };
    case 'verification-default-set':
      return { ...state, verificationMode: event.data.mode };
    case 'proctoring-set':
      return { ...state, proctoring: { type: event.data.type, intervalSeconds: event.data.intervalSeconds } };
    default:
      return state;
  }
}

/** The verification type that applies to an examinee: their own, else the exam's as a proctor set it, else the exam file's. */
export function verificationModeFor(
  exam: { doc: { verificationMode: VerificationMode }; wide: ExamWideState },
  personal: VerificationMode | undefined,
): VerificationMode {
  return personal ?? exam.wide.verificationMode ?? exam.doc.verificationMode;
}

/** The exam's proctoring as it applies now: a proctor's change, else the exam file's. */
export function examProctoring(exam: {
  doc: { settings: { proctoring: { type: ProctoringType; intervalSeconds: number } } };
  wide: ExamWideState;
}): { type: ProctoringType; intervalSeconds: number } {
  const own = exam.doc.settings.proctoring;
  return exam.wide.proctoring ?? { type: own.type, intervalSeconds: own.intervalSeconds };
}

/** The proctoring that applies to an examinee: their own type, else the exam's; the exam's interval. */
export function proctoringFor(
  exam: Parameters<typeof examProctoring>[0],
  personal: ProctoringType | undefined,
): { type: ProctoringType; intervalSeconds: number; sources: SnapshotSource[] } {
  const wide = examProctoring(exam);
  const type = personal ?? wide.type;
  return { type, intervalSeconds: wide.intervalSeconds, sources: snapshotSources(type) };
}
