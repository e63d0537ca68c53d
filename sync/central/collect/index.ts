/**
 * collect: every submission and every file of a hall (or of one exam) out of its central database
 * into a folder, each reassembled from its chunks and checked against its SHA-256.
 *
 * Output (docs/sync.md, "Institution CLI"; names per names.ts, which never leave the folder):
 *   <out>/submissions.csv      one row per submission version: which counts and why (counting.ts)
 *   <out>/files.csv            one row per uploaded file, verification photo, proctoring snapshot
 *                              and answers kept at time-up
 *   <out>/collect.json         what was collected and every problem found; `complete` is true only
 *                              when nothing is missing, mismatched or in conflict
 *   <out>/<exam>/<student>.answers.json                 the version that counts (a copy)
 *   <out>/<exam>/<student>/submissions/<box>-<n>.answers.json          every version
 *   <out>/<exam>/<student>/uploads/<box>-<seq>-<question>-<name>       file answers
 *   <out>/<exam>/<student>/photos/<box>-<seq>-<face|id-card>.<jpg|png|webp|bin>
 *   <out>/<exam>/<student>/snapshots/<box>-<seq>-<camera|screen>.<jpg|...>
 *   <out>/<exam>/<student>/time-up/<box>-<seq>.answers-at-time-up.json
 * where <box> is the accepting appliance's id and <seq> the number of the event naming the file in
 * that box's chain. Everything is written into a hidden folder beside <out> and renamed to <out>
 * at the end, so an interrupted collect leaves no folder that looks like a result; <out> must be
 * new or empty, so two collects' files are never mixed.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { checkCentralDb } from '../../central-link.js';
import { exportBlob, type BlobOutcome } from './blobs.js';
import { decideCounting, isoTime } from './counting.js';
import { filePart, FolderNames, idSuffix } from './names.js';
import { eventPages, FILE_EVENT_KINDS, scanHall, type EventRow, type HallScan, type SubmissionRow } from './scan.js';

export const SUBMISSIONS_CSV = 'submissions.csv';
export const FILES_CSV = 'files.csv';
export const SUMMARY_JSON = 'collect.json';

/** collect refused before writing anything (unknown exam, unusable output folder). */
export class CollectRefusal extends Error {}

export interface CollectReport {
  /** Submission versions listed in submissions.csv. */
  submissions: number;
  /** Of those, answer files written and verified. */
  written: number;
  /** Submissions whose answer file is not (completely) there yet. */
  missing: string[];
  /** Submissions whose reassembled answer file does not have the SHA-256 the submission names. */
  mismatched: string[];
  csvPath: string;
  /** Files listed in files.csv, and of those written and verified. */
  files: number;
  filesWritten: number;
  /** Files not (completely) there, or not matching their SHA-256: "<event id>: <what>". */
  missingFiles: string[];
  mismatchedFiles: string[];
  filesCsvPath: string;
  /** Documents (other than blob chunks) with conflicting revisions: "<id> (<revisions>)". */
  conflicts: string[];
  outDir: string;
}

export interface CollectOptions {
  /** The database's name in messages (default: the last part of its name). */
  label?: string;
  now?: () => number;
}

const SUBMISSION_COLUMNS = [
  'examId',
  'studentId',
  'n',
  'counts',
  'removed',
  'reason',
  'submissionId',
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
  'fileDetail',
  'file',
  'score',
  'maxScore',
  'answered',
  'total',
] as const;

const FILE_COLUMNS = [
  'examId',
  'studentId',
  'kind',
  'questionId',
  'name',
  'detail',
  'submissionId',
  'at',
  'applianceId',
  'eventId',
  'size',
  'sha256',
  'status',
  'statusDetail',
  'file',
] as const;

/**
 * A CSV cell. Text that a spreadsheet would run as a formula (an examinee's file name such as
 * `=HYPERLINK(...)`) starts with a `'`, as OWASP advises for CSV exports.
 */
