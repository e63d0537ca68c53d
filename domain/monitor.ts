/**
 * The exam monitor's participants table and tracking totals, as pure functions of the roster,
 * the examinees' states and the time: what the Participants tab shows, searches, filters and
 * sorts, and what the live stream sends when a row changes.
 */
import { timeLeftMs, type ExamineeTimeline } from './exam-clock.js';
import type { ExamDoc, ExamineeDoc } from './exam-format.js';
import { INTEGRITY_REVIEW_STATUSES, type Actor, type EventData, type IntegrityReviewStatus } from './events.js';
import type { SnapshotCost } from './snapshot-cost.js';
import {
  PROCTORING_TYPES,
  type HardwareCheck,
  type ProctoringType,
  type SnapshotProblem,
  type SnapshotSource,
  type VerificationMode,
} from './exam-options.js';
import { proctoringFor, type ExamWideState } from './exam-state.js';
import {
  activeSubmission,
  EXAMINEE_STATUSES,
  examineeStatus,
  integrityScore,
  type BathroomStatus,
  type ExamineeState,
  type ExamineeStatus,
} from './examinee-state.js';
import type { TimeUpChoice, TimingCase } from './time-up.js';

/** One row of the Participants tab. Contact details are not here: they are revealed one by one. */
export interface ParticipantRow {
  studentId: string;
  name: string;
  /** The roster's examinee identifier (candidate number), when it has one distinct from studentId. */
  examineeId: string | null;
  seat: string | null;
  hasEmail: boolean;
  hasPhone: boolean;
  status: ExamineeStatus;
  maxDownloads: number;
  downloads: number;
  /** ISO time of the first download. */
  firstDownloadAt: string | null;
  /** ISO time of the accepted upload (green in the table), or null. */
  uploadedAt: string | null;
  submissionType: 'not-yet' | 'manual' | 'automatic';
  submissionId: string | null;
  late: boolean;
  /** The accepted submission's time-up case (domain/time-up.ts), or null before a submission. */
  timing: TimingCase | null;
  /** Flag: the submission differs from the draft held at the deadline, from a device unseen then. */
  changedAfterTimeUp: boolean;
  /** When changed after time-up: how many answers differ, how long the device was unseen, the chief's decision. */
  timeUp: { differingAnswers: number; unseenMs: number | null; decision: TimeUpChoice | null } | null;
  filesUploaded: number;
  lateLoginDeadline: string;
  personalLateLoginMinutes: number | null;
  verificationMode: VerificationMode;
  verification: ExamineeState['verification'];
  verificationPhotos: number;
  /** Wrong verification passwords typed so far. */
  wrongVerificationPasswords: number;
  /** The address of the latest sign-in refused as outside the allowed networks, or null. */
  networkRefusedFrom: string | null;
  bathroom: BathroomStatus;
  bathroomSince: string | null;
  disabledHardwareChecks: HardwareCheck[];
  extensionMinutes: number;
  accommodationPercent: number;
  deadline: string;
  msLeft: number;
  /** 0-100, from the latest autosave or the submission. */
  answeredPercent: number;
  answered: number;
  questions: number;
  /** Closed questions only; null until submitted. */
  closedScore: { score: number; maxScore: number } | null;
  integrityScore: number;
  integrityEvents: number;
  integrityReview: IntegrityReviewStatus;
  resumeCodesIssued: number;
  /** The proctoring type that applies (the examinee's own, else the exam's). */
  proctoringType: ProctoringType;
  /** Snapshots received (camera and screen together), and the time of the latest. */
  snapshots: number;
  lastSnapshotAt: string | null;
  /** What the device said it cannot photograph (e.g. camera: denied), until a snapshot of it arrives. */
  snapshotProblems: Partial<Record<SnapshotSource, SnapshotProblem>>;
  lastActivityAt: string | null;
}

/** The columns a proctor can show, hide and order (column management). */
export const PARTICIPANT_COLUMNS = [
  'name',
  'studentId',
  'examineeId',
  'seat',
  'contact',
  'status',
  'maxDownloads',
  'downloads',
  'upload',
  'lateLogin',
  'verification',
  'bathroom',
  'hardwareChecks',
  'timeExtension',
  'timeLeft',
  'submissionType',
  'filesUploaded',
  'answered',
  'closedScore',
  'integrityScore',
  'integrityReview',
  'resumeCodes',
  'proctoring',
] as const;
export type ParticipantColumn = (typeof PARTICIPANT_COLUMNS)[number];
/**
 * Shown, in this order, until a proctor chooses. `examineeId` is offered (and shown) only when
 * some row of the exam has one (see {@link offeredColumns}).
 */
