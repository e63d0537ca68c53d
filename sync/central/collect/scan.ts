/**
 * Collect's reading of a hall database: every document but the blob chunks, page by page, with
 * its conflicts. What is kept is small (one row per submission, one entry per removal, decision,
 * clock event and appliance, the set of examinees with files); the files' events are read again
 * while they are exported (eventPages), so a day of snapshots is never held at once.
 */
import { duration, isoTime, type Removal } from './counting.js';

const PAGE = 500;

/** A submission document as collect reads it (C1 id or the legacy one; see docs/sync.md). */
export interface SubmissionRow {
  _id: string;
  examId: string;
  studentId: string;
  n: number;
  applianceId: string;
  sha256: string;
  size: number;
  submissionType: string;
  receivedAt: number;
  late: boolean;
  timing?: string;
  differingQuestions?: string[];
  score?: { score: number; maxScore: number; answered: number; total: number };
  /** Other leaf revisions of the document: it is in conflict. */
  conflicts: string[];
  /** Why it cannot count whatever the rule says (its id does not match its fields, ...). */
  problem?: string;
}

/** An event as collect reads it. */
export interface EventRow {
  _id: string;
  examId?: unknown;
  applianceId?: unknown;
  seq?: unknown;
  at?: unknown;
  kind?: unknown;
  studentId?: unknown;
  actor?: { role?: unknown; username?: unknown };
  data?: Record<string, unknown>;
}

/** The events that name a file collect exports, and the kind of file. */
export const FILE_EVENT_KINDS = {
  'file-uploaded': 'upload',
  'verification-photo-submitted': 'verification-photo',
  'snapshot-taken': 'snapshot',
  'time-up-answers-kept': 'time-up-answers',
} as const;

interface ClockEvent {
  seq: number;
  action: string;
  shiftMs: number;
}

export interface HallScan {
  submissions: SubmissionRow[];
  removals: Map<string, Removal>;
  /** A chief proctor's decision on a submission changed after time-up (the latest counts). */
  decisions: Map<string, { choice: string; at: number }>;
  /** Documents other than blob chunks that have conflicting revisions. */
  conflicts: { id: string; revs: string[] }[];
  appliances: Set<string>;
  /** examId → examinees that have a submission or a file. */
  examinees: Map<string, Set<string>>;
  /** Events naming a file. */
  fileEvents: number;
  /** What is known of each submission's box clock (see clockNotes). */
  clockNotes: Map<string, string>;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);

/** The exam an id belongs to, for the id shapes that name one. */
function examOfId(id: string): string | undefined {
  const [kind, exam] = id.split(':');
  return ['exam', 'examinee', 'event', 'submission', 'draft', 'timeup-draft'].includes(kind ?? '') ? exam : undefined;
}

/** All documents in [startkey, endkey), with their conflicts, page by page. */
async function* pages<T>(db: PouchDB.Database, startkey: string, endkey: string): AsyncGenerator<T[]> {
  let from = startkey;
  let skip = 0;
  for (;;) {
    const page = await db.allDocs({
      startkey: from,
      endkey,
      inclusive_end: false,
      include_docs: true,
      conflicts: true,
      limit: PAGE,
      skip,
    });
    const docs = page.rows.flatMap((r) => (r.doc ? [r.doc as unknown as T] : []));
    if (docs.length > 0) yield docs;
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < PAGE || !last) return;
    from = last.id;
    skip = 1;
  }
}

/** The events of the hall (or of one exam), page by page. */
export function eventPages(db: PouchDB.Database, examId: string | undefined): AsyncGenerator<EventRow[]> {
  const prefix = examId === undefined ? 'event:' : `event:${examId}:`;
  return pages<EventRow>(db, prefix, `${prefix}\ufff0`);
}

