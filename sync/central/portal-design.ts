/**
 * The central hall database's design document `_design/portal` (contract C5): the map/reduce
 * views the institution's portal (portal/) reads, so that every total is computed by CouchDB and
 * scales with the cluster, not with the portal's process. It lives here, beside `_design/hall`,
 * so that both the portal and the institution's CLI (install-design, add-hall) can install it.
 *
 * Views (keys are arrays so that one exam, or one examinee, is a key range; `group_level` picks
 * the level of the totals):
 * - `exams`: `exam:<examId>` → examId: { title, scheduledStart, durationMinutes, uploadDeadline,
 *   downloadWindow }; no reduce (one small row per exam, not the questions).
 * - `totals` (`_sum`): [examId] → [studentsPosted, downloads, downloaded, uploads, uploaded,
 *   late, changedAfterTimeUp]: an `examinee:` document counts as posted; a `package-downloaded`
 *   event as a download, and as a downloaded exam-taker when it is their first (downloadNo 1);
 *   a submission (both id forms of contract C1: `submission:<exam>:<student>:<n>` and
 *   `submission:<exam>:<student>:<appliance>:<n>`) as an upload, and as an uploaded exam-taker
 *   when it is their first (n 1), late when `late`, changed after time-up when its `timing` says so.
 *   Query with `group_level=1`.
 * - `examinees`: [examId, studentId] → { name, maxDownloads, examineeId, seat }; no reduce.
 * - `downloads` (`_stats`): [examId, studentId] → the download event's time (epoch ms): with
 *   `group_level=2`, `count` is the examinee's downloads and `min` the first.
 * - `uploads` (`_stats`): [examId, studentId] → the submission's receivedAt: `count`, and `max`
 *   the latest upload.
 * - `flags` (`_count`): [examId, studentId, 'late' | 'changed-after-time-up'] → 1.
 * - `boxes`: `appliance-status:<applianceId>` (contract C3) → applianceId: the heartbeat's fields.
 *
 * The functions are source text in ES5 (every CouchDB 3 query server runs it), installed exactly
 * as written; the tests run them through the PouchDB stand-in's view engine.
 */

export const PORTAL_DESIGN_DOC_ID = '_design/portal';

const EXAMS = `function (doc) {
  if (doc.type !== 'exam' || doc._id !== 'exam:' + doc.examId) return;
  emit(doc.examId, {
    title: doc.title,
    scheduledStart: doc.scheduledStart,
    durationMinutes: doc.durationMinutes,
    uploadDeadline: doc.uploadDeadline || null,
    downloadWindow: doc.downloadWindow
  });
}`;

const TOTALS = `function (doc) {
  var id = String(doc._id);
  if (doc.type === 'examinee' && id.indexOf('examinee:') === 0) {
    emit([doc.examId], [1, 0, 0, 0, 0, 0, 0]);
  } else if (doc.type === 'event' && id.indexOf('event:') === 0 && doc.kind === 'package-downloaded') {
    emit([doc.examId], [0, 1, doc.data && doc.data.downloadNo === 1 ? 1 : 0, 0, 0, 0, 0]);
  } else if (doc.type === 'submission' && id.indexOf('submission:') === 0) {
    emit([doc.examId], [0, 0, 0, 1, doc.n === 1 ? 1 : 0, doc.late === true ? 1 : 0,
      doc.timing === 'changed-after-time-up' ? 1 : 0]);
  }
}`;

const EXAMINEES = `function (doc) {
  if (doc.type !== 'examinee' || String(doc._id).indexOf('examinee:') !== 0) return;
  emit([doc.examId, doc.studentId], {
    name: doc.name,
    maxDownloads: doc.maxDownloads,
    examineeId: doc.examineeId || null,
    seat: doc.seat || null
  });
}`;

const DOWNLOADS = `function (doc) {
  if (doc.type !== 'event' || doc.kind !== 'package-downloaded' || String(doc._id).indexOf('event:') !== 0) return;
  var student = doc.studentId || (doc.actor && doc.actor.studentId);
  if (typeof student === 'string' && typeof doc.at === 'number') emit([doc.examId, student], doc.at);
}`;

const UPLOADS = `function (doc) {
  if (doc.type !== 'submission' || String(doc._id).indexOf('submission:') !== 0) return;
  if (typeof doc.receivedAt === 'number') emit([doc.examId, doc.studentId], doc.receivedAt);
}`;

const FLAGS = `function (doc) {
  if (doc.type !== 'submission' || String(doc._id).indexOf('submission:') !== 0) return;
  if (doc.late === true) emit([doc.examId, doc.studentId, 'late'], 1);
  if (doc.timing === 'changed-after-time-up') emit([doc.examId, doc.studentId, 'changed-after-time-up'], 1);
}`;

const BOXES = `function (doc) {
  if (doc.type !== 'appliance-status' || doc._id !== 'appliance-status:' + doc.applianceId) return;
  emit(doc.applianceId, {
    applianceId: doc.applianceId,
    hallId: doc.hallId,
    version: doc.version,
    at: doc.at,
    clockTrusted: doc.clockTrusted === true,
    state: doc.state,
    lastContactAt: doc.lastContactAt || null,
    lastSuccessAt: doc.lastSuccessAt || null,
    pending: doc.pending || null,
    refused: typeof doc.refused === 'number' ? doc.refused : 0,
    startedAt: doc.startedAt
  });
}`;

export interface PortalDesignDoc {
  _id: typeof PORTAL_DESIGN_DOC_ID;
  _rev?: string;
  language: 'javascript';
  views: Record<string, { map: string; reduce?: '_sum' | '_count' | '_stats' }>;
}

/** The design document to install (without `_rev`). */
export function portalDesignDoc(): PortalDesignDoc {
  return {
    _id: PORTAL_DESIGN_DOC_ID,
    language: 'javascript',
    views: {
      exams: { map: EXAMS },
      totals: { map: TOTALS, reduce: '_sum' },
      examinees: { map: EXAMINEES },
      downloads: { map: DOWNLOADS, reduce: '_stats' },
      uploads: { map: UPLOADS, reduce: '_stats' },
      flags: { map: FLAGS, reduce: '_count' },
      boxes: { map: BOXES },
    },
  };
}

/** Whether an installed design document has exactly these views (an older portal's are replaced). */
export function isCurrentPortalDesign(installed: { language?: unknown; views?: unknown } | undefined): boolean {
  if (!installed) return false;
  const wanted = portalDesignDoc();
  return installed.language === wanted.language && sortedJson(installed.views) === sortedJson(wanted.views);
}

/** JSON with object keys sorted: a server may return members in another order. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Installs (or updates) `_design/portal` in a hall database, for the institution's CLI
 * (install-design, add-hall); the portal does the same itself when an admin opens it.
 */
export async function installPortalDesign(db: PouchDB.Database): Promise<'created' | 'updated' | 'unchanged'> {
  const installed = (await db.get(PORTAL_DESIGN_DOC_ID).catch((err: { status?: number }) => {
    if (err.status === 404) return undefined;
    throw err;
  })) as (PouchDB.Doc & { language?: unknown; views?: unknown }) | undefined;
  if (isCurrentPortalDesign(installed)) return 'unchanged';
  await db.put({
    ...portalDesignDoc(),
    ...(installed?._rev ? { _rev: installed._rev } : {}),
  } as unknown as PouchDB.Doc);
  return installed ? 'updated' : 'created';
}
