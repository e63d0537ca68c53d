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
import { canonicalJson, type Json } from '../../domain/canonical.js';
import { examDocId } from '../../domain/exam-format.js';
import { eventDocId, verifyChain, type ChainBreak, type ExamEvent } from '../../domain/events.js';
import { immutableRev, type HallDb } from './store/database.js';
import type { JournalDoc } from './store/journal.js';
import { readJournal, type DamagedRecord } from './store/journal-reader.js';

export type EventCopy = 'database' | 'journal';

export type FindingReason =
  | ChainBreak['reason']
  | 'malformed'
  | 'revision-mismatch'
  | 'duplicate-in-journal'
  | 'differs-from-journal'
  | 'missing-in-database'
  | 'missing-in-journal';

/** One thing wrong with one event. */
export interface EventFinding {
  /** The event's place in its chain (from its id; for a gap, the missing seq). */
  seq: number;
  id: string;
  /** The event's kind, when some copy holds it. */
  kind?: string;
  reason: FindingReason;
  /** The copy that is wrong (for differs-from-journal: the database's, which differs from the journal's). */
  copy: EventCopy | 'both';
  detail: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface CopySummary {
  events: number;
  /** The event with the highest seq, if any. */
  head?: ChainHead;
}

export interface ChainReport {
  examId: string;
  applianceId: string;
  ok: boolean;
  database: CopySummary;
  journal: CopySummary;
  /** Both copies end at the same seq with the same hash. */
  headsAgree: boolean;
  firstBad?: EventFinding;
  /** Every finding in chain order, at most MAX_FINDINGS. */
  findings: EventFinding[];
  findingsOmitted: number;
}

export interface VerifyLogReport {
  /** True when every chain verifies and the journal has no damaged record. */
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

export const MAX_FINDINGS = 50;

export const TAIL_LIMITATION_NOTE =
  'A hash chain cannot show that its last events were removed; the head seq and hash of the database ' +
  'and the journal were compared, which finds such a removal from one copy, not from both ' +
  '(compare the heads with the institution’s copy for that).';

const PAGE_SIZE = 2_000;
const EVENT_ID = /^event:([^:]+):([^:]+):(\d{10})$/;

/** Order of reasons at equal seq: the most telling first. */
const REASON_RANK: Record<FindingReason, number> = {
  'missing-in-database': 0,
  'missing-in-journal': 0,
  'wrong-chain': 1,
  'sequence-gap': 1,
  'hash-mismatch': 1,
  'prev-hash-mismatch': 1,
  malformed: 1,
  'revision-mismatch': 2,
  'duplicate-in-journal': 2,
  'differs-from-journal': 3,
};
const COPY_RANK: Record<EventFinding['copy'], number> = { both: 0, database: 1, journal: 2 };

type Content = Record<string, unknown> & { _id: string };

/** One event as one copy holds it. */
interface CopyEvent {
  id: string;
  /** Its place: the seq in its id, else its seq member. */
  position: number;
  content: Content;
  /** Set when the content has the members of an event. */
  event?: ExamEvent;
  /** Journal line it came from. */
  line?: number;
}

interface ChainCopies {
  examId: string;
  applianceId: string;
  database: Map<string, CopyEvent>;
  journal: Map<string, CopyEvent>;
  findings: EventFinding[];
}

const isWellFormed = (c: Content): boolean =>
  c.type === 'event' &&
  typeof c.examId === 'string' &&
  typeof c.applianceId === 'string' &&
  typeof c.kind === 'string' &&
  typeof c.hash === 'string' &&
  typeof c.prevHash === 'string' &&
  typeof c.seq === 'number' &&
  Number.isSafeInteger(c.seq) &&
  c.seq >= 1;

function toCopyEvent(content: Content, line?: number): { chain: [string, string]; copy: CopyEvent } {
  const m = EVENT_ID.exec(content._id);
  const seqMember = typeof content.seq === 'number' && Number.isSafeInteger(content.seq) ? content.seq : 0;
  const chain: [string, string] = m
    ? [m[1]!, m[2]!]
    : [
        typeof content.examId === 'string' ? content.examId : '?',
        typeof content.applianceId === 'string' ? content.applianceId : '?',
      ];
  const copy: CopyEvent = {
    id: content._id,
    position: m ? Number(m[3]) : seqMember,
    content,
    ...(isWellFormed(content) ? { event: content as unknown as ExamEvent } : {}),
    ...(line === undefined ? {} : { line }),
  };
  return { chain, copy };
}

const kindOf = (e: CopyEvent | undefined): string | undefined =>
  typeof e?.content.kind === 'string' ? e.content.kind : undefined;

const canonical = (c: Content) => canonicalJson(c as unknown as Json);

/** The top-level members whose values differ between two versions of a document. */
function differingMembers(a: Content, b: Content): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson((a[k] ?? null) as Json) !== canonicalJson((b[k] ?? null) as Json));
}

function finding(f: Omit<EventFinding, 'kind'>, ...holders: Array<CopyEvent | undefined>): EventFinding {
  const kind = holders.map(kindOf).find((k) => k !== undefined);
  return {
    seq: f.seq,
    id: f.id,
    ...(kind === undefined ? {} : { kind }),
    reason: f.reason,
    copy: f.copy,
    detail: f.detail,
  };
}

