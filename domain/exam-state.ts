/**
 * Exam-wide state changed by proctors during the exam (Exam info tab): everything here applies
 * to every examinee and is a fold of the exam's events without a studentId.
 */
import type { ExamEvent } from './events.js';
import type { HardwareCheck } from './exam-options.js';

export interface ExamWideState {
  /** Extra minutes for everyone. */
  extraMinutes: number;
  /** Late-login limit when a proctor changed it; otherwise the exam's. */
  lateLoginMinutes: number | undefined;
  /** Hardware checks disabled for everyone, when a proctor changed them; otherwise the exam's. */
  disabledHardwareChecks: HardwareCheck[] | undefined;
  verificationPasswordsGenerated: number;
}

export function initialExamWideState(): ExamWideState {
  return {
    extraMinutes: 0,
    lateLoginMinutes: undefined,
    disabledHardwareChecks: undefined,
    verificationPasswordsGenerated: 0,
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
    default:
      return state;
  }
}
