/**
 * The start-up replay: opens the journal, writes into PouchDB the journal documents it may lack,
 * and builds the projection from the journal and the database.
 *
 * The journal is the truth for what this appliance wrote, so the projection takes our events
 * from it, read once, record by record, while every document PouchDB may lack (its writes are
 * not fsynced) is written again: after a clean shutdown only what the index checkpoint does not
 * cover (index-checkpoint.ts), otherwise each document the database does not hold with its
 * content revision. PouchDB supplies what the journal cannot: exams and rosters, drafts,
 * submissions' receipts, and events the journal does not hold (other appliances' events, once
 * sync brings them). Reading our own events back out of PouchDB instead would cost several
 * times more than reading the journal (scripts/bench-monitor.ts measures both).
 */
import { performance } from 'node:perf_hooks';
import type { ExamDoc, ExamineeDoc } from '../../../domain/exam-format.js';
import { eventDocId, type ExamEvent } from '../../../domain/events.js';
import {
  docsInRange,
  docsWithPrefix,
  documentRevisions,
  immutableRev,
  putRevisions,
  type HallDb,
  type IdRange,
} from './database.js';
import type { DraftDoc, SubmissionDoc, TimeUpDraftDoc } from './documents.js';
import { takeCheckpoint } from './index-checkpoint.js';
import { Journal, type JournalDoc } from './journal.js';
import { Projection } from './projection.js';

/** A chain of events the journal holds: this appliance's events of one exam, up to seq. */
interface JournalChain {
  examId: string;
  applianceId: string;
  seq: number;
}

/**
 * Opens the journal in `journalDir` and rebuilds the projection of `applianceId`'s hall from it
 * and from `db`. `summary` says how long each part took and how much was written, for the log.
 */
export async function replay(
  db: HallDb,
  journalDir: string,
  applianceId: string,
  log: (line: string) => void,
): Promise<{ projection: Projection; journal: Journal; summary: string }> {
  const started = performance.now();
  const projection = new Projection(applianceId);
  // The roster first, so that events apply straight to their examinees.
  for await (const page of docsWithPrefix<ExamDoc>(db, 'exam:')) for (const d of page) projection.setExam(d);
  for await (const page of docsWithPrefix<ExamineeDoc>(db, 'examinee:')) {
    for (const d of page) projection.setExaminee(d);
  }

  const rosterLoaded = performance.now();
  const indexedBytes = await takeCheckpoint(journalDir, db);
  const writer = new JournalReplay(db, indexedBytes > 0 ? undefined : await documentRevisions(db));
  const chains = new Map<string, JournalChain>();
  const { journal, tornBytes, records } = await Journal.open(journalDir, (docs, at) => {
    for (const d of docs) {
      if (d.type !== 'event') continue;
      const event = d as unknown as ExamEvent;
      projection.applyEvent(event);
      const key = `${event.examId}:${event.applianceId}`;
      const chain = chains.get(key);
      if (!chain) chains.set(key, { examId: event.examId, applianceId: event.applianceId, seq: event.seq });
      else chain.seq = Math.max(chain.seq, event.seq);
    }
    return at.end <= indexedBytes ? writer.skip(docs) : writer.add(docs);
  });
  if (tornBytes > 0) log(`journal: cut off a torn last record of ${tornBytes} bytes (never acknowledged)`);
  await writer.finish();
  const replayed = performance.now();

  await completeFromDatabase(db, projection, [...chains.values()]);
  const ms = (from: number, to: number) => Math.round(to - from);
  const summary =
    `roster ${ms(started, rosterLoaded)} ms; journal ${ms(rosterLoaded, replayed)} ms: ${records} records, ` +
    `${indexedBytes > 0 ? 'after a clean shutdown' : 'every document checked'}: ` +
    `${writer.written} of ${writer.seen} documents written to the database; ` +
    `the rest from the database ${ms(replayed, performance.now())} ms`;
  return { projection, journal, summary };
}

/**
 * Completes the projection from the database: events the journal does not hold (every id
 * outside the journal's chains), submissions' receipts and scores, and drafts' progress.
 */
async function completeFromDatabase(db: HallDb, p: Projection, journalChains: JournalChain[]): Promise<void> {
  for (const range of eventRangesOutside(journalChains)) {
    for await (const page of docsInRange<ExamEvent>(db, range)) for (const e of page) p.applyEvent(e);
  }
  for await (const page of docsWithPrefix<SubmissionDoc>(db, 'submission:')) {
    for (const s of page) p.addSubmission(s);
  }
  for await (const page of docsWithPrefix<DraftDoc & { _rev: string }>(db, 'draft:')) {
    for (const d of page) p.setDraftProgress(d);
  }
  for await (const page of docsWithPrefix<TimeUpDraftDoc>(db, 'timeup-draft:')) {
    for (const d of page) p.setTimeUpSeal(d);
  }
}

/**
 * Writes into the database the journal documents it may lack. `indexed`, when given, is every id
 * and revision the database had before the replay began: documents it holds with their content
 * revision are not written again. Without it, every document given to `add` is written.
 */
class JournalReplay {
  private batch: PouchDB.Doc[] = [];
  /** Journal documents looked at, and how many of them had to be written. */
  seen = 0;
  written = 0;

  constructor(
    private readonly db: HallDb,
    private readonly indexed: Map<string, string> | undefined,
  ) {}

  /** Documents the database is known to hold. */
  skip(docs: readonly JournalDoc[]): undefined {
    this.seen += docs.length;
    return undefined;
  }

  /** Documents the database may lack: written unless it holds them with the same revision. */
  add(docs: readonly JournalDoc[]): Promise<void> | undefined {
    for (const doc of docs) {
      this.seen++;
      const rev = immutableRev(doc);
      if (this.indexed?.get(doc._id) === rev) continue;
      this.batch.push({ ...doc, _rev: rev });
    }
    return this.batch.length >= REPLAY_BATCH ? this.flush() : undefined;
  }

  async finish(): Promise<void> {
    await this.flush();
    this.indexed?.clear();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    await putRevisions(this.db, batch);
    this.written += batch.length;
  }
}

const REPLAY_BATCH = 500;

/**
 * The event id ranges the journal's chains do not cover: `event:<examId>:<applianceId>:` from
 * seq 1 to the highest seq the journal holds is covered (ids sort by seq, padded to 10 digits),
 * everything else in `event:` is not. Exam and appliance ids contain no ':', so ranges of
 * different chains never overlap.
 */
export function eventRangesOutside(chains: readonly JournalChain[]): IdRange[] {
  const covered = chains
    .map((c) => ({ first: `event:${c.examId}:${c.applianceId}:`, last: eventDocId(c.examId, c.applianceId, c.seq) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const ranges: IdRange[] = [];
  let start = 'event:';
  let startExclusive = false;
  for (const c of covered) {
    ranges.push({ start, end: c.first, startExclusive, endExclusive: true });
    start = c.last;
    startExclusive = true;
  }
  ranges.push({ start, end: 'event:\ufff0', startExclusive });
  return ranges;
}
