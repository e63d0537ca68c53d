/**
 * Who among the proctors may do what (DESIGN.md "Roles"; docs/architecture.md). A chief proctor
 * may do everything; an invigilator everything but the exam-wide and decisive actions: exam
 * settings, verification passwords and mode, an examinee's proctoring type, accommodation, reading
 * the paper before the start, the exam password, removing a submission, deciding
 * which version of a submission changed after time-up counts, and confirming or setting the
 * appliance's clock.
 *
 * The HTTP layer names each route's action with {@link ProctorAction}, so an action the rule does
 * not know is a compile error, not a silently open route.
 */

/** The roles a proctor account can have. */
export const PROCTOR_ROLES = ['chief', 'invigilator'] as const;
export type ProctorRole = (typeof PROCTOR_ROLES)[number];

/** The actions on the exam or the appliance as a whole. */
export const EXAM_ACTIONS = [
  'exam-settings',
  'verification-passwords',
  'clock',
  /** Reading the paper (Exam preview) before the exam's start. */
  'preview-before-start',
  /** Reading the exam password (examinees type it when the key cannot reach them). */
  'exam-password',
] as const;
/** The actions on one examinee (POST .../participants/:studentId/<action>). */
export const EXAMINEE_ACTIONS = [
  'max-downloads',
  'reveal-contact',
  'late-login',
  'time-extension',
  'accommodation',
  'verification-mode',
  'verification',
  'bathroom-break',
  'hardware-checks',
  'relogin',
  'remove-submission',
  'time-up-decision',
  'integrity-review',
  'resume-code',
  'proctoring',
] as const;
export type ExamineeAction = (typeof EXAMINEE_ACTIONS)[number];
/** Every action a proctor takes through the monitor. */
export const PROCTOR_ACTIONS = [...EXAM_ACTIONS, ...EXAMINEE_ACTIONS] as const;
export type ProctorAction = (typeof PROCTOR_ACTIONS)[number];

/** The actions only a chief proctor may take. */
export const CHIEF_ONLY_ACTIONS: ReadonlySet<ProctorAction> = new Set<ProctorAction>([
  'exam-settings',
  'verification-passwords',
  'clock',
  'preview-before-start',
  'exam-password',
  'accommodation',
  'verification-mode',
  'proctoring',
  'remove-submission',
  'time-up-decision',
]);

/** Whether a proctor with `role` may take `action`. */
export function mayPerform(role: ProctorRole, action: ProctorAction): boolean {
  return role === 'chief' || !CHIEF_ONLY_ACTIONS.has(action);
}