/** Runs verifyChain over one copy and turns its break into a finding. */
function chainFindings(chain: ChainCopies, copy: EventCopy): EventFinding[] {
  const mine = chain[copy];
  const other = chain[copy === 'database' ? 'journal' : 'database'];
  const out: EventFinding[] = [];
  const events: ExamEvent[] = [];
  for (const e of mine.values()) {
    if (e.event) events.push(e.event);
    else
      out.push(
        finding(
          {
            seq: e.position,
            id: e.id,
            reason: 'malformed',
            copy,
            detail:
              'not a well-formed event (type, exam, appliance, seq, kind, hash or prevHash missing or of the wrong type)',
          },
          e,
        ),
      );
  }
  const brk = verifyChain(events);
  if (!brk) return out;
  if (brk.reason === 'sequence-gap') {
    // verifyChain names the event after the gap; the bad event is the missing one.
    const id = eventDocId(chain.examId, chain.applianceId, brk.seq);
    const detail =
      `seq ${brk.seq} is missing from the ${copy}` + (brk.id === id ? '' : ` (the next event there is ${brk.id})`);
    out.push(finding({ seq: brk.seq, id, reason: brk.reason, copy, detail }, mine.get(id), other.get(id)));
    return out;
  }
  const at = mine.get(brk.id);
  const e = at?.event;
  let detail: string;
  switch (brk.reason) {
    case 'hash-mismatch':
      detail = 'its hash is not the SHA-256 of its content (the event was changed after it was written)';
      break;
    case 'prev-hash-mismatch':
      detail = `its prevHash is not the hash of event seq ${brk.seq - 1} (an earlier event was replaced)`;
      break;
    case 'wrong-chain':
      detail =
        e && e._id !== eventDocId(e.examId, e.applianceId, e.seq)
          ? `its id does not match its members (exam ${e.examId}, appliance ${e.applianceId}, seq ${e.seq})`
          : `it names exam ${e?.examId ?? '?'} and appliance ${e?.applianceId ?? '?'}, not this chain's`;
      break;
  }
  out.push(finding({ seq: brk.seq, id: brk.id, reason: brk.reason, copy, detail }, at, other.get(brk.id)));
  return out;
}

/** Events present in one copy only, and events whose content differs. */
function comparisonFindings(chain: ChainCopies): EventFinding[] {
  const out: EventFinding[] = [];
  for (const [id, db] of chain.database) {
    const j = chain.journal.get(id);
    if (!j) {
      out.push(
        finding(
          {
            seq: db.position,
            id,
            reason: 'missing-in-journal',
            copy: 'journal',
            detail: 'in the database but not in the journal',
          },
          db,
        ),
      );
    } else if (canonical(db.content) !== canonical(j.content)) {
      const members = differingMembers(db.content, j.content);
      out.push(
        finding(
          {
            seq: db.position,
            id,
            reason: 'differs-from-journal',
            copy: 'database',
            detail: `the database copy differs from the journal's (line ${j.line ?? '?'}) in ${members.join(', ')}`,
          },
          db,
          j,
        ),
      );
    }
  }
  for (const [id, j] of chain.journal) {
    if (!chain.database.has(id)) {
      out.push(
        finding(
          {
            seq: j.position,
            id,
            reason: 'missing-in-database',
            copy: 'database',
            detail: `in the journal (line ${j.line ?? '?'}) but not in the database`,
          },
          j,
        ),
      );
    }
  }
  return out;
}

/** The same break found in both copies is one finding, in `both`. */
function mergeBothCopies(findings: EventFinding[]): EventFinding[] {
  const out: EventFinding[] = [];
  for (const f of findings) {
    const twin = out.find(
      (o) => o.seq === f.seq && o.id === f.id && o.reason === f.reason && o.copy !== f.copy && o.copy !== 'both',
    );
    if (twin && REASON_RANK[f.reason] === 1) twin.copy = 'both';
    else out.push(f);
  }
  return out;
}

function summary(events: Map<string, CopyEvent>): CopySummary {
  let head: ChainHead | undefined;
  for (const { event } of events.values()) {
    if (event && (!head || event.seq > head.seq)) head = { seq: event.seq, hash: event.hash };
  }
  return { events: events.size, ...(head ? { head } : {}) };
}

function chainReport(chain: ChainCopies): ChainReport {
  const findings = mergeBothCopies([
    ...chainFindings(chain, 'database'),
    ...chainFindings(chain, 'journal'),
    ...chain.findings,
    ...comparisonFindings(chain),
  ]).sort(
    (a, b) =>
      a.seq - b.seq ||
      REASON_RANK[a.reason] - REASON_RANK[b.reason] ||
      COPY_RANK[a.copy] - COPY_RANK[b.copy] ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const database = summary(chain.database);
  const journal = summary(chain.journal);
  const headsAgree = database.head?.seq === journal.head?.seq && database.head?.hash === journal.head?.hash;
  const firstBad = findings[0];
  return {
    examId: chain.examId,
    applianceId: chain.applianceId,
    ok: firstBad === undefined,
    database,
    journal,
    headsAgree,
    ...(firstBad ? { firstBad } : {}),
    findings: findings.slice(0, MAX_FINDINGS),
    findingsOmitted: Math.max(0, findings.length - MAX_FINDINGS),
  };
}

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
  sources: { db: HallDb; dbPath: string; journalDir: string },
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
    ok: reports.every((r) => r.ok) && journal.damaged.length === 0,
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
    return await verifyEventLog({ db, dbPath, journalDir: path.join(dataDir, 'journal') }, options);
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
  const bad = report.chains.filter((c) => !c.ok).length;
  lines.push(
    report.ok
      ? `Result: OK, ${report.chains.length} chain${report.chains.length === 1 ? '' : 's'} verified in both copies.`
      : `Result: FAILED, ${bad} of ${report.chains.length} chain${report.chains.length === 1 ? '' : 's'} bad` +
          (j.damaged.length > 0
            ? `, ${j.damaged.length} damaged journal record${j.damaged.length === 1 ? '' : 's'}`
            : '') +
          '.',
  );
  for (const n of report.notes) lines.push(`Note: ${n}`);
  return `${lines.join('\n')}\n`;
}