/** Reads everything collect needs to decide, except the files' bytes. */
export async function scanHall(db: PouchDB.Database, examId: string | undefined): Promise<HallScan> {
  const scan: HallScan = {
    submissions: [],
    removals: new Map(),
    decisions: new Map(),
    conflicts: [],
    appliances: new Set(),
    examinees: new Map(),
    fileEvents: 0,
    clockNotes: new Map(),
  };
  const accepted = new Map<string, number>();
  const clocks = new Map<string, ClockEvent[]>();
  const untrusted = new Map<string, string>();
  const inScope = (exam: unknown) => examId === undefined || exam === examId;
  const addExaminee = (exam: string, student: string) => {
    let set = scan.examinees.get(exam);
    if (!set) scan.examinees.set(exam, (set = new Set()));
    set.add(student);
  };
  // Blob chunks are left out: they may have conflicting revisions (blobs.ts takes the right one).
  for (const [start, end] of [
    ['', 'blob:'],
    ['blob;', '\ufff0'],
  ] as const) {
    for await (const page of pages<Record<string, unknown> & { _id: string; _conflicts?: string[] }>(db, start, end)) {
      for (const doc of page) {
        const id = doc._id;
        const docExam = examOfId(id);
        if (docExam !== undefined && !inScope(docExam)) continue;
        if (doc._conflicts && doc._conflicts.length > 0) scan.conflicts.push({ id, revs: [...doc._conflicts].sort() });
        if (id.startsWith('submission:')) {
          const row = submissionRow(doc);
          if (!inScope(row.examId)) continue;
          scan.submissions.push(row);
          scan.appliances.add(row.applianceId);
          addExaminee(row.examId, row.studentId);
        } else if (id.startsWith('event:') && inScope(doc.examId)) {
          readEvent(doc as unknown as EventRow);
        } else if (id.startsWith('appliance-status:') && doc.clockTrusted === false) {
          untrusted.set(str(doc.applianceId), isoTime(Date.parse(str(doc.at))));
        }
      }
    }
  }

  function readEvent(e: EventRow) {
    const appliance = str(e.applianceId);
    const exam = str(e.examId);
    const data = e.data ?? {};
    const at = num(e.at);
    switch (e.kind) {
      case 'submission-removed': {
        const id = str(data.submissionId);
        const old = scan.removals.get(id);
        if (!old || at < old.at) {
          const by = e.actor?.role === 'proctor' ? str(e.actor.username) : '';
          scan.removals.set(id, {
            applianceId: appliance,
            at,
            ...(by === '' ? {} : { by }),
            ...(typeof data.reason === 'string' ? { reason: data.reason } : {}),
          });
        }
        break;
      }
      case 'time-up-decided': {
        const id = str(data.submissionId);
        const old = scan.decisions.get(id);
        if (typeof data.choice === 'string' && (!old || !(at < old.at)))
          scan.decisions.set(id, { choice: data.choice, at });
        break;
      }
      case 'submission-accepted':
        accepted.set(`${str(data.submissionId)}\u0000${appliance}`, num(e.seq));
        break;
      case 'clock-confirmed': {
        const key = `${exam}\u0000${appliance}`;
        const list = clocks.get(key) ?? [];
        list.push({
          seq: num(e.seq),
          action: str(data.action),
          shiftMs: num(data.offsetMs) - num(data.previousOffsetMs),
        });
        clocks.set(key, list);
        break;
      }
      default:
        if (typeof e.kind === 'string' && Object.hasOwn(FILE_EVENT_KINDS, e.kind)) {
          scan.fileEvents++;
          scan.appliances.add(appliance);
          addExaminee(exam, str(e.studentId));
        }
    }
  }

  for (const s of scan.submissions) {
    const notes: string[] = [];
    const seq = accepted.get(`${s._id}\u0000${s.applianceId}`);
    const after = (clocks.get(`${s.examId}\u0000${s.applianceId}`) ?? [])
      .filter((c) => seq !== undefined && c.seq > seq)
      .sort((a, b) => a.seq - b.seq)[0];
    if (after?.action === 'set' && Number.isFinite(after.shiftMs) && after.shiftMs !== 0)
      notes.push(
        `${s.applianceId}'s clock was set ${duration(after.shiftMs)} ${after.shiftMs > 0 ? 'forward' : 'back'} by a proctor ` +
          `after it accepted this, so this time may be off by that much`,
      );
    else if (after)
      notes.push(
        `${s.applianceId}'s clock was vouched for by a proctor only after it accepted this (untrusted before?)`,
      );
    const heartbeat = untrusted.get(s.applianceId);
    if (heartbeat !== undefined)
      notes.push(`${s.applianceId}'s last heartbeat (${heartbeat}) says its clock is not trusted`);
    if (notes.length > 0) scan.clockNotes.set(s._id, notes.join('; '));
  }
  return scan;
}

/** The two id shapes of a submission (contract C1 and the legacy one), from its fields. */
const submissionIds = (s: SubmissionRow) => [
  `submission:${s.examId}:${s.studentId}:${s.applianceId}:${s.n}`,
  `submission:${s.examId}:${s.studentId}:${s.n}`,
];

function submissionRow(d: Record<string, unknown> & { _id: string; _conflicts?: string[] }): SubmissionRow {
  const row: SubmissionRow = {
    _id: d._id,
    examId: str(d.examId),
    studentId: str(d.studentId),
    n: num(d.n),
    applianceId: str(d.applianceId),
    sha256: str(d.sha256),
    size: num(d.size),
    submissionType: str(d.submissionType),
    receivedAt: num(d.receivedAt),
    late: d.late === true,
    conflicts: [...(d._conflicts ?? [])].sort(),
    ...(typeof d.timing === 'string' ? { timing: d.timing } : {}),
    ...(Array.isArray(d.differingQuestions) ? { differingQuestions: d.differingQuestions.map(String) } : {}),
    ...(typeof d.score === 'object' && d.score !== null ? { score: d.score as SubmissionRow['score'] } : {}),
  };
  const lacking: string[] = (['examId', 'studentId', 'applianceId', 'sha256'] as const).filter((k) => row[k] === '');
  if (!Number.isSafeInteger(row.n) || row.n < 1) lacking.push('n');
  if (!Number.isFinite(row.receivedAt)) lacking.push('receivedAt');
  if (lacking.length > 0) row.problem = `the document lacks a valid ${lacking.join(', ')}`;
  else if (!submissionIds(row).includes(row._id))
    row.problem = `its id does not match its examId, studentId, applianceId and n (${submissionIds(row).join(' or ')})`;
  return row;
}
