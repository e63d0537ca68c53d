/**
 * The examinee's state and its status machine.
 *
 * State is a fold of the examinee's events (see events.ts) plus live presence. The status the
 * monitor shows is derived from that state, never stored, so it cannot drift from the log:
 *
 *   not-started ──sign-in──▶ logged-in ──key released──▶ active ──submission──▶ submitted
 *                                                           │  ▲
 *                                          stream dropped ──▼  │── back
 *                                                        disconnected
 *   any state ──sign-in from a second device──▶ waiting-relogin ──approved/rejected──▶ previous
 *   any state ──verification rejected──▶ verification-rejected
 *   active/disconnected ──device locked──▶ locked ──resume code used / submission──▶ previous
 */
import type { ExamEvent, ExamLockReason, IntegrityEventType, IntegrityReviewStatus } from './events.js';
import type {
  HardwareCheck,
  ProctoringType,
  SnapshotProblem,
  SnapshotSource,
  VerificationMode,
} from './exam-options.js';
import type { TimeUpChoice, TimingCase } from './time-up.js';

export const EXAMINEE_STATUSES = [
  'not-started',
  'logged-in',
  'active',
  'locked',
  'disconnected',
  'submitted',
  'waiting-relogin',
  'verification-rejected',
] as const;
export type ExamineeStatus = (typeof EXAMINEE_STATUSES)[number];

/** A submission as the projection keeps it. */
export interface SubmissionRecord {
  submissionId: string;
  /** The appliance that accepted it (and signed its receipt). */
  applianceId: string;
  n: number;
  sha256: string;
  size: number;
  at: number;
  submissionType: 'manual' | 'automatic';
  late: boolean;
  removed: boolean;
  /** The time-up case; 'on-time' or 'late' for submissions recorded before cases existed. */
  timing: TimingCase;
  /** When the answers were compared with the draft held at the deadline: how many differ. */
  differingAnswers?: number;
  /** Set when the submission was changed after time-up: the kept draft and the chief's decision. */
  timeUp?: {
    timeUpDraftId: string;
    draftSha256: string;
    differingQuestions: string[];
    unseenMs: number | null;
    decision?: { choice: TimeUpChoice; by: string; at: number; note?: string };
  };
}

/** One examinee's state on this appliance. */
export interface ExamineeState {
  studentId: string;
  /** The device the session is bound to, once signed in. */
  deviceId: string | undefined;
  /** Increases at every approved new binding; old sessions die with it. */
  sessionNo: number;
  /** A second device asking to take over, until a proctor decides. */
  pendingDeviceId: string | undefined;
  firstSignInAt: number | undefined;
  /** Times of every download. */
  downloads: number[];
  startedAt: number | undefined;
  submissions: SubmissionRecord[];
  verification: 'pending' | 'verified' | 'rejected' | 'retake';
  /** Live presence (issue: monitor); an examinee is taken as connected until the stream says otherwise. */
  connected: boolean;
  /** Files uploaded for file questions; an answer may only name these. */
  files: UploadedFile[];
  /** Proctor overrides of the roster and the exam, each set by an event. */
  maxDownloads: number | undefined;
  accommodationPercent: number | undefined;
  personalExtraMinutes: number;
  personalLateLoginMinutes: number | undefined;
  verificationMode: VerificationMode | undefined;
  disabledHardwareChecks: HardwareCheck[] | undefined;
  verificationPhotos: { sha256: string; size: number; kind: 'face' | 'id-card'; at: number }[];
  bathroom: { status: BathroomStatus; since: number | undefined };
  /** Count of each integrity event the examinee's device reported. */
  integrity: Partial<Record<IntegrityEventType, number>>;
  integrityReview: IntegrityReviewStatus;
  /** Wrong verification passwords typed (shown on the row). */
  wrongVerificationPasswords: number;
  /** The address of the latest sign-in refused as outside the allowed networks. */
  networkRefusedFrom: string | undefined;
  /** Resume-code challenges already used or locked by wrong tries. */
  resumeChallengesIssued: string[];
  resumeChallengesUsed: string[];
  resumeChallengesLocked: string[];
  resumeCodesIssued: number;
  /** The examinee's own proctoring type, when a proctor set one. */
  proctoringType: ProctoringType | undefined;
  /** Snapshots received, per source, and the time of the latest. */
  snapshots: Record<SnapshotSource, number>;
  /** Bytes of the snapshots received (for the disk estimate). */
  snapshotBytes: number;
  /** The SHA-256 of each snapshot received, oldest first (a proctor may view only these). */
  snapshotHashes: string[];
  lastSnapshotAt: number | undefined;
  /** Sources the device said it cannot photograph, until a snapshot of that source arrives. */
  snapshotProblems: Partial<Record<SnapshotSource, SnapshotProblem>>;
  /** Set while the examinee's device has the exam locked and waits for a resume code. */
  locked: { reason: ExamLockReason; at: number } | undefined;
  /** Time of the examinee's latest event (for the monitor's "last seen"). */
  lastEventAt: number | undefined;
}

