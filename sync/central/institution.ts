/**
 * The institution's side: publish an exam and its roster into a hall's central database, install
 * the hall's design document and security object, and collect the results. The CLI (sync/cli.ts)
 * reads files and flags; this module only talks to the database.
 */
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExamDoc, ExamineeDoc } from '../../domain/exam-format.js';
import { reassembleBlob } from '../blob-chunks.js';
import { authHeaders, type CentralLink, hallDbName } from '../central-link.js';
import { hallDesignDoc } from './validate-doc-update.js';

/** Documents in pages, so that a hall of any size is read in bounded memory. */
async function* docsWithPrefix<T>(db: PouchDB.Database, prefix: string, pageSize = 500): AsyncGenerator<T[]> {
  let startkey = prefix;
  let skip = 0;
  for (;;) {
    const page = await db.allDocs({ startkey, endkey: `${prefix}\ufff0`, include_docs: true, limit: pageSize, skip });
    const docs = page.rows.flatMap((r) => (r.doc ? [r.doc as unknown as T] : []));
    if (docs.length > 0) yield docs;
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < pageSize || !last) return;
    startkey = last.id;
    skip = 1;
  }
}

/** Writes documents, replacing earlier versions (institution-owned documents are mutable). */
async function upsert(
  db: PouchDB.Database,
  docs: PouchDB.Doc[],
): Promise<{ created: number; updated: number; unchanged: number }> {
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (let i = 0; i < docs.length; i += 500) {
    const batch = docs.slice(i, i + 500);
    const existing = await db.allDocs({ keys: batch.map((d) => d._id), include_docs: true });
    const byId = new Map(existing.rows.flatMap((r) => (r.doc ? [[r.id, r.doc] as const] : [])));
    const writes: PouchDB.Doc[] = [];
    for (const doc of batch) {
      const old = byId.get(doc._id);
      const { _rev: _ignored, ...content } = doc;
      if (old) {
        const { _rev: oldRev, ...oldContent } = old;
        if (stableJson(oldContent) === stableJson(content)) {
          counts.unchanged++;
          continue;
        }
        writes.push({ ...content, _id: doc._id, _rev: oldRev });
        counts.updated++;
      } else {
        writes.push({ ...content, _id: doc._id });
        counts.created++;
      }
    }
    if (writes.length === 0) continue;
    const results = await db.bulkDocs(writes);
    const failed = results.find((r) => 'error' in r && r.error);
    if (failed) throw new Error(`writing ${failed.id ?? '?'} failed: ${'message' in failed ? failed.message : ''}`);
  }
  return counts;
}

export interface PublishReport {
  exam: 'created' | 'updated' | 'unchanged';
  examinees: { created: number; updated: number; unchanged: number };
  /** Examinees on the central roster that the new roster no longer has (kept: see docs/sync.md). */
  notInRoster: string[];
}

/** Publishes an exam and its roster (documents as the appliance's import makes them). */
export async function publishExam(
  db: PouchDB.Database,
  exam: ExamDoc,
  examinees: readonly ExamineeDoc[],
): Promise<PublishReport> {
  const examResult = await upsert(db, [exam as unknown as PouchDB.Doc]);
  const examineeResult = await upsert(db, examinees as unknown as PouchDB.Doc[]);
  const listed = new Set(examinees.map((e) => e._id));
  const notInRoster: string[] = [];
  for await (const page of docsWithPrefix<ExamineeDoc>(db, `examinee:${exam.examId}:`)) {
    for (const e of page) if (!listed.has(e._id)) notInRoster.push(e.studentId);
  }
  return {
    exam: examResult.created ? 'created' : examResult.updated ? 'updated' : 'unchanged',
    examinees: examineeResult,
    notInRoster,
  };
}

/** Installs (or updates) `_design/hall`. Returns whether it changed. */
export async function installDesign(
  db: PouchDB.Database,
  hallId: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const result = await upsert(db, [hallDesignDoc(hallId) as unknown as PouchDB.Doc]);
  return result.created ? 'created' : result.updated ? 'updated' : 'unchanged';
}

/**
 * Sets the hall database's security object: only the hall's user (and admins) may read or write
 * it. Returns false when the server has no `_security` endpoint (the test stand-in).
 */
export async function setHallSecurity(link: CentralLink, hallId: string, members: string[]): Promise<boolean> {
  const res = await fetch(`${link.baseUrl}/${hallDbName(hallId)}/_security`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...authHeaders(link) },
    body: JSON.stringify({ admins: { names: [], roles: [] }, members: { names: members, roles: [] } }),
  });
  if (res.status === 404 || res.status === 405) return false;
  if (!res.ok)
    throw Object.assign(new Error(`setting the security object: ${res.status} ${await res.text()}`), {
      status: res.status,
    });
  return true;
}

interface SubmissionRow {
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
  /** The time-up case (domain/time-up.ts); absent in submissions from before it existed. */
  timing?: string;
  differingQuestions?: string[];
  score?: { score: number; maxScore: number; answered: number; total: number };
}

export interface CollectReport {
  submissions: number;
  written: number;
  /** Submissions whose answer file is not (completely) there yet. */
  missing: string[];
  /** Submissions whose reassembled answer file does not have the SHA-256 the submission names. */
  mismatched: string[];
  csvPath: string;
}

