/**
 * verify-log: checks the appliance's event log in both of its copies, the hall database
 * (PouchDB, current winning revisions) and the journal (`journal/journal.log`), and names the
 * first bad event of each chain. It reads only: the journal is opened read-only, and nothing is
 * written to the database.
 *
 * Checks, per chain (the events of one exam written by one appliance; see domain/events.ts):
 * - each copy on its own with verifyChain: wrong-chain, sequence-gap, hash-mismatch,
 *   prev-hash-mismatch; an `event:` document that is not an event at all is `malformed`;
 * - the database copy's revisions: the appliance writes each event once, with the revision
 *   derived from its content (`1-<hash>`, database.ts immutableRev) and new_edits:false. Any
 *   other revision (e.g. `2-…` after a get/put) or a conflicting revision is `revision-mismatch`:
 *   the document was written to after it was stored, even if its hashes were recomputed;
 * - the copies against each other: `missing-in-database`, `missing-in-journal`,
 *   `differs-from-journal` (same id, other content); two journal records holding different
 *   versions of one event are `duplicate-in-journal`.
 * The journal itself: a damaged record followed by others fails the check (the appliance would
 * refuse to start); a torn last record (never acknowledged) is only noted.
 * The blobs: every blob the journal's events name (answer files, file answers, answers kept at
 * time-up, verification photos, snapshots) must be in `blobs/` with the size its event recorded
 * and its SHA-256 (store/blob-audit.ts); each missing or damaged one is named with its events.
 *
 * The first bad event of a chain is its finding with the lowest seq; at equal seq a missing
 * event comes first, then a break of the chain, then a revision or duplicate, then a difference
 * between the copies. A finding present in both copies alike is reported once, as `both`.
 *
 * Limitation: a hash chain cannot show that its LAST events were removed (what is left still
 * verifies). Comparing the two copies finds such a removal from one copy; a removal from both
 * needs a third copy (the institution's database) to compare the head seq and hash with.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { examDocId } from '../../domain/exam-format.js';
import { immutableRev, type HallDb } from './store/database.js';
import type { JournalDoc } from './store/journal.js';
import { readJournal, type DamagedRecord } from './store/journal-reader.js';
import { auditBlobs, blobFindingLine, type BlobAudit } from './store/blob-audit.js';
import {
  canonical,
  chainReport,
  finding,
  toCopyEvent,
  type ChainCopies,
  type ChainReport,
  type Content,
  type CopySummary,
  type EventFinding,
} from './verify-log-chains.js';

export interface VerifyLogReport {
  /** True when every chain verifies, the journal has no damaged record and every blob is intact. */
  ok: boolean;
  examId?: string;
  database: { path: string; events: number };
  journal: {
    path: string;
    exists: boolean;
    bytes: number;
    records: number;
    events: number;
    tornBytes: number;
    damaged: DamagedRecord[];
  };
  chains: ChainReport[];
  /** The blobs the journal's events name; absent when no blob folder was given. */
  blobs?: BlobAudit;
  notes: string[];
}

export interface VerifyLogOptions {
  /** Only the chains of this exam. */
  examId?: string;
}

/** The data folder cannot be checked (missing, not an appliance's, unknown exam). */
export class VerifyLogSetupError extends Error {}
/** The database is locked by a running appliance. */
export class DataFolderInUseError extends VerifyLogSetupError {}

export const TAIL_LIMITATION_NOTE =
  'A hash chain cannot show that its last events were removed; the head seq and hash of the database ' +
  'and the journal were compared, which finds such a removal from one copy, not from both ' +
  '(compare the heads with the institution’s copy for that).';

const PAGE_SIZE = 2_000;

/** Events are missing from the database, all after its head: what a crash before indexing leaves. */
function missingOnlyAtDatabaseTail(chain: ChainReport): boolean {
  const missing = chain.findings.filter((f) => f.reason === 'missing-in-database');
  return missing.length > 0 && missing.every((f) => f.seq > (chain.database.head?.seq ?? 0));
}

/** Every `event:` document of the database (winning revisions, with their conflicts). */
async function databaseEventDocs(db: HallDb, prefix: string): Promise<PouchDB.Doc[]> {
  const out: PouchDB.Doc[] = [];
  let startkey = prefix;
  let skip = 0;
  for (;;) {
    // `conflicts` is a real allDocs option that the local PouchDB typings leave out.
    const options: PouchDB.AllDocsOptions & { conflicts: boolean } = {
      startkey,
      endkey: `${prefix}\ufff0`,
      include_docs: true,
      conflicts: true,
      limit: PAGE_SIZE,
      skip,
    };
    const page = await db.allDocs(options);
    for (const row of page.rows) if (row.doc) out.push(row.doc);
    const last = page.rows[page.rows.length - 1];
    if (page.rows.length < PAGE_SIZE || !last) return out;
    startkey = last.id;
    skip = 1;
  }
}