export type BathroomStatus = 'none' | 'requested' | 'approved' | 'rejected' | 'later' | 'returned';

/** A file an examinee uploaded for a file question. */
export interface UploadedFile {
  questionId: string;
  sha256: string;
  size: number;
  name: string;
  at: number;
}

/** The state of an examinee with no events yet. */
export function initialExamineeState(studentId: string): ExamineeState {
  return {
    studentId,
    deviceId: undefined,
    sessionNo: 0,
    pendingDeviceId: undefined,
    firstSignInAt: undefined,
    downloads: [],
    startedAt: undefined,
    submissions: [],
    verification: 'pending',
    connected: true,
    files: [],
    maxDownloads: undefined,
    accommodationPercent: undefined,
    personalExtraMinutes: 0,
    personalLateLoginMinutes: undefined,
    verificationMode: undefined,
    disabledHardwareChecks: undefined,
    verificationPhotos: [],
    bathroom: { status: 'none', since: undefined },
    integrity: {},
    integrityReview: 'not-reviewed',
    wrongVerificationPasswords: 0,
    networkRefusedFrom: undefined,
    resumeChallengesIssued: [],
    resumeChallengesUsed: [],
    resumeChallengesLocked: [],
    resumeCodesIssued: 0,
    proctoringType: undefined,
    snapshots: { camera: 0, screen: 0 },
    snapshotBytes: 0,
    snapshotHashes: [],
    lastSnapshotAt: undefined,
    snapshotProblems: {},
    locked: undefined,
    lastEventAt: undefined,
  };
}

/** What the counting rule needs of a submission. */
export type Countable = Pick<SubmissionRecord, 'submissionId' | 'applianceId' | 'n' | 'at'>;

/**
 * Later first, across boxes: acceptance time (the boxes' clocks), then n, then appliance id, then
 * submission id. The same comparison as the institution's `collect` (sync/central/collect).
 */
export function laterAccepted(a: Countable, b: Countable): number {
  return (
    b.at - a.at ||
    b.n - a.n ||
    (a.applianceId < b.applianceId ? 1 : a.applianceId > b.applianceId ? -1 : 0) ||
    (a.submissionId < b.submissionId ? 1 : a.submissionId > b.submissionId ? -1 : 0)
  );
}

/** Later first, on one box: the highest n (a box numbers its own in order, whatever its clock did). */
export function laterOnBox(a: Countable, b: Countable): number {
  return b.n - a.n || laterAccepted(a, b);
}

/**
 * Which of an examinee's submissions counts (none removed by a proctor are considered): on each
 * box its highest n, and of those the latest accepted. Two boxes of one hall that each accepted a
 * file from the examinee (the laptop moved from one box's Wi-Fi to the other's) both keep theirs;
 * every box, and `collect`, choose the same one.
 */
export function countingSubmission<T extends Countable & { removed: boolean }>(list: readonly T[]): T | undefined {
  const boxLatest = new Map<string, T>();
  for (const s of list) {
    if (s.removed) continue;
    const best = boxLatest.get(s.applianceId);
    if (!best || laterOnBox(s, best) < 0) boxLatest.set(s.applianceId, s);
  }
  return [...boxLatest.values()].sort(laterAccepted)[0];
}