const CSV_COLUMNS = [
  'examId',
  'studentId',
  'n',
  'current',
  'removed',
  'applianceId',
  'submissionType',
  'receivedAt',
  'late',
  'timing',
  'timeUpDifferingAnswers',
  'timeUpDecision',
  'size',
  'sha256',
  'fileStatus',
  'file',
  'score',
  'maxScore',
  'answered',
  'total',
] as const;

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Collects every submission of the hall (or of one exam) into `outDir`:
 * `<examId>/<studentId>.answers.json` for each examinee's current submission (the highest n not
 * removed by a proctor; earlier ones as `<studentId>.<n>.answers.json`), each reassembled from
 * its chunks and checked against its SHA-256, plus `submissions.csv` with one row per submission.
 */
export async function collectSubmissions(
  db: PouchDB.Database,
  outDir: string,
  examId?: string,
): Promise<CollectReport> {
  const prefix = examId === undefined ? 'submission:' : `submission:${examId}:`;
  const rows: SubmissionRow[] = [];
  for await (const page of docsWithPrefix<SubmissionRow>(db, prefix)) rows.push(...page.map(pickSubmission));
  const removed = new Set<string>();
  // A chief proctor's decision on a submission changed after time-up (the latest one counts).
  const decided = new Map<string, string>();
  for await (const page of docsWithPrefix<{ kind?: string; data?: { submissionId?: string; choice?: string } }>(
    db,
    examId === undefined ? 'event:' : `event:${examId}:`,
    2_000,
  )) {
    for (const e of page) {
      if (e.kind === 'submission-removed' && e.data?.submissionId) removed.add(e.data.submissionId);
      if (e.kind === 'time-up-decided' && e.data?.submissionId && e.data.choice)
        decided.set(e.data.submissionId, e.data.choice);
    }
  }
  const current = new Map<string, SubmissionRow>();
  for (const s of rows) {
    if (removed.has(s._id)) continue;
    const key = `${s.examId}\u0000${s.studentId}`;
    const best = current.get(key);
    if (!best || s.n > best.n) current.set(key, s);
  }
  await mkdir(outDir, { recursive: true });
  const report: CollectReport = {
    submissions: rows.length,
    written: 0,
    missing: [],
    mismatched: [],
    csvPath: path.join(outDir, 'submissions.csv'),
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const s of rows) {
    const isCurrent = current.get(`${s.examId}\u0000${s.studentId}`) === s;
    const dir = path.join(outDir, safeName(s.examId));
    await mkdir(dir, { recursive: true });
    const fileName = isCurrent
      ? `${safeName(s.studentId)}.answers.json`
      : `${safeName(s.studentId)}.${s.n}.answers.json`;
    const target = path.join(dir, fileName);
    const tmp = `${target}.part`;
    const fh = await open(tmp, 'w');
    let result;
    try {
      result = await reassembleBlob(db, s.sha256, async (bytes) => {
        await fh.write(bytes);
      });
    } finally {
      await fh.close();
    }
    let fileStatus: string;
    if (result.ok) {
      await rename(tmp, target);
      report.written++;
      fileStatus = 'ok';
    } else {
      await rm(tmp, { force: true });
      fileStatus = result.reason === 'missing-chunk' ? 'missing' : 'sha-mismatch';
      (result.reason === 'missing-chunk' ? report.missing : report.mismatched).push(s._id);
    }
    const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      examId: s.examId,
      studentId: s.studentId,
      n: s.n,
      current: isCurrent,
      removed: removed.has(s._id),
      applianceId: s.applianceId,
      submissionType: s.submissionType,
      receivedAt: new Date(s.receivedAt).toISOString(),
      late: s.late,
      timing: s.timing ?? (s.late ? 'late' : 'on-time'),
      timeUpDifferingAnswers: s.differingQuestions?.length,
      timeUpDecision: decided.get(s._id),
      size: s.size,
      sha256: s.sha256,
      fileStatus,
      file: fileStatus === 'ok' ? path.join(safeName(s.examId), fileName) : '',
      score: s.score?.score,
      maxScore: s.score?.maxScore,
      answered: s.score?.answered,
      total: s.score?.total,
    };
    lines.push(CSV_COLUMNS.map((c) => csvCell(cells[c])).join(','));
  }
  await writeFile(report.csvPath, `${lines.join('\n')}\n`);
  return report;
}

function pickSubmission(d: SubmissionRow): SubmissionRow {
  return {
    _id: d._id,
    examId: d.examId,
    studentId: d.studentId,
    n: d.n,
    applianceId: d.applianceId,
    sha256: d.sha256,
    size: d.size,
    submissionType: d.submissionType,
    receivedAt: d.receivedAt,
    late: d.late,
    ...(d.timing === undefined ? {} : { timing: d.timing }),
    ...(d.differingQuestions === undefined ? {} : { differingQuestions: d.differingQuestions }),
    ...(d.score ? { score: d.score } : {}),
  };
}

/** JSON with object keys sorted, to compare documents whatever order a server returns them in. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Ids become file names: keep letters, digits, '.', '_' and '-'. */
const safeName = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_');