const csvCell = (v: unknown) => {
  let s = v === undefined || v === null ? '' : String(v);
  if (typeof v === 'string' && /^(?:[=+@\t\r]|-[^0-9])/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvLine = <C extends string>(columns: readonly C[], cells: Partial<Record<C, unknown>>) =>
  `${columns.map((c) => csvCell(cells[c])).join(',')}\n`;

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Output names: exam folders, each exam's examinee folders, appliance ids in file names. */
interface Layout {
  exams: FolderNames;
  examinees: (examId: string) => FolderNames;
  appliances: FolderNames;
}

function planLayout(scan: HallScan): Layout {
  const exams = FolderNames.plan([...scan.examinees.keys()], { reserved: [SUBMISSIONS_CSV, FILES_CSV, SUMMARY_JSON] });
  const perExam = new Map<string, FolderNames>();
  const examinees = (examId: string) => {
    let names = perExam.get(examId);
    if (!names) {
      names = FolderNames.plan(scan.examinees.get(examId) ?? [], { forms: (n) => [n, `${n}.answers.json`] });
      perExam.set(examId, names);
    }
    return names;
  };
  return { exams, examinees, appliances: FolderNames.plan(scan.appliances, { prefixSeparator: '-' }) };
}

/**
 * Collects every submission and file of the hall (or of `examId`) into `outDir` (new or empty).
 * Throws CollectRefusal, before writing anything, for an unknown exam or an unusable folder, and
 * the server's error (with its `status`) when the database cannot be read.
 */
export async function collectSubmissions(
  db: PouchDB.Database,
  outDir: string,
  examId?: string,
  options: CollectOptions = {},
): Promise<CollectReport> {
  const label = options.label ?? decodeURIComponent(db.name.split('/').pop() ?? db.name);
  await checkCentralDb(db);
  if (examId !== undefined) await checkExam(db, examId, label);
  const out = path.resolve(outDir);
  const staging = await prepareOut(out);
  try {
    const scan = await scanHall(db, examId);
    const layout = planLayout(scan);
    const report: CollectReport = {
      submissions: scan.submissions.length,
      written: 0,
      missing: [],
      mismatched: [],
      csvPath: path.join(out, SUBMISSIONS_CSV),
      files: 0,
      filesWritten: 0,
      missingFiles: [],
      mismatchedFiles: [],
      filesCsvPath: path.join(out, FILES_CSV),
      conflicts: scan.conflicts.map((c) => `${c.id} (${c.revs.length + 1} revisions)`),
      outDir: out,
    };
    await exportSubmissions(db, staging, scan, layout, report);
    await exportFiles(db, staging, examId, layout, report);
    const complete =
      report.conflicts.length +
        report.missing.length +
        report.mismatched.length +
        report.missingFiles.length +
        report.mismatchedFiles.length ===
      0;
    const summary = {
      format: 'collect/v1',
      database: label,
      exam: examId ?? null,
      collectedAt: new Date((options.now ?? Date.now)()).toISOString(),
      complete,
      submissions: { listed: report.submissions, written: report.written },
      files: { listed: report.files, written: report.filesWritten },
      conflicts: report.conflicts,
      missing: [...report.missing, ...report.missingFiles],
      mismatched: [...report.mismatched, ...report.mismatchedFiles],
    };
    await writeFile(path.join(staging, SUMMARY_JSON), `${JSON.stringify(summary, null, 2)}\n`, { flag: 'wx' });
    // An empty <out> is replaced by the finished folder in one step (rename(2)).
    await rename(staging, out);
    return report;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function checkExam(db: PouchDB.Database, examId: string, label: string): Promise<void> {
  const rows = async (prefix: string, limit: number) =>
    (await db.allDocs({ startkey: prefix, endkey: `${prefix}\ufff0`, limit })).rows.map((r) => r.id);
  const [exam] = await rows(`exam:${examId}`, 1);
  if (exam === `exam:${examId}`) return;
  if ((await rows(`submission:${examId}:`, 1)).length + (await rows(`event:${examId}:`, 1)).length > 0) return;
  const known = (await rows('exam:', 21)).map((id) => id.slice('exam:'.length));
  throw new CollectRefusal(
    `${label} has no exam ${JSON.stringify(examId)} ` +
      (known.length === 0
        ? '(it has no exams)'
        : `(its exams: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''})`),
  );
}

const FS_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'a read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOSPC: 'the disk is full',
};
const fsProblem = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return FS_PROBLEMS[code] ? `${FS_PROBLEMS[code]}, ${code}` : code;
};

/** Checks the output folder and makes the hidden folder beside it that collect writes into. */
async function prepareOut(out: string): Promise<string> {
  const stat = await lstat(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new CollectRefusal(`cannot use ${out} as the output folder (${fsProblem(err)})`);
  });
  if (stat?.isSymbolicLink()) throw new CollectRefusal(`${out} is a symbolic link: give the folder itself`);
  if (stat && !stat.isDirectory())
    throw new CollectRefusal(`${out} is a file, not a folder: give a new or empty folder`);
  if (stat) {
    const entries = await readdir(out).catch((err: unknown) => {
      throw new CollectRefusal(`cannot read ${out} (${fsProblem(err)})`);
    });
    if (entries.length > 0)
      throw new CollectRefusal(
        `${out} is not empty: collect writes into a new or empty folder, so that two collects' files are never mixed`,
      );
  }
  const parent = path.dirname(out);
  try {
    await mkdir(parent, { recursive: true });
    // Not mkdtemp: its 0700 would become the result's; this gets the umask's mode, or <out>'s.
    const staging = path.join(parent, `.${path.basename(out)}.collecting-${randomBytes(6).toString('hex')}`);
    await mkdir(staging);
    if (stat) await chmod(staging, stat.mode & 0o7777);
    return staging;
  } catch (err) {
    throw new CollectRefusal(`cannot write in ${parent} (${fsProblem(err)})`);
  }
}

/** The absolute path of `rel` inside `root`; names.ts makes leaving it impossible, this checks. */
function inside(root: string, rel: string): string {
  const abs = path.resolve(root, rel);
  if (!abs.startsWith(root + path.sep)) throw new Error(`refusing to write ${rel}: outside the output folder`);
  return abs;
}

const exists = (file: string) =>
  lstat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );

