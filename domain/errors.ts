/**
 * The one list of error codes shared by the appliance, the client and sync. Every refusal the
 * appliance sends carries one of these codes, so the client can say exactly what went wrong in
 * the examinee's language; the message here is the English default.
 */
export const ERRORS = {
  'bad-request': { status: 400, message: 'The request is malformed.' },
  'invalid-json': { status: 400, message: 'The request body is not valid JSON.' },
  'validation-failed': { status: 400, message: 'The request does not have the expected fields.' },
  'unsupported-media-type': { status: 415, message: 'This content type is not accepted here.' },
  'payload-too-large': { status: 413, message: 'The upload is larger than allowed.' },
  'not-found': { status: 404, message: 'There is nothing at this address.' },
  'method-not-allowed': { status: 405, message: 'This method is not allowed here.' },
  'client-version-missing': {
    status: 400,
    message: 'The exam app did not say which version it is. Reload the page.',
  },
  'client-too-old': {
    status: 426,
    message: 'This exam needs a newer version of the exam app. Reload the page to update it.',
  },
  unauthenticated: { status: 401, message: 'Please sign in.' },
  'session-invalid': { status: 401, message: 'Your session is no longer valid. Sign in again.' },
  'session-expired': { status: 401, message: 'Your session has expired. Sign in again.' },
  'session-moved': {
    status: 409,
    message: 'Your exam continues on another device: a proctor approved your sign-in there.',
  },
  'session-pending-approval': {
    status: 403,
    message: 'This device is waiting for a proctor to approve the sign-in.',
  },
  'invalid-credentials': { status: 401, message: 'Student ID or access code is wrong.' },
  /** Too many wrong secrets for this account from this address (or this examinee's verification password). */
  'too-many-attempts': {
    status: 429,
    message:
      'Too many wrong attempts from this device. Wait a few minutes and try again, or use a device you signed in with before.',
  },
  /** Too many wrong sign-ins from this network address, whatever the account (one device guessing across the roster). */
  'too-many-failures-from-address': {
    status: 429,
    message: 'Too many wrong sign-ins from this network. Wait a few minutes and try again, or ask a proctor.',
  },
  /** Too many sign-ins are being slowed down at once (an account under attack): the next try may pass. */
  'sync-not-configured': {
    status: 409,
    message: 'This appliance has no central server to sync with (PROCTOR_SYNC_URL is not set).',
  },
  'sign-in-busy': { status: 429, message: 'Sign-in is slowed down right now. Try again in a few seconds.' },
  'exam-choice-required': {
    status: 409,
    message: 'You are registered for more than one exam here. Choose the exam.',
  },
  'exam-not-found': { status: 404, message: 'This exam is not on this appliance.' },
  'examinee-not-found': { status: 404, message: 'You are not on the roster of this exam.' },
  'login-not-open-yet': { status: 403, message: 'Sign-in for this exam has not opened yet.' },
  'late-login-closed': {
    status: 403,
    message: 'The time for signing in late has passed. Ask a proctor for help.',
  },
  'verification-rejected': {
    status: 403,
    message: 'Your verification was rejected. Contact the examinations desk.',
  },
  'download-window-not-open': { status: 403, message: 'The download window has not opened yet.' },
  'download-window-closed': { status: 403, message: 'The download window has closed.' },
  'download-limit-reached': {
    status: 403,
    message: 'You have used all your downloads for this exam. Ask a proctor for another.',
  },
  'exam-not-started': { status: 403, message: 'The exam has not started yet.' },
  'exam-not-downloaded': { status: 409, message: 'Download the exam before starting it.' },
  'exam-time-over': { status: 403, message: 'Your exam time is over.' },
  'already-submitted': { status: 409, message: 'This exam has already been submitted.' },
  'not-started-by-examinee': { status: 409, message: 'Start the exam before sending answers.' },
  'stale-draft': { status: 409, message: 'A newer autosave is already stored.' },
  'not-your-document': { status: 403, message: 'This document belongs to another examinee or exam.' },
  'upload-deadline-passed': { status: 403, message: 'The upload deadline has passed.' },
  'checksum-mismatch': {
    status: 422,
    message: 'The file arrived damaged (its checksum does not match). Send it again.',
  },
  'invalid-answer-file': { status: 422, message: 'The answer file is not valid for this exam.' },
  'file-not-found': { status: 404, message: 'That uploaded file is not on this appliance.' },
  /** An fsync of a received upload failed (the disk refused to make it durable): nothing was kept or acknowledged. */
  'blob-not-durable': {
    status: 503,
    message:
      'The appliance could not save your upload safely to its disk. Nothing was lost on your device: send it again; if this repeats, tell a proctor.',
  },
  /** The appliance's database refused to index what the journal holds; it retries, and reads wait for it. */
  'index-unavailable': {
    status: 503,
    message: 'The appliance is catching up with its records. Try again in a moment.',
  },
  'receipt-invalid': { status: 400, message: 'The receipt is not valid.' },
  'forbidden-role': { status: 403, message: 'Only a chief proctor may do this.' },
  'origin-mismatch': {
    status: 403,
    message: 'This request did not come from the proctor dashboard of this appliance.',
  },
  'proctor-login-failed': { status: 401, message: 'Username or password is wrong.' },
  'submission-not-found': { status: 404, message: 'This examinee has no such submission.' },
  'not-compared-at-time-up': {
    status: 409,
    message: 'This submission arrived in time, so it was not compared with the answers held at time-up.',
  },
  'not-changed-after-time-up': {
    status: 409,
    message: 'This submission was not changed after time-up: there is nothing to decide.',
  },
  'time-up-already-decided': { status: 409, message: 'A chief proctor has already decided on this submission.' },
  'examinee-has-not-submitted': { status: 409, message: 'This examinee has no submission to remove.' },
  'no-relogin-request': { status: 409, message: 'This examinee is not waiting for a re-login.' },
  'no-bathroom-request': { status: 409, message: 'This examinee has not asked for a bathroom break.' },
  'verification-not-needed': { status: 409, message: 'This exam does not use this kind of verification.' },
  'network-not-allowed': {
    status: 403,
    message:
      'This device is on a network this exam does not allow. Join the exam hall’s network, or ask the invigilator.',
  },
  'wrong-verification-password': { status: 403, message: 'That exam password is not right. Ask the invigilator.' },
  'too-many-events': { status: 429, message: 'Too many reports in a short time.' },
  /** More event streams from one network address than PROCTOR_STREAMS_PER_ADDRESS allows. */
  'too-many-streams': {
    status: 429,
    message: 'Too many live connections from this network. Close a few tabs or devices and try again.',
  },
  /** Sent on an event stream before it is closed because its session opened more than PROCTOR_STREAMS_PER_SESSION. */
  'stream-replaced': {
    status: 409,
    message: 'This page stopped getting live updates because a newer tab or window took over. Reload it to go on.',
  },
  /** A request body arrived slower than PROCTOR_UPLOAD_MIN_BYTES_PER_SECOND: cut, nothing kept. */
  'upload-too-slow': {
    status: 408,
    message: 'The upload arrived too slowly and was stopped; nothing was kept. Check the Wi-Fi and send it again.',
  },
  'snapshots-not-taken': { status: 409, message: 'This exam takes no snapshots of this kind from you.' },
  'verification-pending': { status: 403, message: 'A proctor must verify you before the exam starts.' },
  'resume-challenge-unknown': {
    status: 422,
    message: "That challenge is not one of this examinee's for this exam. Check the code on the examinee's screen.",
  },
  'resume-challenge-issued': {
    status: 409,
    message:
      'A resume code was already given for this challenge. Ask the examinee for the next challenge on their screen.',
  },
  'resume-challenge-used': { status: 409, message: 'This challenge has already been used to resume the exam.' },
  'resume-challenge-locked': {
    status: 409,
    message: 'This challenge is locked after too many wrong resume codes. Use the next challenge.',
  },
  'resume-code-wrong': { status: 403, message: 'That resume code is not right for this challenge.' },
  /** The appliance's clock is neither NTP-synchronised nor confirmed by a chief proctor: no exam opens (DESIGN.md "Time"). */
  'clock-not-trusted': {
    status: 409,
    message: "The exam hall's clock has not been confirmed yet; a proctor is on it. The exam opens as soon as it is.",
  },
  'clock-synchronised': {
    status: 409,
    message: "The appliance's clock is kept right by NTP (or its configuration); it cannot be set by hand.",
  },
  /** The exam requires Safe Exam Browser and the request did not prove an allowed SEB setup (the detail says which check failed). */
  'seb-required': { status: 403, message: 'This exam must be taken in Safe Exam Browser.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** An error code from {@link ERRORS}. */
export type ErrorCode = keyof typeof ERRORS;

/** An expected refusal: a value, not an exception. */
export interface Refusal {
  ok: false;
  code: ErrorCode;
  /** Optional detail for the person (e.g. which field), never a stack trace. */
  detail?: string;
  /** When trying again makes sense (sent as Retry-After). */
  retryAfterSeconds?: number;
}

/** The result of a domain rule: either a value or a refusal with a shared code. */
export type Result<T> = ({ ok: true } & T) | Refusal;

/** Builds a refusal. */
export function refuse(code: ErrorCode, detail?: string): Refusal {
  return detail === undefined ? { ok: false, code } : { ok: false, code, detail };
}