export const DEFAULT_COLUMNS: ParticipantColumn[] = [
  'name',
  'studentId',
  'examineeId',
  'status',
  'maxDownloads',
  'downloads',
  'upload',
  'timeExtension',
  'timeLeft',
  'answered',
  'submissionType',
  'integrityScore',
];

/** The columns worth offering for these rows: the examinee identifier only where the roster has one. */
export function offeredColumns(rows: readonly ParticipantRow[]): ParticipantColumn[] {
  const withIds = rows.some((r) => r.examineeId !== null);
  return PARTICIPANT_COLUMNS.filter((c) => c !== 'examineeId' || withIds);
}

/** Everything a row is computed from. */
export interface RowInput {
  exam: Pick<ExamDoc, 'verificationMode' | 'settings'>;
  wide: ExamWideState;
  doc: ExamineeDoc;
  state: ExamineeState;
  timeline: ExamineeTimeline;
  progress: { answered: number; total: number } | undefined;
  /** The accepted submission's closed-question score and answered count, when known. */
  submissionScore: { score: number; maxScore: number; answered: number; total: number } | undefined;
  totalQuestions: number;
  now: number;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** Builds one participant row. */
export function participantRow(i: RowInput): ParticipantRow {
  const s = i.state;
  const submission = activeSubmission(s);
  const answered = submission && i.submissionScore ? i.submissionScore.answered : (i.progress?.answered ?? 0);
  const questions = i.submissionScore?.total ?? i.progress?.total ?? i.totalQuestions;
  return {
    studentId: i.doc.studentId,
    name: i.doc.name,
    examineeId: i.doc.examineeId ?? null,
    seat: i.doc.seat ?? null,
    hasEmail: i.doc.email !== undefined,
    hasPhone: i.doc.phone !== undefined,
    status: examineeStatus(s),
    maxDownloads: s.maxDownloads ?? i.doc.maxDownloads,
    downloads: s.downloads.length,
    firstDownloadAt: iso(s.downloads[0]),
    uploadedAt: iso(submission?.at),
    submissionType: submission ? submission.submissionType : 'not-yet',
    submissionId: submission?.submissionId ?? null,
    late: submission?.late ?? false,
    timing: submission?.timing ?? null,
    changedAfterTimeUp: submission?.timing === 'changed-after-time-up',
    timeUp: submission?.timeUp
      ? {
          differingAnswers: submission.timeUp.differingQuestions.length,
          unseenMs: submission.timeUp.unseenMs,
          decision: submission.timeUp.decision?.choice ?? null,
        }
      : null,
    filesUploaded: s.files.length,
    lateLoginDeadline: new Date(i.timeline.lateLoginDeadline).toISOString(),
    personalLateLoginMinutes: s.personalLateLoginMinutes ?? null,
    verificationMode: s.verificationMode ?? i.wide.verificationMode ?? i.exam.verificationMode,
    verification: s.verification,
    verificationPhotos: s.verificationPhotos.length,
    wrongVerificationPasswords: s.wrongVerificationPasswords,
    networkRefusedFrom: s.networkRefusedFrom ?? null,
    bathroom: s.bathroom.status,
    bathroomSince: iso(s.bathroom.since),
    disabledHardwareChecks: s.disabledHardwareChecks ?? i.wide.disabledHardwareChecks ?? [],
    extensionMinutes: s.personalExtraMinutes + i.wide.extraMinutes,
    accommodationPercent: s.accommodationPercent ?? i.doc.accommodationPercent,
    deadline: new Date(i.timeline.deadline).toISOString(),
    msLeft: submission ? 0 : timeLeftMs(i.timeline, i.now),
    answeredPercent: questions === 0 ? 0 : Math.round((answered / questions) * 100),
    answered,
    questions,
    closedScore:
      submission && i.submissionScore ? { score: i.submissionScore.score, maxScore: i.submissionScore.maxScore } : null,
    integrityScore: integrityScore(s),
    integrityEvents: Object.values(s.integrity).reduce((a, b) => a + (b ?? 0), 0),
    integrityReview: s.integrityReview,
    resumeCodesIssued: s.resumeCodesIssued,
    proctoringType: proctoringFor({ doc: i.exam, wide: i.wide }, s.proctoringType).type,
    snapshots: s.snapshots.camera + s.snapshots.screen,
    lastSnapshotAt: iso(s.lastSnapshotAt),
    snapshotProblems: s.snapshotProblems,
    lastActivityAt: iso(s.lastEventAt),
  };
}

/**
 * Sortable keys of a row: every column with a sensible order has one (COLUMN_SORT_KEYS), plus
 * `msLeft` and `lastActivityAt`. Enumerations (status, verification, bathroom, submission type,
 * integrity review) sort in the order of their states, so the same states stand together.
 */
export const SORT_KEYS = [
  'name',
  'studentId',
  'examineeId',
  'seat',
  'contact',
  'status',
  'maxDownloads',
  'downloads',
  'uploadedAt',
  'lateLoginDeadline',
  'verification',
  'bathroom',
  'hardwareChecks',
  'msLeft',
  'timeLeft',
  'submissionType',
  'filesUploaded',
  'answeredPercent',
  'closedScore',
  'integrityScore',
  'integrityReview',
  'extensionMinutes',
  'resumeCodesIssued',
  'proctoring',
  'lastActivityAt',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** The sort key of each column of the participants table (clicking its header sorts by it). */
export const COLUMN_SORT_KEYS: Record<ParticipantColumn, SortKey> = {
  name: 'name',
  studentId: 'studentId',
  examineeId: 'examineeId',
  seat: 'seat',
  contact: 'contact',
  status: 'status',
  maxDownloads: 'maxDownloads',
  downloads: 'downloads',
  upload: 'uploadedAt',
  lateLogin: 'lateLoginDeadline',
  verification: 'verification',
  bathroom: 'bathroom',
  hardwareChecks: 'hardwareChecks',
  timeExtension: 'extensionMinutes',
  timeLeft: 'timeLeft',
  submissionType: 'submissionType',
  filesUploaded: 'filesUploaded',
  answered: 'answeredPercent',
  closedScore: 'closedScore',
  integrityScore: 'integrityScore',
  integrityReview: 'integrityReview',
  resumeCodes: 'resumeCodesIssued',
  proctoring: 'proctoring',
};

export interface RowQuery {
  /** Matches name or student id, case- and accent-insensitive. */
  q?: string | undefined;
  status?: ExamineeStatus | undefined;
  sort?: SortKey | undefined;
  dir?: 'asc' | 'desc' | undefined;
}

const fold = (t: string) => t.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * A row's name and student id folded, once per row object: rows are replaced when they change,
 * never edited, so a search keystroke folds only the needle.
 */
const FOLDED = new WeakMap<ParticipantRow, readonly [name: string, studentId: string]>();
function folded(r: ParticipantRow): readonly [string, string] {
  let f = FOLDED.get(r);
  if (f === undefined) {
    f = [fold(r.name), fold(r.studentId)];
    FOLDED.set(r, f);
  }
  return f;
}

const VERIFICATION_ORDER: readonly ExamineeState['verification'][] = ['pending', 'retake', 'verified', 'rejected'];
const BATHROOM_ORDER: readonly BathroomStatus[] = ['none', 'requested', 'later', 'approved', 'returned', 'rejected'];
const SUBMISSION_ORDER: readonly ParticipantRow['submissionType'][] = ['not-yet', 'manual', 'automatic'];
const REVIEW_ORDER: readonly IntegrityReviewStatus[] = INTEGRITY_REVIEW_STATUSES;

/**
 * Natural order ("Examinee 2" before "Examinee 10"), one collator for every comparison:
 * `localeCompare` with options builds a new one per call, ~17× slower on a 1,000-row sort.
 */
const NATURAL = new Intl.Collator(undefined, { numeric: true });

/** The position of a state in its order (unknown states after the known ones). */
const rank = <T>(order: readonly T[], value: T) => {
  const i = order.indexOf(value);
  return i < 0 ? order.length : i;
};

/** What a row is sorted by for a key; null sorts last in both directions. */
function sortValue(r: ParticipantRow, key: SortKey): string | number | null {
  switch (key) {
    case 'contact':
      return (r.hasEmail ? 1 : 0) + (r.hasPhone ? 1 : 0);
    case 'status':
      return EXAMINEE_STATUSES.indexOf(r.status);
    case 'verification':
      return rank(VERIFICATION_ORDER, r.verification);
    case 'bathroom':
      return rank(BATHROOM_ORDER, r.bathroom);
    case 'hardwareChecks':
      return r.disabledHardwareChecks.length;
    case 'timeLeft':
      // The deadline orders examinees by time left at any moment; submitted ones have none left.
      return r.status === 'submitted' ? null : Date.parse(r.deadline);
    case 'submissionType':
      return rank(SUBMISSION_ORDER, r.submissionType);
    case 'closedScore':
      return r.closedScore === null || r.closedScore.maxScore === 0
        ? null
        : r.closedScore.score / r.closedScore.maxScore;
    case 'integrityReview':
      return rank(REVIEW_ORDER, r.integrityReview);
    case 'proctoring':
      // By type, then those whose device cannot take them first within a type.
      return rank(PROCTORING_TYPES, r.proctoringType) * 2 + (Object.keys(r.snapshotProblems).length > 0 ? 0 : 1);
    default:
      return r[key];
  }
}

/** How the participants are ordered: a key and a direction (ascending when unset). */
export interface RowOrder {
  sort?: SortKey | undefined;
  dir?: 'asc' | 'desc' | undefined;
}

/** Compares two rows given their sort values (sortValue), in the order's direction. */
function valueComparator(
  order: RowOrder,
): (a: ParticipantRow, va: string | number | null, b: ParticipantRow, vb: string | number | null) => number {
  const sign = order.dir === 'desc' ? -1 : 1;
  return (a, va, b, vb) => {
    if (va === vb) return byName(a, b);
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : NATURAL.compare(String(va), String(vb));
    return sign * c || byName(a, b);
  };
}

/**
 * Ties: by name, then student id, ascending in both directions. Student ids are unique and
 * compared code unit by code unit last (the collator holds "S01" and "S1" equal), so no two
 * rows ever compare equal.
 */
function byName(a: ParticipantRow, b: ParticipantRow): number {
  return (
    NATURAL.compare(a.name, b.name) ||
    NATURAL.compare(a.studentId, b.studentId) ||
    (a.studentId < b.studentId ? -1 : a.studentId > b.studentId ? 1 : 0)
  );
}

/**
 * The comparison of the participants' order: by the key (nulls last in both directions), ties
 * broken by name and then student id, ascending in both directions, so equal rows never swap
 * between updates. No two rows compare equal, so the order of a list does not depend on the
 * order its rows came in, and a row can be put in its place by bisection (placeChangedRows).
 */
export function rowComparator(order: RowOrder): (a: ParticipantRow, b: ParticipantRow) => number {
  const key = order.sort ?? 'name';
  const compare = valueComparator(order);
  return (a, b) => compare(a, sortValue(a, key), b, sortValue(b, key));
}

/** The rows in the participants' order (a new array). */
export function sortRows(rows: readonly ParticipantRow[], order: RowOrder): ParticipantRow[] {
  const key = order.sort ?? 'name';
  const compare = valueComparator(order);
  // Each row's sort value once, not once per comparison.
  const keyed = rows.map((r) => ({ r, v: sortValue(r, key) }));
  keyed.sort((a, b) => compare(a.r, a.v, b.r, b.v));
  return keyed.map((k) => k.r);
}

/**
 * The sorted list after some rows changed, without sorting it again: `sorted` is `before` in
 * `order` (as sortRows gives it); `after` is the rows now, where a row that did not change is the
 * same object at the same place as before (live.ts's applyRowChanges keeps them so). The rows
 * that differ from `before` place by place are taken out and the new ones put in their place by
 * bisection: O(n) plus O(k log n) comparisons for k changed rows, against O(n log n) for a sort.
 * The result is what sortRows(after, order) gives, since no two rows compare equal; with many
 * changes (a fresh snapshot) it is that sort.
 */
export function placeChangedRows(
  sorted: readonly ParticipantRow[],
  before: readonly ParticipantRow[],
  after: readonly ParticipantRow[],
  order: RowOrder,
): ParticipantRow[] {
  const removed = new Set<ParticipantRow>();
  const added: ParticipantRow[] = [];
  const most = Math.max(before.length, after.length);
  const limit = Math.max(8, after.length >>> 4);
  for (let i = 0; i < most; i++) {
    const b = before[i];
    const a = after[i];
    if (a === b) continue;
    if (b !== undefined) removed.add(b);
    if (a !== undefined) added.push(a);
    if (added.length > limit) return sortRows(after, order);
  }
  if (removed.size === 0 && added.length === 0) return sorted.slice();
  const out = removed.size === 0 ? sorted.slice() : sorted.filter((r) => !removed.has(r));
  const key = order.sort ?? 'name';
  const compare = valueComparator(order);
  for (const r of added) {
    const v = sortValue(r, key);
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = out[mid]!;
      if (compare(m, sortValue(m, key), r, v) < 0) lo = mid + 1;
      else hi = mid;
    }
    out.splice(lo, 0, r);
  }
  return out;
}

/** The rows matching a search (folded: case and accents ignored) and a status filter. */
export function rowMatcher(query: Pick<RowQuery, 'q' | 'status'>): ((r: ParticipantRow) => boolean) | undefined {
  const needle = query.q === undefined ? '' : fold(query.q.trim());
  const status = query.status;
  if (needle === '' && status === undefined) return undefined;
  return (r) => {
    if (status !== undefined && r.status !== status) return false;
    if (needle === '') return true;
    const [name, studentId] = folded(r);
    return name.includes(needle) || studentId.includes(needle);
  };
}

/**
 * Search, filter by status and sort, as the Participants tab does. Ties are broken by name and
 * then student id, ascending in both directions, so equal rows never swap between updates.
 */
export function queryRows(rows: readonly ParticipantRow[], query: RowQuery): ParticipantRow[] {
  const matches = rowMatcher(query);
  return sortRows(matches === undefined ? rows : rows.filter(matches), query);
}

/** How many examinees are in each status (the filter chips). */
export function statusCounts(rows: readonly ParticipantRow[]): Record<ExamineeStatus, number> {
  const counts = Object.fromEntries(EXAMINEE_STATUSES.map((s) => [s, 0])) as Record<ExamineeStatus, number>;
  for (const r of rows) counts[r.status]++;
  return counts;
}

/** The tracking totals at the top of the proctoring page. */
export interface TrackingTotals {
  /** Examinees posted to this exam (the roster). */
  posted: number;
  /** Examinees who downloaded the exam at least once. */
  downloads: number;
  /** Examinees whose answer file is accepted. */
  uploads: number;
  uploadDeadline: string | null;
}

/** The tracking totals of the exam's rows. */
export function trackingTotals(rows: readonly ParticipantRow[], uploadDeadline: string | undefined): TrackingTotals {
  return {
    posted: rows.length,
    downloads: rows.filter((r) => r.downloads > 0).length,
    uploads: rows.filter((r) => r.uploadedAt !== null).length,
    uploadDeadline: uploadDeadline ?? null,
  };
}

/**
 * The Exam info tab: settings (the editable ones under `editable`), countdown and totals, as
 * GET /api/proctor/exams/:examId and the monitor stream's `snapshot` and `exam` events carry it.
 */
export interface ExamInfo {
  examId: string;
  title: string;
  assessmentType: string;
  scheduledStart: string;
  durationMinutes: number;
  downloadWindow: { opens: string; closes: string };
  msUntilStart: number;
  /** The appliance's clock when the info was computed (epoch ms). */
  serverNow: number;
  minimumClientVersion: string;
  uploadDeadline: string | null;
  verificationMode: VerificationMode;
  version: string;
  editable: {
    lateLoginMinutes: number;
    extraMinutes: number;
    disabledHardwareChecks: HardwareCheck[];
    /** Allowed examinee networks (domain/networks.ts); empty allows every address. */
    allowedNetworks: string[];
    /** The default verification type (the exam's unless a proctor changed it). */
    verificationMode: VerificationMode;
    /** The proctoring type for examinees without their own, and the seconds between snapshots. */
    proctoringType: ProctoringType;
    snapshotIntervalSeconds: number;
  };
  /** Proctoring snapshots: what the exam tells examinees, and what the snapshots cost in disk. */
  proctoring: SnapshotCost & { consentText: string | null; cameraRequired: boolean };
  /** The hardware checks this exam performs (before any are disabled). */
  hardwareChecks: HardwareCheck[];
  verificationPasswordsGenerated: number;
  totals: TrackingTotals;
  statusCounts: Record<ExamineeStatus, number>;
}

/** One exam of the exam list (GET /api/proctor/exams). */
export type ExamSummary = Pick<ExamInfo, 'examId' | 'title' | 'scheduledStart' | 'totals' | 'statusCounts'>;

/**
 * A message as proctors and examinees see it: GET .../messages, the monitor stream's and the
 * examinee stream's `message` events. Built from a `message-sent` event (appliance/src/monitor.ts).
 */
export interface MonitorMessage {
  messageId: string;
  /** ISO time. */
  at: string;
  audience: EventData['message-sent']['audience'];
  /** The examinee of a private message or of a question, else null. */
  studentId: string | null;
  questionId: string | null;
  text: string;
  from: Actor;
}

/**
 * The first event of the proctors' monitor stream (GET .../monitor, `snapshot`); then come `row`
 * (a ParticipantRow), `exam` (an ExamInfo) and `message` (a MonitorMessage) events.
 */
export interface MonitorSnapshot {
  exam: ExamInfo;
  rows: ParticipantRow[];
  messages: MonitorMessage[];
}
