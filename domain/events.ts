/**
 * The event log: every proctor action and every examinee lifecycle step is an immutable event.
 *
 * Spec of the hash chain: events of one exam written by one appliance form one chain, ordered by
 * `seq` (1, 2, 3 ...). Each event's `hash` is the lower-case hex SHA-256 of the canonical JSON
 * (see canonical.ts) of the event without its `hash` and `_rev` members; `prevHash` is the
 * previous event's `hash`, or 64 zeros for seq 1. Changing, removing or reordering any event
 * breaks the chain at that event. Ids are `event:<examId>:<applianceId>:<seq padded to 10>`.
 */
import { canonicalJson, hashJson, type Json } from './canonical.js';
import type { TimeUpChoice, TimingCase } from './time-up.js';
import type {
  HardwareCheck,
  ProctoringType,
  SnapshotProblem,
  SnapshotSource,
  VerificationMode,
} from './exam-options.js';

/** Who did it. */
export type Actor =
  { role: 'examinee'; studentId: string } | { role: 'proctor'; username: string } | { role: 'system' };

/** Who a message is for (the `message-sent` event). */
export const MESSAGE_AUDIENCES = ['all', 'examinee', 'proctors', 'staff'] as const;
export type MessageAudience = (typeof MESSAGE_AUDIENCES)[number];

/** The payload of each kind of event. Later issues add proctor actions here. */

export interface EventData {
  'examinee-signed-in': { deviceId: string; sessionNo: number };
  'relogin-requested': { deviceId: string };
  'relogin-approved': { deviceId: string; sessionNo: number };
  'relogin-rejected': { deviceId: string };
  'package-downloaded': { downloadNo: number; packageVersion: string };
  /** key-released: the appliance gave the key; exam-password: answers came from an examinee who opened the package with the password. */
  'exam-started': { via: 'key-released' | 'exam-password' };
  'submission-accepted': {
    submissionId: string;
    n: number;
    sha256: string;
    size: number;
    submissionType: 'manual' | 'automatic';
    late: boolean;
    /** The time-up case (domain/time-up.ts); absent in events written before it existed. */
    timing?: TimingCase;
    /** When the answers were compared with the draft held at the deadline: how many differ. */
    differingAnswers?: number;
    /** How long the device was unseen (its last request before the deadline to the arrival), when known. */
    unseenMs?: number;
  };
  /**
   * A submission changed after time-up was kept with the draft the appliance held at the
   * deadline: `sha256` names that draft as an answer file (a blob, so it syncs like the
   * submitted file), `submittedSha256` the submitted file; a chief proctor decides which counts.
   */
  'time-up-answers-kept': {
    submissionId: string;
    timeUpDraftId: string;
    sha256: string;
    size: number;
    submittedSha256: string;
    differingQuestions: string[];
    unseenMs: number | null;
  };
  /** A chief proctor's decision on a submission changed after time-up. */
  'time-up-decided': { submissionId: string; choice: TimeUpChoice; note?: string };
  'submission-removed': { submissionId: string; reason: string };
  'verification-decided': { decision: 'verified' | 'rejected' | 'retake' };
  'presence-changed': { connected: boolean };
  'file-uploaded': { questionId: string; sha256: string; size: number; name: string };

  // ---- Proctor actions on one examinee (studentId set) ----
  'max-downloads-set': { maxDownloads: number };
  /** A proctor looked at the examinee's email and phone. */
  'contact-revealed': Record<string, never>;
  /** A chief proctor confirmed the appliance's time, or set it from their device (offset from the system clock). */
  'clock-confirmed': { action: 'confirm' | 'set'; offsetMs: number; previousOffsetMs: number };
  'personal-late-login-set': { minutes: number };
  /** Total extra minutes for this examinee (a set, not an increment, so a retry is harmless). */
  'personal-extension-set': { minutes: number };
  'accommodation-set': { percent: number };
  'verification-mode-set': { mode: VerificationMode };
  'personal-hardware-checks-set': { disabled: HardwareCheck[] };
  'integrity-review-set': { status: IntegrityReviewStatus; note?: string };
  'bathroom-break-decided': { decision: 'approved' | 'rejected' | 'later' };
  'bathroom-break-returned': Record<string, never>;
  'resume-code-issued': { challenge: string };
  'resume-challenge-locked': { challenge: string };
  /** The examinee's own proctoring type (none, camera, screen, both), instead of the exam's. */
  'personal-proctoring-set': { type: ProctoringType };

  // ---- Examinee actions (studentId set) ----
  'verification-photo-submitted': { sha256: string; size: number; kind: 'face' | 'id-card' };
  'verification-password-entered': { correct: boolean };
  'bathroom-break-requested': Record<string, never>;
  'integrity-event': { type: IntegrityEventType; detail?: string };
  'resume-code-used': { challenge: string };
  /** The device locked the exam (a reload, full screen left); it waits for a resume code. */
  'exam-locked': { reason: ExamLockReason };
  /** A proctoring snapshot (a small JPEG, content-addressed like the photos, synced with the results). */
  'snapshot-taken': { source: SnapshotSource; sha256: string; size: number };
  /** The device takes no snapshots of this source: refused, none there, or sharing stopped. */
  'snapshot-refused': { source: SnapshotSource; problem: SnapshotProblem };

