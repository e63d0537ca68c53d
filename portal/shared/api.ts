/**
 * The portal's wire types: what its server answers and its page reads (one copy, used by both).
 * Pure types and constants; no I/O.
 */

/** One refusal shape, as the appliance's: `{ error: { code, message, detail? } }`. */
export interface PortalRefusal {
  error: { code: PortalErrorCode; message: string; detail?: string };
}

/** Every refusal the portal gives, with its HTTP status and its words. */
export const PORTAL_ERRORS = {
  'bad-request': { status: 400, message: 'The request is not valid.' },
  'invalid-json': { status: 400, message: 'The body is not valid JSON.' },
  'validation-failed': { status: 400, message: 'The request does not have the expected fields.' },
  'import-failed': { status: 422, message: 'The exam or the roster has errors; nothing was published.' },
  unauthenticated: { status: 401, message: 'Sign in with your CouchDB user.' },
  'wrong-credentials': { status: 401, message: 'The name or the password is wrong.' },
  'admin-only': { status: 403, message: 'Only a CouchDB admin may do this.' },
  'origin-mismatch': { status: 403, message: 'Requests that change something must come from the portal page.' },
  'no-access': { status: 403, message: 'Your CouchDB user may not read this hall.' },
  'unknown-hall': { status: 404, message: 'There is no such hall.' },
  'unknown-exam': { status: 404, message: 'The hall has no such exam.' },
  'unknown-examinee': { status: 404, message: 'The exam has no such examinee in this hall.' },
  'not-found': { status: 404, message: 'There is nothing at this address.' },
  'views-missing': {
    status: 409,
    message: 'The hall has no portal views (_design/portal) yet: they are installed when an admin opens the portal.',
  },
  'payload-too-large': { status: 413, message: 'The request is too large.' },
  'unsupported-media-type': { status: 415, message: 'Send Content-Type: application/json.' },
  'central-unavailable': { status: 502, message: 'The central CouchDB cannot be reached.' },
  'central-refused': { status: 502, message: 'The central CouchDB refused the request.' },
  internal: { status: 500, message: 'Something went wrong in the portal (it is logged).' },
} as const;
export type PortalErrorCode = keyof typeof PORTAL_ERRORS;

/** Who is signed in (GET/POST /api/session). */
export interface SessionInfo {
  name: string;
  roles: string[];
  admin: boolean;
}

/** A box's heartbeat as the box writes it (contract C3: `appliance-status:<applianceId>`). */
export interface Heartbeat {
  applianceId: string;
  hallId: string;
  version: string;
  /** ISO, the box's clock. */
  at: string;
  clockTrusted: boolean;
  state: 'idle' | 'syncing' | 'offline' | 'error';
  lastContactAt: string | null;
  lastSuccessAt: string | null;
  pending: { docs: number; bytes: number } | null;
  refused: number;
  startedAt: string;
}

export type BoxColour = 'green' | 'amber' | 'red';

export interface BoxStatus {
  heartbeat: Heartbeat;
  colour: BoxColour;
  /** Short words for the colour ("Synced", "Stale: no heartbeat for 5 min", ...). */
  label: string;
}

/** The ExamSoft tracking totals of one exam in one hall (or summed over halls). */
export interface ExamTotals {
  /** Exam-takers on the roster (examinee documents). */
  studentsPosted: number;
  /** Exam-takers who downloaded the exam at least once (their first download event). */
  downloaded: number;
  /** Download events in all. */
  downloads: number;
  /** Exam-takers who uploaded an answer file (their first submission). */
  uploaded: number;
  /** Submissions in all (resubmissions and both id forms count). */
  uploads: number;
  late: number;
  changedAfterTimeUp: number;
}

export interface ExamSummary {
  examId: string;
  title: string;
  scheduledStart: string;
  durationMinutes: number;
  /** ISO or null when the exam has none. */
  uploadDeadline: string | null;
  downloadWindow: { opens: string; closes: string };
  totals: ExamTotals;
}

export type DesignState = 'ok' | 'installed' | 'updated' | 'missing' | 'outdated';

export interface HallOverview {
  hallId: string;
  /** `ok`: read; `no-access`: the user may not read it; `missing`: no such database. */
  access: 'ok' | 'no-access' | 'missing';
  /** The `_design/portal` views: installed or updated now (admin), or missing/outdated (not admin). */
  design: DesignState;
  exams: ExamSummary[];
  boxes: BoxStatus[];
}

export interface OverviewResponse {
  /** The portal's clock when it read the halls (ISO). */
  at: string;
  /** Where the list of halls came from. */
  hallsFrom: 'all-dbs' | 'configured' | 'roles';
  halls: HallOverview[];
  /** Said when the hall list is empty or partial, in plain words. */
  note: string | null;
}

/** One row of the per-examinee table of an exam in a hall. */
export interface ExamineeRow {
  studentId: string;
  name: string;
  examineeId: string | null;
  seat: string | null;
  maxDownloads: number;
  downloads: number;
  /** ISO of the first download, or null. */
  firstDownloadAt: string | null;
  uploads: number;
  /** ISO of the latest upload, or null. */
  uploadedAt: string | null;
  late: boolean;
  changedAfterTimeUp: boolean;
}

export interface ExamineesResponse {
  hallId: string;
  exam: ExamSummary;
  rows: ExamineeRow[];
}

/** POST /api/publish: the two files' names and texts, and the halls. */
export interface PublishRequest {
  exam: { name: string; text: string };
  roster: { name: string; text: string };
  halls: string[];
}

export interface PublishHallResult {
  hallId: string;
  exam: 'created' | 'updated' | 'unchanged';
  examinees: { created: number; updated: number; unchanged: number };
  notInRoster: number;
}

export interface PublishResponse {
  examId: string;
  title: string;
  halls: PublishHallResult[];
}

/** 422 import-failed carries the located errors, `file:line:column path: message` each. */
export interface ImportFailure extends PortalRefusal {
  errors: string[];
}

/** POST /api/halls/:hall/exams/:exam/max-downloads */
export interface MaxDownloadsRequest {
  maxDownloads: number;
  /** Only these examinees; absent: every examinee of the exam in the hall. */
  studentIds?: string[];
}

export interface MaxDownloadsResponse {
  updated: number;
  unchanged: number;
}

/** What the live stream (GET /api/live, server-sent events) says. */
export interface HallChanged {
  hallId: string;
  /** The kinds of documents that changed (exam, examinee, event, submission, appliance-status, ...). */
  kinds: string[];
}
