/**
 * Lists an exam's settings choose from, shared by the exam format (exam-format.ts), the events
 * (events.ts), the proctor API and the dashboard. No zod here: the client imports it.
 */

/** How an examinee's identity is verified at sign-in (the exam's default, or per examinee). */
export const VERIFICATION_MODES = ['manual', 'password', 'camera'] as const;
export type VerificationMode = (typeof VERIFICATION_MODES)[number];
/**
 * The hardware checks an exam may ask the client to perform before the start (the exam file's
 * `settings.hardwareChecks`), and which proctors may disable for the exam or for one examinee.
 */
export const HARDWARE_CHECKS = ['multiple-screens', 'microphone', 'camera', 'fullscreen'] as const;
export type HardwareCheck = (typeof HARDWARE_CHECKS)[number];
