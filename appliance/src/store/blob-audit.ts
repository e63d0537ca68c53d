/**
 * Checks every blob the appliance's own events name (sync/blob-chunks.ts blobOfEvent: accepted
 * submissions, file uploads, answers kept at time-up, verification photos, proctoring snapshots):
 * that its file under `blobs/` exists, has the size the event recorded and the SHA-256 it is named
 * by. The events are read from the journal, which holds every event this appliance wrote and is
 * never rewritten, so the check needs no database: verify-log runs it on a stopped appliance's
 * folder, and the doctor beside a running one (whose LevelDB it could not open). Other
 * appliances' events are not checked: their blobs live on their own boxes.
 */
import { blobOfEvent } from '../../../sync/blob-chunks.js';
import { blobPath, inspectBlob } from './blob-check.js';
import type { JournalDoc } from './journal.js';

/** An event that names a blob. */
export interface BlobReference {
  eventId: string;
  examId: string;
  kind: string;
  seq: number;
  /** The examinee the event is about, when it is about one. */
  studentId?: string;
}

/** A blob that is not as its events say. */
export interface BlobFinding {
  sha256: string;
  /** The size the first event naming it recorded (-1: none). */
  size: number;
  problem: 'missing' | 'damaged';
  detail: string;
  path: string;
  /** Every event that names it, in journal order. */
  events: BlobReference[];
}

export interface BlobAudit {
  /** The blob folder. */
  path: string;
  /** Distinct blobs named, and how many of them are intact. */
  checked: number;
  intact: number;
  /** Blobs missing or damaged (all of them; `findings` lists at most MAX_BLOB_FINDINGS). */
  bad: number;
  findings: BlobFinding[];
}

/** Most findings listed in full (the count is always exact). */
export const MAX_BLOB_FINDINGS = 200;

/**
 * Checks the blobs named by `docs` (journal documents in order; only events count), optionally
 * of one exam, one file at a time.
 */
export async function auditBlobs(
  blobsDir: string,
  docs: Iterable<JournalDoc>,
  options: { examId?: string } = {},
): Promise<BlobAudit> {
  const named = new Map<string, { size: number; events: BlobReference[] }>();
  for (const doc of docs) {
    const blob = blobOfEvent(doc);
    if (!blob) continue;
    const examId = typeof doc.examId === 'string' ? doc.examId : '?';
    if (options.examId !== undefined && examId !== options.examId) continue;
    const ref: BlobReference = {
      eventId: doc._id,
      examId,
      kind: typeof doc.kind === 'string' ? doc.kind : '?',
      seq: typeof doc.seq === 'number' ? doc.seq : -1,
      ...(typeof doc.studentId === 'string' ? { studentId: doc.studentId } : {}),
    };
    const entry = named.get(blob.sha256);
    if (entry) {
      // An event without a size (or the first one) leaves it to the next that has one.
      if (entry.size < 0) entry.size = blob.size;
      if (!entry.events.some((e) => e.eventId === ref.eventId)) entry.events.push(ref);
    } else named.set(blob.sha256, { size: blob.size, events: [ref] });
  }
  const findings: BlobFinding[] = [];
  let intact = 0;
  let bad = 0;
  for (const [sha256, { size, events }] of named) {
    const file = blobPath(blobsDir, sha256);
    const condition = await inspectBlob(file, sha256, size);
    if (condition.state === 'intact') {
      intact++;
      continue;
    }
    bad++;
    if (findings.length >= MAX_BLOB_FINDINGS) continue;
    findings.push({
      sha256,
      size,
      problem: condition.state,
      detail: condition.state === 'missing' ? 'no file' : condition.detail,
      path: file,
      events,
    });
  }
  return { path: blobsDir, checked: named.size, intact, bad, findings };
}

/** One finding as a line for a terminal: which blob, what is wrong, which examinee and event. */
export function blobFindingLine(f: BlobFinding): string {
  const named = f.events
    .map((e) => `${e.kind}${e.studentId === undefined ? '' : ` of ${e.studentId}`} (${e.eventId})`)
    .join(', ');
  const size = f.size >= 0 ? `${f.size} bytes` : 'size not recorded';
  return `blob ${f.sha256} (${size}) is ${f.problem}: ${f.detail}; named by ${named}`;
}