/** In acceptance order by the boxes' clocks (earliest first), so a list reads as a history. */
function withSubmission(list: readonly SubmissionRecord[], s: SubmissionRecord): SubmissionRecord[] {
  let i = list.length;
  while (i > 0 && laterAccepted(list[i - 1]!, s) < 0) i--;
  return [...list.slice(0, i), s, ...list.slice(i)];
}

/** The submission that counts (countingSubmission): none when every one was removed. */
export function activeSubmission(state: ExamineeState): SubmissionRecord | undefined {
  return countingSubmission(state.submissions);
}

/** Derives the monitor status from the state. */
export function examineeStatus(state: ExamineeState): ExamineeStatus {
  if (state.verification === 'rejected') return 'verification-rejected';
  if (state.pendingDeviceId !== undefined) return 'waiting-relogin';
  if (activeSubmission(state)) return 'submitted';
  if (state.deviceId === undefined) return 'not-started';
  if (state.startedAt === undefined) return 'logged-in';
  if (state.locked !== undefined) return 'locked';
  return state.connected ? 'active' : 'disconnected';
}

/**
 * Applies one event to the examinee's state (the transition function). Events were validated
 * before they were written, so this never refuses; unknown kinds leave the state unchanged.
 */
export function applyExamineeEvent(previous: ExamineeState, event: ExamEvent): ExamineeState {
  const state = { ...previous, lastEventAt: Math.max(previous.lastEventAt ?? event.at, event.at) };
  switch (event.kind) {
    case 'examinee-signed-in':
      return {
        ...state,
        deviceId: event.data.deviceId,
        sessionNo: event.data.sessionNo,
        firstSignInAt: state.firstSignInAt ?? event.at,
        connected: true,
      };
    case 'relogin-requested':
      return { ...state, pendingDeviceId: event.data.deviceId };
    case 'relogin-approved':
      return { ...state, deviceId: event.data.deviceId, sessionNo: event.data.sessionNo, pendingDeviceId: undefined };
    case 'relogin-rejected':
      return { ...state, pendingDeviceId: undefined };
    case 'package-downloaded':
      return { ...state, downloads: [...state.downloads, event.at] };
    case 'exam-started':
      return { ...state, startedAt: state.startedAt ?? event.at };
    case 'submission-accepted':
      return {
        ...state,
        submissions: withSubmission(state.submissions, {
          submissionId: event.data.submissionId,
          applianceId: event.applianceId,
          n: event.data.n,
          sha256: event.data.sha256,
          size: event.data.size,
          at: event.at,
          submissionType: event.data.submissionType,
          late: event.data.late,
          removed: false,
          timing: event.data.timing ?? (event.data.late ? 'late' : 'on-time'),
          ...(event.data.differingAnswers === undefined ? {} : { differingAnswers: event.data.differingAnswers }),
        }),
      };
    case 'time-up-answers-kept': {
      const { submissionId, timeUpDraftId, sha256, differingQuestions, unseenMs } = event.data;
      return {
        ...state,
        submissions: state.submissions.map((s) =>
          s.submissionId === submissionId
            ? { ...s, timeUp: { timeUpDraftId, draftSha256: sha256, differingQuestions, unseenMs } }
            : s,
        ),
      };
    }
    case 'time-up-decided': {
      const { submissionId, choice, note } = event.data;
      const by = event.actor.role === 'proctor' ? event.actor.username : event.actor.role;
      return {
        ...state,
        submissions: state.submissions.map((s) =>
          s.submissionId === submissionId && s.timeUp
            ? {
                ...s,
                timeUp: {
                  ...s.timeUp,
                  decision: { choice, by, at: event.at, ...(note === undefined ? {} : { note }) },
                },
              }
            : s,
        ),
      };
    }
    case 'submission-removed':
      return {
        ...state,
        submissions: state.submissions.map((s) =>
          s.submissionId === event.data.submissionId ? { ...s, removed: true } : s,
        ),
      };
    case 'verification-decided':
      return { ...state, verification: event.data.decision };
    case 'presence-changed':
      return { ...state, connected: event.data.connected };
    case 'file-uploaded':
      return { ...state, files: [...state.files, { ...event.data, at: event.at }] };
    case 'max-downloads-set':
      return { ...state, maxDownloads: event.data.maxDownloads };
    case 'accommodation-set':
      return { ...state, accommodationPercent: event.data.percent };
    case 'personal-extension-set':
      return { ...state, personalExtraMinutes: event.data.minutes };
    case 'personal-late-login-set':
      return { ...state, personalLateLoginMinutes: event.data.minutes };
    case 'verification-mode-set':
      return { ...state, verificationMode: event.data.mode };
    case 'personal-hardware-checks-set':
      return { ...state, disabledHardwareChecks: event.data.disabled };
    case 'verification-photo-submitted':
      return {
        ...state,
        verification: state.verification === 'rejected' ? 'rejected' : 'pending',
        verificationPhotos: [...state.verificationPhotos, { ...event.data, at: event.at }],
      };
    case 'verification-password-entered':
      return event.data.correct
        ? { ...state, verification: 'verified' }
        : { ...state, wrongVerificationPasswords: state.wrongVerificationPasswords + 1 };
    case 'network-refused':
      return { ...state, networkRefusedFrom: event.data.address };
    case 'bathroom-break-requested':
      return { ...state, bathroom: { status: 'requested', since: event.at } };
    case 'bathroom-break-decided':
      return { ...state, bathroom: { status: event.data.decision, since: event.at } };
    case 'bathroom-break-returned':
      return { ...state, bathroom: { status: 'returned', since: event.at } };
    case 'integrity-event':
      return {
        ...state,
        integrity: { ...state.integrity, [event.data.type]: (state.integrity[event.data.type] ?? 0) + 1 },
      };
    case 'integrity-review-set':
      return { ...state, integrityReview: event.data.status };
    case 'resume-code-issued':
      return {
        ...state,
        resumeCodesIssued: state.resumeCodesIssued + 1,
        resumeChallengesIssued: [...state.resumeChallengesIssued, event.data.challenge],
      };
    case 'resume-code-used':
      return {
        ...state,
        resumeChallengesUsed: [...state.resumeChallengesUsed, event.data.challenge],
        locked: undefined,
      };
    case 'exam-locked':
      return { ...state, locked: { reason: event.data.reason, at: event.at } };
    case 'personal-proctoring-set':
      return { ...state, proctoringType: event.data.type };
    case 'snapshot-taken': {
      const { [event.data.source]: _solved, ...problems } = state.snapshotProblems;
      return {
        ...state,
        snapshots: { ...state.snapshots, [event.data.source]: state.snapshots[event.data.source] + 1 },
        snapshotBytes: state.snapshotBytes + event.data.size,
        snapshotHashes: [...state.snapshotHashes, event.data.sha256],
        lastSnapshotAt: event.at,
        snapshotProblems: problems,
      };
    }
    case 'snapshot-refused':
      return { ...state, snapshotProblems: { ...state.snapshotProblems, [event.data.source]: event.data.problem } };
    case 'resume-challenge-locked':
      return { ...state, resumeChallengesLocked: [...state.resumeChallengesLocked, event.data.challenge] };
    default:
      return state;
  }
}

/** How much each integrity event weighs against the integrity score (100 = nothing seen). */
export const INTEGRITY_WEIGHTS: Record<IntegrityEventType, number> = {
  'visibility-hidden': 5,
  'window-blur': 2,
  'fullscreen-exit': 5,
  paste: 10,
  copy: 3,
  reload: 5,
  devtools: 20,
};

/** The integrity score from the examinee's integrity events: 100 minus their weights, at least 0. */
export function integrityScore(state: Pick<ExamineeState, 'integrity'>): number {
  let penalty = 0;
  for (const [type, count] of Object.entries(state.integrity) as [IntegrityEventType, number][]) {
    penalty += INTEGRITY_WEIGHTS[type] * count;
  }
  return Math.max(0, 100 - penalty);
}