/**
 * Verifies the event log given an open database and the journal folder (so that a running
 * appliance can reuse it with its own database handle).
 */
export async function verifyEventLog(
  sources: { db: HallDb; dbPath: string; journalDir: string; blobsDir?: string },
  options: VerifyLogOptions = {},
): Promise<VerifyLogReport> {
  const prefix = options.examId === undefined ? 'event:' : `event:${options.examId}:`;
  const chains = new Map<string, ChainCopies>();
  const chainOf = ([examId, applianceId]: [string, string]): ChainCopies => {
    const key = `${examId}\u0000${applianceId}`;
    let chain = chains.get(key);
    if (!chain) {
      chain = { examId, applianceId, database: new Map(), journal: new Map(), findings: [] };
      chains.set(key, chain);
    }
    return chain;
  };

  const dbDocs = await databaseEventDocs(sources.db, prefix);
  for (const doc of dbDocs) {
    const { _rev: rev, _conflicts: conflicts, _id: id, ...rest } = doc;
    // PouchDB hands `_id` back last; the content revision was taken with `_id` first.
    const content: Content = { _id: id, ...rest };
    const { chain, copy } = toCopyEvent(content);
    const c = chainOf(chain);
    c.database.set(id, copy);
    const expected = immutableRev(content);
    const problems: string[] = [];
    if (rev !== expected)
      problems.push(
        `revision ${String(rev)}, expected ${expected}` +
          (typeof rev === 'string' && !rev.startsWith('1-') ? ' (it was written to after it was stored)' : ''),
      );
    if (Array.isArray(conflicts) && conflicts.length > 0)
      problems.push(`conflicting revisions ${conflicts.map(String).join(', ')}`);
    if (problems.length > 0)
      c.findings.push(
        finding(
          { seq: copy.position, id, reason: 'revision-mismatch', copy: 'database', detail: problems.join('; ') },
          copy,
        ),
      );
  }

  const journal = await readJournal(sources.journalDir);
  let journalEvents = 0;
  for (const record of journal.records) {
    for (const doc of record.docs) {
      if (!doc._id.startsWith(prefix)) continue;
      journalEvents++;
      const { chain, copy } = toCopyEvent(doc as JournalDoc as Content, record.line);
      const c = chainOf(chain);
      const earlier = c.journal.get(doc._id);
      if (!earlier) {
        c.journal.set(doc._id, copy);
      } else if (canonical(earlier.content) !== canonical(copy.content)) {
        c.findings.push(
          finding(
            {
              seq: copy.position,
              id: doc._id,
              reason: 'duplicate-in-journal',
              copy: 'journal',
              detail: `journal lines ${earlier.line ?? '?'} and ${record.line} hold different versions`,
            },
            earlier,
          ),
        );
      }
    }
  }

  if (options.examId !== undefined && chains.size === 0) {
    try {
      await sources.db.get(examDocId(options.examId));
    } catch {
      throw new VerifyLogSetupError(`there is no exam "${options.examId}" in this data folder`);
    }
  }

  const reports = [...chains.values()]
    .sort((a, b) => (a.examId + '\u0000' + a.applianceId < b.examId + '\u0000' + b.applianceId ? -1 : 1))
    .map(chainReport);
  const blobs =
    sources.blobsDir === undefined
      ? undefined
      : await auditBlobs(
          sources.blobsDir,
          journal.records.flatMap((r) => r.docs),
          options.examId === undefined ? {} : { examId: options.examId },
        );
  const notes = [TAIL_LIMITATION_NOTE];
  if (!journal.exists) notes.push(`There is no journal file at ${journal.filePath}.`);
  if (journal.tornBytes > 0)
    notes.push(
      `The journal ends with a torn record of ${journal.tornBytes} bytes: a write cut off by a crash or power cut, ` +
        'never acknowledged; the next start of the appliance removes it.',
    );
  if (reports.some(missingOnlyAtDatabaseTail))
    notes.push(
      'Events missing from the database only at the end of a chain can be left by a crash before they were ' +
        'indexed: start and stop the appliance once (it replays the journal) and run verify-log again.',
    );
  return {
    ok: reports.every((r) => r.ok) && journal.damaged.length === 0 && (blobs?.bad ?? 0) === 0,
    ...(options.examId === undefined ? {} : { examId: options.examId }),
    database: { path: sources.dbPath, events: dbDocs.length },
    journal: {
      path: journal.filePath,
      exists: journal.exists,
      bytes: journal.bytes,
      records: journal.records.length,
      events: journalEvents,
      tornBytes: journal.tornBytes,
      damaged: journal.damaged,
    },
    chains: reports,
    ...(blobs === undefined ? {} : { blobs }),
    notes,
  };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * Verifies the event log of the data folder of a stopped appliance: opens its database (never
 * creating one) and reads its journal read-only.
 * Not for use inside a running appliance (closing a second handle on the same LevelDB folder in
 * one process would close the appliance's too): there, flush the index and call verifyEventLog
 * with the store's own database.
 * @throws DataFolderInUseError while an appliance runs on the folder; VerifyLogSetupError when
 *   the folder holds no appliance database or --exam names no exam.
 */
export async function verifyLog(dataDir: string, options: VerifyLogOptions = {}): Promise<VerifyLogReport> {
  const dbPath = path.join(dataDir, 'db', 'hall');
  if (!(await exists(dataDir))) throw new VerifyLogSetupError(`there is no data folder at ${dataDir}`);
  // LevelDB keeps a CURRENT file; opening a folder without one would create an empty database.
  if (!(await exists(path.join(dbPath, 'CURRENT'))))
    throw new VerifyLogSetupError(`${dataDir} holds no appliance database (db/hall): is PROCTOR_DATA_DIR right?`);
  const db = new PouchDB(dbPath);
  try {
    await db.info();
  } catch (err) {
    await db.close().catch(() => undefined);
    if (/lock/i.test(String(err))) throw new DataFolderInUseError(`the data folder ${dataDir} is in use`);
    throw err;
  }
  try {
    return await verifyEventLog(
      { db, dbPath, journalDir: path.join(dataDir, 'journal'), blobsDir: path.join(dataDir, 'blobs') },
      options,
    );
  } finally {
    await db.close();
  }
}

// ---- Human-readable form ----

const copyName = (copy: EventFinding['copy']) => (copy === 'both' ? 'both copies' : `the ${copy}`);
const headText = (s: CopySummary) => (s.head ? `head seq ${s.head.seq} hash ${s.head.hash}` : 'no events');

function findingLine(f: EventFinding): string {
  return `seq ${f.seq} ${f.id}${f.kind ? ` (${f.kind})` : ''}: ${f.reason} in ${copyName(f.copy)}: ${f.detail}`;
}

/** The report as lines for a terminal. */
export function formatVerifyLogReport(report: VerifyLogReport): string {
  const lines: string[] = [];
  const j = report.journal;
  lines.push(`Event log${report.examId === undefined ? '' : ` of exam ${report.examId}`}`);
  lines.push(`  database ${report.database.path}: ${report.database.events} events`);
  lines.push(
    j.exists ? `  journal  ${j.path}: ${j.records} records, ${j.events} events` : `  journal  ${j.path}: missing`,
  );
  if (report.chains.length === 0) lines.push('No events yet.');
  for (const c of report.chains) {
    const name = `${c.examId} / ${c.applianceId}`;
    const heads = c.headsAgree
      ? `${headText(c.database)} in both copies`
      : `${headText(c.database)} in the database, ${headText(c.journal)} in the journal`;
    if (c.ok) {
      lines.push(`OK   ${name}: ${c.database.events} events, ${heads}`);
      continue;
    }
    lines.push(`BAD  ${name}: first bad event: ${c.firstBad ? findingLine(c.firstBad) : '?'}`);
    lines.push(`     database ${c.database.events} events, journal ${c.journal.events} events; ${heads}`);
    const more = c.findings.slice(1);
    if (more.length > 0) lines.push('     further findings:');
    for (const f of more) lines.push(`       ${findingLine(f)}`);
    if (c.findingsOmitted > 0) lines.push(`       … and ${c.findingsOmitted} more`);
  }
  for (const d of j.damaged)
    lines.push(
      `BAD  journal line ${d.line} (byte ${d.offset}, ${d.bytes} bytes) is damaged (${d.problem}) and followed by ` +
        'more records: the appliance would refuse to start',
    );
  const b = report.blobs;
  if (b) {
    lines.push(
      b.bad === 0
        ? `OK   blobs ${b.path}: ${b.checked} named by events, all there with their size and SHA-256`
        : `BAD  blobs ${b.path}: ${b.bad} of ${b.checked} named by events missing or damaged`,
    );
    for (const f of b.findings) lines.push(`     ${blobFindingLine(f)}`);
    if (b.bad > b.findings.length) lines.push(`     … and ${b.bad - b.findings.length} more`);
  }
  const bad = report.chains.filter((c) => !c.ok).length;
  const blobsBad = b && b.bad > 0 ? `, ${b.bad} blob${b.bad === 1 ? '' : 's'} missing or damaged` : '';
  const plural = report.chains.length === 1 ? '' : 's';
  lines.push(
    report.ok
      ? `Result: OK, ${report.chains.length} chain${plural} verified in both copies.`
      : `Result: FAILED, ${bad} of ${report.chains.length} chain${plural} bad` +
          (j.damaged.length > 0
            ? `, ${j.damaged.length} damaged journal record${j.damaged.length === 1 ? '' : 's'}`
            : '') +
          blobsBad +
          '.',
  );
  for (const n of report.notes) lines.push(`Note: ${n}`);
  return `${lines.join('\n')}\n`;
}
