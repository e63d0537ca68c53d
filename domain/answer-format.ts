/**
 * The constants of answers/v1 (the spec is in answers.ts) that the examinee's device needs as
 * values: no schema library here, so that the app's first load stays small.
 */

/** The format name an answer file carries. */
export const ANSWER_FILE_FORMAT = 'answers/v1';

/**
 * The longest text answer (short text or essay) the appliance takes, in UTF-16 code units (a
 * string's `length`, as an HTML `maxlength` counts). The app's fields stop there: an answer over
 * it would be refused by every autosave and by the submission.
 */
export const MAX_TEXT_ANSWER_LENGTH = 200_000;