async function exportSubmissions(
  db: PouchDB.Database,
  root: string,
  scan: HallScan,
  layout: Layout,
  report: CollectReport,
): Promise<void> {
  const byExaminee = new Map<string, SubmissionRow[]>();
  for (const s of scan.submissions) {
    const key = `${s.examId}\u0000${s.studentId}`;
    byExaminee.set(key, [...(byExaminee.get(key) ?? []), s]);
  }
  const csv = await open(path.join(root, SUBMISSIONS_CSV), 'wx');
  try {
    await csv.write(`${SUBMISSION_COLUMNS.join(',')}\n`);
    for (const key of [...byExaminee.keys()].sort()) {
      const versions = byExaminee
        .get(key)!
        .sort((a, b) => cmp(a.applianceId, b.applianceId) || a.n - b.n || cmp(a._id, b._id));
      await exportExaminee(db, root, versions, scan, layout, report, csv);
    }
  } finally {
    await csv.close();
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function exportExaminee(
  db: PouchDB.Database,
  root: string,
  versions: SubmissionRow[],
  scan: HallScan,
  layout: Layout,
  report: CollectReport,
  csv: FileHandle,
): Promise<void> {
  const first = versions[0]!;
  const examDir = layout.exams.nameOf(first.examId);
  const studentDir = layout.examinees(first.examId).nameOf(first.studentId);
  const invalid = new Map(versions.flatMap((v) => (v.problem === undefined ? [] : [[v._id, v.problem] as const])));
  const verdicts = decideCounting(
    versions.map((v) => ({ id: v._id, applianceId: v.applianceId, n: v.n, receivedAt: v.receivedAt })),
    { removals: scan.removals, invalid, clockNotes: scan.clockNotes },
  );
  // <box>-<n> names a version; two versions with the same (a legacy id and a C1 id) get suffixes.
  const nameOf = (v: SubmissionRow) => `${layout.appliances.nameOf(v.applianceId)}-${filePart(String(v.n), 20)}`;
  const seen = new Map<string, number>();
  for (const v of versions) seen.set(nameOf(v).toLowerCase(), (seen.get(nameOf(v).toLowerCase()) ?? 0) + 1);
  const dir = path.posix.join(examDir, studentDir, 'submissions');
  await mkdir(inside(root, dir), { recursive: true });
  for (const v of versions) {
    const base = nameOf(v);
    let rel = path.posix.join(
      dir,
      `${base}${(seen.get(base.toLowerCase()) ?? 0) > 1 ? idSuffix(v._id) : ''}.answers.json`,
    );
    if (await exists(inside(root, rel))) rel = path.posix.join(dir, `${base}${idSuffix(v._id)}.answers.json`);
    const outcome = await exportBlob(db, v.sha256, v.size, inside(root, rel));
    const verdict = verdicts.get(v._id) ?? { counts: false, reason: '' };
    if (outcome.status === 'ok') {
      report.written++;
      if (verdict.counts)
        await copyFile(
          inside(root, rel),
          inside(root, path.posix.join(examDir, `${studentDir}.answers.json`)),
          constants.COPYFILE_EXCL,
        );
    } else (outcome.status === 'missing' ? report.missing : report.mismatched).push(v._id);
    const conflict =
      v.conflicts.length > 0 ? `CONFLICTING REVISIONS (${v.conflicts.length + 1}; see collect.json): ` : '';
    const decision = scan.decisions.get(v._id)?.choice;
    await csv.write(
      csvLine(SUBMISSION_COLUMNS, {
        examId: v.examId,
        studentId: v.studentId,
        n: Number.isFinite(v.n) ? v.n : '',
        counts: verdict.counts,
        removed: scan.removals.has(v._id),
        reason: conflict + verdict.reason,
        submissionId: v._id,
        applianceId: v.applianceId,
        submissionType: v.submissionType,
        receivedAt: Number.isFinite(v.receivedAt) ? new Date(v.receivedAt).toISOString() : '',
        late: v.late,
        timing: v.timing ?? (v.late ? 'late' : 'on-time'),
        timeUpDifferingAnswers: v.differingQuestions?.length,
        timeUpDecision: decision,
        size: Number.isFinite(v.size) ? v.size : '',
        sha256: v.sha256,
        fileStatus: outcome.status,
        fileDetail: outcome.detail,
        file: outcome.status === 'ok' ? rel : '',
        score: v.score?.score,
        maxScore: v.score?.maxScore,
        answered: v.score?.answered,
        total: v.score?.total,
      }),
    );
  }
}

/** The folder, file name (before any extension) and details of the file an event names. */
function fileOfEvent(
  e: EventRow,
  kind: (typeof FILE_EVENT_KINDS)[keyof typeof FILE_EVENT_KINDS],
  prefix: string,
): { folder: string; base: string; ext: string | 'image'; detail: string } {
  const data = e.data ?? {};
  switch (kind) {
    case 'upload':
      return {
        folder: 'uploads',
        base: `${prefix}-${filePart(str(data.questionId), 40)}-${filePart(str(data.name), 100)}`,
        ext: '',
        detail: '',
      };
    case 'verification-photo':
      return {
        folder: 'photos',
        base: `${prefix}-${filePart(str(data.kind), 20)}`,
        ext: 'image',
        detail: str(data.kind),
      };
    case 'snapshot':
      return {
        folder: 'snapshots',
        base: `${prefix}-${filePart(str(data.source), 20)}`,
        ext: 'image',
        detail: str(data.source),
      };
    case 'time-up-answers': {
      const differing = Array.isArray(data.differingQuestions) ? data.differingQuestions.map(String) : [];
      return {
        folder: 'time-up',
        base: `${prefix}.answers-at-time-up`,
        ext: '.json',
        detail: `the draft held at time-up; differs from the submitted file in ${differing.length} question(s)${
          differing.length > 0 ? `: ${differing.join(' ')}` : ''
        }`,
      };
    }
  }
}

/** The image type from a file's first bytes, never from what the examinee's device said. */
async function imageExtension(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return '.jpg';
    if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return '.png';
    if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return '.webp';
    return '.bin';
  } finally {
    await fh.close();
  }
}

async function exportFiles(
  db: PouchDB.Database,
  root: string,
  examId: string | undefined,
  layout: Layout,
  report: CollectReport,
): Promise<void> {
  const csv = await open(path.join(root, FILES_CSV), 'wx');
  try {
    await csv.write(`${FILE_COLUMNS.join(',')}\n`);
    for await (const page of eventPages(db, examId)) {
      for (const e of page) {
        const kind = typeof e.kind === 'string' ? FILE_EVENT_KINDS[e.kind as keyof typeof FILE_EVENT_KINDS] : undefined;
        if (kind === undefined || (examId !== undefined && e.examId !== examId)) continue;
        await csv.write(await exportEventFile(db, root, e, kind, layout, report));
      }
    }
  } finally {
    await csv.close();
  }
}

async function exportEventFile(
  db: PouchDB.Database,
  root: string,
  e: EventRow,
  kind: (typeof FILE_EVENT_KINDS)[keyof typeof FILE_EVENT_KINDS],
  layout: Layout,
  report: CollectReport,
): Promise<string> {
  const examId = str(e.examId);
  const studentId = str(e.studentId);
  const data = e.data ?? {};
  const sha256 = str(data.sha256);
  const size = typeof data.size === 'number' ? data.size : Number.NaN;
  const prefix = `${layout.appliances.nameOf(str(e.applianceId))}-${filePart(String(e.seq ?? ''), 20)}`;
  const { folder, base, ext, detail } = fileOfEvent(e, kind, prefix);
  const dir = path.posix.join(layout.exams.nameOf(examId), layout.examinees(examId).nameOf(studentId), folder);
  await mkdir(inside(root, dir), { recursive: true });
  // A name is unique by <box>-<seq>; a duplicated seq (a damaged chain) gets the event id's suffix.
  const unused = async (extension: string) => {
    const plain = path.posix.join(dir, `${base}${extension}`);
    return (await exists(inside(root, plain))) ? path.posix.join(dir, `${base}${idSuffix(e._id)}${extension}`) : plain;
  };
  let rel = await unused(ext === 'image' ? '.part' : ext);
  const outcome: BlobOutcome = await exportBlob(db, sha256, size, inside(root, rel));
  report.files++;
  if (outcome.status === 'ok') {
    if (ext === 'image') {
      const written = rel;
      rel = await unused(await imageExtension(inside(root, written)));
      await rename(inside(root, written), inside(root, rel));
    }
    report.filesWritten++;
  } else {
    const what = `${e._id}: ${kind} of ${studentId} in ${examId}${detail === '' || kind === 'time-up-answers' ? '' : ` (${detail})`}${
      kind === 'upload' ? ` (${str(data.questionId)} ${JSON.stringify(str(data.name))})` : ''
    }: ${outcome.detail}`;
    (outcome.status === 'missing' ? report.missingFiles : report.mismatchedFiles).push(what);
  }
  return csvLine(FILE_COLUMNS, {
    examId,
    studentId,
    kind,
    questionId: str(data.questionId),
    name: str(data.name),
    detail,
    submissionId: str(data.submissionId),
    at: typeof e.at === 'number' ? isoTime(e.at) : '',
    applianceId: str(e.applianceId),
    eventId: e._id,
    size: Number.isFinite(size) ? size : '',
    sha256,
    status: outcome.status,
    statusDetail: outcome.detail,
    file: outcome.status === 'ok' ? rel : '',
  });
}