  // ---- Exam-wide proctor actions (no studentId) ----
  'late-login-limit-set': { minutes: number };
  /** Total extra minutes for everyone. */
  'exam-extension-set': { minutes: number };
  'hardware-checks-set': { disabled: HardwareCheck[] };
  'verification-passwords-generated': { count: number };
  /** Allowed examinee networks (domain/networks.ts); empty allows every address. */
  'allowed-networks-set': { ranges: string[] };
  /** The verification type for examinees without a personal one. */
  'verification-default-set': { mode: VerificationMode };
  /** The proctoring type for examinees without their own, and the interval between snapshots. */
  'proctoring-set': { type: ProctoringType; intervalSeconds: number };
  /** A proctor read the paper (the Exam preview); before the start only a chief may. */
  'exam-preview-viewed': { beforeStart: boolean };
  /** A chief proctor looked at the exam password on the dashboard. */
  'exam-password-viewed': Record<string, never>;

  // ---- Messages (studentId set for private ones) ----
  'message-sent': {
    messageId: string;
    /**
     * all: an announcement; examinee: a private message to studentId; proctors: an examinee's
     * question; staff: between invigilators and the chief, never shown to an examinee.
     */
    audience: MessageAudience;
    /** When the message is about one question. */
    questionId?: string;
    text: string;
  };

  // ---- Safe Exam Browser ----
  'seb-refused': { reason: string; path: string };

  // ---- Allowed examinee networks (studentId set) ----
  /** A sign-in with the right access code from an address outside the allowed networks. */
  'network-refused': { address: string };
}

/** Why an examinee's device locked the exam (the client's LockReason). */
export const EXAM_LOCK_REASONS = ['reload', 'fullscreen-exit'] as const;
export type ExamLockReason = (typeof EXAM_LOCK_REASONS)[number];
export const INTEGRITY_EVENT_TYPES = [
  'visibility-hidden',
  'window-blur',
  'fullscreen-exit',
  'paste',
  'copy',
  'reload',
  'devtools',
] as const;
export type IntegrityEventType = (typeof INTEGRITY_EVENT_TYPES)[number];
/** A proctor's review of an examinee's integrity events (the Participants tab's review status). */
export const INTEGRITY_REVIEW_STATUSES = ['not-reviewed', 'in-review', 'cleared', 'suspicious', 'violation'] as const;
export type IntegrityReviewStatus = (typeof INTEGRITY_REVIEW_STATUSES)[number];
export type EventKind = keyof EventData;

/** An event as stored (`event:` documents). */
export type ExamEvent = {
  [K in EventKind]: {
    _id: string;
    _rev?: string;
    type: 'event';
    schemaVersion: number;
    examId: string;
    applianceId: string;
    seq: number;
    /** Appliance time in epoch ms. */
    at: number;
    kind: K;
    actor: Actor;
    /** The examinee the event is about, if any. */
    studentId?: string;
    data: EventData[K];
    prevHash: string;
    hash: string;
  };
}[EventKind];

/** What a caller supplies; the chain fills in the rest. */
export type NewEvent = {
  [K in EventKind]: { kind: K; actor: Actor; studentId?: string; data: EventData[K] };
}[EventKind];

export const GENESIS_HASH = '0'.repeat(64);

export const eventDocId = (examId: string, applianceId: string, seq: number) =>
  `event:${examId}:${applianceId}:${String(seq).padStart(10, '0')}`;

/** Hash of an event: SHA-256 of its canonical JSON without `hash` and `_rev`. */
export function eventHash(event: Omit<ExamEvent, 'hash'> & { hash?: string }): string {
  const { hash: _hash, _rev: _r, ...rest } = event;
  return hashJson(rest as unknown as Json);
}

/** Builds the next event of a chain. */
export function chainEvent(
  head: { seq: number; hash: string },
  examId: string,
  applianceId: string,
  at: number,
  event: NewEvent,
  schemaVersion: number,
): ExamEvent {
  const seq = head.seq + 1;
  const base = {
    _id: eventDocId(examId, applianceId, seq),
    type: 'event' as const,
    schemaVersion,
    examId,
    applianceId,
    seq,
    at,
    ...event,
    prevHash: head.hash,
  };
  return { ...base, hash: eventHash(base as Omit<ExamEvent, 'hash'>) } as ExamEvent;
}

/** Where a chain first goes wrong. */
export interface ChainBreak {
  /** The first event that does not verify, or the seq that is missing. */
  seq: number;
  id: string;
  reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'sequence-gap' | 'wrong-chain';
}

/**
 * Verifies one chain (events of one exam and appliance, in any order).
 * @returns undefined when intact, else the first break.
 */
export function verifyChain(events: readonly ExamEvent[]): ChainBreak | undefined {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  let prev = { seq: 0, hash: GENESIS_HASH };
  const first = sorted[0];
  for (const e of sorted) {
    if (first && (e.examId !== first.examId || e.applianceId !== first.applianceId)) {
      return { seq: e.seq, id: e._id, reason: 'wrong-chain' };
    }
    if (e.seq !== prev.seq + 1) return { seq: prev.seq + 1, id: e._id, reason: 'sequence-gap' };
    if (e._id !== eventDocId(e.examId, e.applianceId, e.seq)) return { seq: e.seq, id: e._id, reason: 'wrong-chain' };
    if (eventHash(e) !== e.hash) return { seq: e.seq, id: e._id, reason: 'hash-mismatch' };
    if (e.prevHash !== prev.hash) return { seq: e.seq, id: e._id, reason: 'prev-hash-mismatch' };
    prev = e;
  }
  return undefined;
}

/** Canonical text of an event, e.g. for an export line. */
export const eventText = (e: ExamEvent) => canonicalJson(e as unknown as Json);
