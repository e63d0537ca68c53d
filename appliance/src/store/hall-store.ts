/**
 * The hall store: opens the database, journal, blob files and secrets, replays the journal,
 * rebuilds the projection, and offers the repositories the HTTP layer uses. The HTTP layer
 * never touches PouchDB directly.
 */
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import type { Clock } from '../../../domain/clock.js';
import { answeredCount, type AnswerFile } from '../../../domain/answers.js';
import { questionVersion } from '../../../domain/answer-sheet.js';
import { examDocId, SCHEMA_VERSION, type ExamDoc, type ExamineeDoc } from '../../../domain/exam-format.js';
import { chainEvent, eventDocId, type ExamEvent, type NewEvent } from '../../../domain/events.js';
import { answerDigests, type TimingCase } from '../../../domain/time-up.js';
import { ReceiptSigner, type Receipt } from '../crypto/receipts.js';
import { BlobStore } from './blob-store.js';
import {
  docsInRange,
  docsWithPrefix,
  documentRevisions,
  hallDbDir,
  immutableRev,
  openHallDb,
  putImmutable,
  putRevisions,
  type HallDb,
  type IdRange,
} from './database.js';
import { fsyncDir } from './fs-durable.js';
import { markDatabase, takeCheckpoint, writeCheckpoint } from './index-checkpoint.js';
import { Journal, type JournalDoc } from './journal.js';
import { Projection, type ExamineeEntry, type TimeUpSeal } from './projection.js';
import { SecretStore } from './secrets.js';

/** A submission as stored (`submission:<examId>:<studentId>:<n>`), immutable. */
export interface SubmissionDoc {
  _id: string;
  type: 'submission';
  schemaVersion: number;
  examId: string;
  studentId: string;
  n: number;
  applianceId: string;
  sha256: string;
  size: number;
  submissionType: 'manual' | 'automatic';
  receivedAt: number;
  late: boolean;
  /** The time-up case (domain/time-up.ts); absent in documents written before it existed. */
  timing?: TimingCase;
  /** When compared with the draft held at the deadline: the questions whose answers differ. */
  differingQuestions?: string[];
  receipt: Receipt;
  /** Closed questions' score and how many questions the answer file answers, at acceptance. */
  score: SubmissionScore;
}

export interface SubmissionScore {
  score: number;
  maxScore: number;
  answered: number;
  total: number;
}

/** The latest autosave (`draft:<examId>:<studentId>`), single writer, not fsynced. */
export interface DraftDoc {
  _id: string;
  _rev?: string;
  type: 'draft';
  schemaVersion: number;
  examId: string;
  studentId: string;
  counter: number;
  savedAt: number;
  answers: AnswerFile['answers'];
  flagged: string[];
  /**
   * The device's version of each question (domain/answer-sheet.ts): absent in drafts saved before
   * versions existed, where every question counts at the draft's counter.
   */
  versions?: Record<string, number>;
}

/**
 * The draft the appliance held from an examinee at their deadline, kept at (or lazily at the first
 * need after) the deadline: `timeup-draft:<examId>:<studentId>:<n>`, immutable and journaled like
 * the other appliance-owned documents (local: the sync pushes it, when it matters, as the blob a
 * time-up-answers-kept event names). n counts the deadlines (an extension after time-up makes a new one).
 */
export interface TimeUpDraftDoc {
  _id: string;
  type: 'timeup-draft';
  schemaVersion: number;
  examId: string;
  studentId: string;
  n: number;
  applianceId: string;
  /** The deadline it was held at (epoch ms), and when it was kept. */
  deadline: number;
  keptAt: number;
  /** Whether the appliance held any draft from the examinee then; if not, answers is empty. */
  heldDraft: boolean;
  draftCounter: number | null;
  draftSavedAt: number | null;
  answers: AnswerFile['answers'];
  flagged: string[];
  /** What the appliance saw of the device at the deadline (null: nothing known, e.g. restarted since). */
  presence: { lastSeen: number | null; streamOpen: boolean } | null;
}

export const timeUpDraftDocId = (examId: string, studentId: string, n: number) =>
  `timeup-draft:${examId}:${studentId}:${n}`;

export const submissionDocId = (examId: string, studentId: string, n: number) =>
  `submission:${examId}:${studentId}:${n}`;
export const draftDocId = (examId: string, studentId: string) => `draft:${examId}:${studentId}`;

export interface StoreOptions {
  dataDir: string;
  clock: Clock;
  hallId: string;
  /** Use PouchDB's memory adapter (journal, blobs and secrets stay on disk under dataDir). */
  memoryDb?: boolean;
  log?: (line: string) => void;
}

/** See HallStore.index. */
const INDEX_QUIET_MS = 300;
const INDEX_MAX_DELAY_MS = 5_000;
/** A 1,000-examinee submission storm records about 3,000 documents: they wait for it to pass. */
const INDEX_BATCH = 10_000;
/** Past this many waiting, indexing starts even while the hall is busy (memory: ~1–2 KB each). */
const INDEX_HARD_LIMIT = 30_000;

export class HallStore {
  /** Documents waiting to be indexed into PouchDB after their journal write. */
  private indexQueue: JournalDoc[] = [];
  private indexing: Promise<void> | undefined;
  private indexError: Error | undefined;
  private indexTimer: NodeJS.Timeout | undefined;
  private indexWaitingSince: number | undefined;
  /** Whether the hall is quiet enough for indexing (services.ts: ForegroundLoad); always, when unset. */
  private indexGate: () => boolean = () => true;

  private constructor(
    readonly db: HallDb,
    readonly journal: Journal,
    readonly blobs: BlobStore,
    readonly secrets: SecretStore,
    readonly projection: Projection,
    readonly receiptSigner: ReceiptSigner,
    readonly clock: Clock,
    readonly hallId: string,
    readonly dataDir: string,
    /** The database's folder, when it is on disk (not the memory adapter). */
    private readonly dbDir: string | undefined,
  ) {}

  get applianceId(): string {
    return this.secrets.value.applianceId;
  }

  /**
   * Opens everything, replays the journal into PouchDB and rebuilds the projection.
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
  static async open(options: StoreOptions): Promise<HallStore> {
    const log = options.log ?? (() => undefined);
    const started = performance.now();
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const secrets = await SecretStore.open(options.dataDir);
    const memory = options.memoryDb ?? false;
    const db = await openHallDb(options.dataDir, memory);
    const journalDir = path.join(options.dataDir, 'journal');
    const projection = new Projection(secrets.value.applianceId);
    // The roster first, so that events apply straight to their examinees.
    for await (const page of docsWithPrefix<ExamDoc>(db, 'exam:')) for (const d of page) projection.setExam(d);
    for await (const page of docsWithPrefix<ExamineeDoc>(db, 'examinee:')) {
      for (const d of page) projection.setExaminee(d);
    }

    const rosterLoaded = performance.now();
    const indexedBytes = await takeCheckpoint(journalDir, db);
    const replay = new JournalReplay(db, indexedBytes > 0 ? undefined : await documentRevisions(db));
    const chains = new Map<string, { examId: string; applianceId: string; seq: number }>();
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
      return at.end <= indexedBytes ? replay.skip(docs) : replay.add(docs);
    });
    if (tornBytes > 0) log(`journal: cut off a torn last record of ${tornBytes} bytes (never acknowledged)`);
    await replay.finish();
    const replayed = performance.now();

    const blobs = await BlobStore.open(path.join(options.dataDir, 'blobs'));
    // The journal and blob folders may have just been created: make their names durable too.
    await fsyncDir(options.dataDir);
    const store = new HallStore(
      db,
      journal,
      blobs,
      secrets,
      projection,
      new ReceiptSigner(secrets.value.receiptPrivateKeyPem),
      options.clock,
      options.hallId,
      options.dataDir,
      memory ? undefined : hallDbDir(options.dataDir),
    );
    await store.rebuild([...chains.values()]);
    const ms = (from: number, to: number) => Math.round(to - from);
    log(
      `store: ${projection.exams.size} exams ready in ${ms(started, performance.now())} ms ` +
        `(roster ${ms(started, rosterLoaded)} ms; journal ${ms(rosterLoaded, replayed)} ms: ${records} records, ` +
        `${indexedBytes > 0 ? 'after a clean shutdown' : 'every document checked'}: ` +
        `${replay.written} of ${replay.seen} documents written to the database; ` +
        `the rest from the database ${ms(replayed, performance.now())} ms)`,
    );
    return store;
  }

  /**
   * Completes the projection from the database: events the journal does not hold (every id
   * outside the journal's chains), submissions' receipts and scores, and drafts' progress.
   */
  private async rebuild(journalChains: { examId: string; applianceId: string; seq: number }[]): Promise<void> {
    const p = this.projection;
    for (const range of eventRangesOutside(journalChains)) {
      for await (const page of docsInRange<ExamEvent>(this.db, range)) for (const e of page) p.applyEvent(e);
    }
    for await (const page of docsWithPrefix<SubmissionDoc>(this.db, 'submission:')) {
      for (const s of page) {
        p.receipts.set(s._id, s.receipt);
        p.scores.set(s._id, s.score);
      }
    }
    for await (const page of docsWithPrefix<DraftDoc & { _rev: string }>(this.db, 'draft:')) {
      for (const d of page) this.setDraftProgress(d);
    }
    for await (const page of docsWithPrefix<TimeUpDraftDoc>(this.db, 'timeup-draft:')) {
      for (const d of page) this.setTimeUpSeal(d);
    }
  }

  // ---- Drafts kept at time-up (appliance-owned, journaled) ----

  private setTimeUpSeal(d: TimeUpDraftDoc): TimeUpSeal | undefined {
    const entry = this.projection.examinee(d.examId, d.studentId);
    if (!entry || (entry.timeUp && entry.timeUp.n >= d.n)) return entry?.timeUp;
    entry.timeUp = {
      id: d._id,
      n: d.n,
      deadline: d.deadline,
      heldDraft: d.heldDraft,
      digests: answerDigests(d.answers),
      presence: d.presence && { lastSeen: d.presence.lastSeen ?? undefined, streamOpen: d.presence.streamOpen },
    };
    return entry.timeUp;
  }

  /**
   * Keeps the draft held at a deadline, durably (journal fsync) before it resolves. The caller
   * holds the examinee's lock and has checked that no draft was kept for this deadline.
   */
  async keepTimeUpDraft(
    doc: Omit<TimeUpDraftDoc, '_id' | 'type' | 'schemaVersion' | 'applianceId'>,
  ): Promise<TimeUpSeal> {
    const full: TimeUpDraftDoc = {
      _id: timeUpDraftDocId(doc.examId, doc.studentId, doc.n),
      type: 'timeup-draft',
      schemaVersion: SCHEMA_VERSION,
      applianceId: this.applianceId,
      ...doc,
    };
    await this.record(doc.examId, [], [full as unknown as JournalDoc]).durable;
    const seal = this.setTimeUpSeal(full);
    if (!seal) throw new Error(`${full._id}: the examinee is not on the roster`);
    return seal;
  }

  /** A kept time-up draft from the database (everything recorded so far is indexed first). */
  async timeUpDraft(id: string): Promise<TimeUpDraftDoc | undefined> {
    await this.flushIndex();
    try {
      return (await this.db.get(id)) as unknown as TimeUpDraftDoc;
    } catch {
      return undefined;
    }
  }

  // ---- Exams and rosters (institution-owned; written by import and by the sync's pull) ----

  /** Stores an exam and its roster (an import); replaces earlier versions of both. */
  async putExam(exam: ExamDoc, examinees: readonly ExamineeDoc[]): Promise<void> {
    const ids = [exam._id, ...examinees.map((e) => e._id)];
    const existing = await this.db.allDocs({ keys: ids });
    const revs = new Map(
      existing.rows.flatMap((r) => (r.value && !r.value.deleted ? [[r.id, r.value.rev] as const] : [])),
    );
    const docs = [exam, ...examinees].map((d) => {
      const rev = revs.get(d._id);
      const { _rev: _old, ...rest } = d;
      return (rev === undefined ? rest : { ...rest, _rev: rev }) as PouchDB.Doc;
    });
    const results = await this.db.bulkDocs(docs);
    const failed = results.find((r) => 'error' in r && r.error);
    if (failed) throw new Error(`storing the exam failed: ${JSON.stringify(failed)}`);
    this.projection.setExam(exam);
    for (const e of examinees) this.projection.setExaminee(e);
  }

  /**
   * Documents the sync pulled into the database (already written there by the replicator):
   * exams and roster entries reach the projection at once, so a published exam or a new roster
   * version shows without a restart; other appliances' events and submissions are applied too.
   * Returns the ids of exams that are new to this appliance.
   */
  applyPulled(docs: readonly PouchDB.Doc[]): string[] {
    const newExams: string[] = [];
    const p = this.projection;
    const byType = (type: string) => docs.filter((d) => d.type === type && d._deleted !== true);
    for (const exam of byType('exam') as unknown as ExamDoc[]) {
      if (!p.exams.has(exam.examId)) newExams.push(exam.examId);
      p.setExam(exam);
    }
    for (const examinee of byType('examinee') as unknown as ExamineeDoc[]) p.setExaminee(examinee);
    for (const event of byType('event') as unknown as ExamEvent[]) {
      if (event.applianceId !== this.applianceId) p.applyEvent(event);
    }
    for (const s of byType('submission') as unknown as SubmissionDoc[]) {
      if (s.applianceId === this.applianceId) continue;
      p.receipts.set(s._id, s.receipt);
      p.scores.set(s._id, s.score);
    }
    return newExams;
  }

  /**
   * Reads an exam's roster from the database into the projection: after a pull brought a new
   * exam, roster entries that arrived before it (CouchDB's changes feed is not ordered across
   * shards) are picked up here.
   */
  async loadRoster(examId: string): Promise<void> {
    for await (const page of docsWithPrefix<ExamineeDoc>(this.db, `examinee:${examId}:`)) {
      for (const d of page) this.projection.setExaminee(d);
    }
  }

  async hasExam(examId: string): Promise<boolean> {
    try {
      await this.db.get(examDocId(examId));
      return true;
    } catch {
      return false;
    }
  }

  // ---- Events (appliance-owned, journaled) ----

  /**
   * Records events (and documents written with them, e.g. a submission) durably. The events are
   * chained and applied to the projection synchronously, before the first await, so concurrent
   * requests see each other's effects at once; the promise resolves when the journal has
   * fsynced them. Then they are indexed into PouchDB in the background.
   */
  record(
    examId: string,
    events: readonly NewEvent[],
    withDocs: readonly JournalDoc[] = [],
  ): { events: ExamEvent[]; durable: Promise<void> } {
    const at = this.clock.now();
    const chained: ExamEvent[] = [];
    for (const e of events) {
      const next = chainEvent(this.projection.head(examId), examId, this.applianceId, at, e, SCHEMA_VERSION);
      this.projection.applyEvent(next);
      chained.push(next);
    }
    const docs = [...(chained as unknown as JournalDoc[]), ...withDocs];
    const durable = this.journal.append(docs).then(() => this.index(docs));
    return { events: chained, durable };
  }

  /**
   * Indexes journaled documents into PouchDB, behind the journal: once records stop arriving for
   * INDEX_QUIET_MS, or INDEX_MAX_DELAY_MS after the first one waiting, or when INDEX_BATCH of them
   * wait, and then only while the hall is quiet (`setIndexGate`: few requests in flight) unless
   * INDEX_HARD_LIMIT wait. In a burst (the submission storm at time-up) the database's work waits
   * for the burst to pass instead of taking CPU from it; the journal, fsynced before any answer,
   * is the record, and readers call flushIndex.
   */
  private index(docs: JournalDoc[]): void {
    this.indexQueue.push(...docs);
    if (this.indexing) return;
    this.indexWaitingSince ??= Date.now();
    if (this.indexDue()) {
      this.startIndexing();
      return;
    }
    this.armIndexTimer();
  }

  /** Lets indexing wait while `quiet()` says the hall is busy (services.ts wires ForegroundLoad). */
  setIndexGate(quiet: () => boolean): void {
    this.indexGate = quiet;
  }

  private indexDue(): boolean {
    const waiting = this.indexQueue.length;
    if (waiting >= INDEX_HARD_LIMIT) return true;
    const late = Date.now() - (this.indexWaitingSince ?? Date.now()) >= INDEX_MAX_DELAY_MS;
    return (waiting >= INDEX_BATCH || late) && this.indexGate();
  }

  private armIndexTimer(): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = setTimeout(() => {
      if (this.indexGate() || this.indexQueue.length >= INDEX_HARD_LIMIT) this.startIndexing();
      else this.armIndexTimer();
    }, INDEX_QUIET_MS).unref();
  }

  private startIndexing(): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = undefined;
    this.indexWaitingSince = undefined;
    if (this.indexing) return;
    this.indexing = (async () => {
      while (this.indexQueue.length > 0) {
        const batch = this.indexQueue;
        this.indexQueue = [];
        try {
          await putImmutable(this.db, batch);
        } catch (err) {
          // The journal has the documents; the next start replays them.
          this.indexError = err instanceof Error ? err : new Error(String(err));
        }
        // What arrived meanwhile waits for quiet, unless a reader is waiting for it.
        if (this.flushing === 0 && this.indexQueue.length > 0 && !this.indexDue()) break;
      }
      this.indexing = undefined;
      if (this.indexQueue.length > 0) {
        this.indexWaitingSince ??= Date.now();
        this.armIndexTimer();
      }
    })();
  }

  /** Readers in flushIndex: while any waits, indexing does not wait for quiet. */
  private flushing = 0;

  /** Waits until everything recorded so far is in PouchDB (tests, shutdown, proctor reads). */
  async flushIndex(): Promise<void> {
    this.flushing++;
    try {
      while (this.indexQueue.length > 0 || this.indexing) {
        if (!this.indexing) this.startIndexing();
        await this.indexing;
      }
    } finally {
      this.flushing--;
    }
    if (this.indexError) throw this.indexError;
  }

  /** Every event of an exam from the database, in chain order (everything recorded so far is indexed first). */
  async examEvents(examId: string): Promise<ExamEvent[]> {
    await this.flushIndex();
    const out: ExamEvent[] = [];
    for await (const page of docsWithPrefix<ExamEvent>(this.db, `event:${examId}:`)) out.push(...page);
    return out;
  }

  // ---- Submissions ----

  /** A submission document from the database (everything recorded so far is indexed first). */
  async submission(id: string): Promise<SubmissionDoc | undefined> {
    await this.flushIndex();
    try {
      return (await this.db.get(id)) as unknown as SubmissionDoc;
    } catch {
      return undefined;
    }
  }

  // ---- Drafts (single writer per examinee; not journaled: the device keeps its copy) ----

  private setDraftProgress(d: DraftDoc & { _rev: string }): void {
    const entry = this.projection.examinee(d.examId, d.studentId);
    const exam = this.projection.exams.get(d.examId);
    if (!entry || !exam) return;
    const { answered, total } = answeredCount(exam.doc, d.answers);
    const before = entry.draft;
    const versions: Record<string, number> = {};
    for (const q of [...Object.keys(d.answers), ...d.flagged]) versions[q] = questionVersion(d, q);
    Object.assign(versions, d.versions);
    entry.draft = { counter: d.counter, answered, total, savedAt: d.savedAt, rev: d._rev, versions };
    if (before?.answered !== answered || before.total !== total) this.projection.progressChanged(d.examId, d.studentId);
  }

  /** Saves a draft; the caller has checked the counter is newer. */
  async saveDraft(
    entry: ExamineeEntry,
    draft: Omit<DraftDoc, '_id' | '_rev' | 'type' | 'schemaVersion'>,
  ): Promise<void> {
    const doc: DraftDoc = {
      _id: draftDocId(draft.examId, draft.studentId),
      type: 'draft',
      schemaVersion: SCHEMA_VERSION,
      ...draft,
    };
    if (entry.draft) doc._rev = entry.draft.rev;
    const result = await this.db.put(doc as unknown as PouchDB.Doc);
    this.setDraftProgress({ ...doc, _rev: result.rev });
  }

  async draft(examId: string, studentId: string): Promise<DraftDoc | undefined> {
    try {
      return (await this.db.get(draftDocId(examId, studentId))) as unknown as DraftDoc;
    } catch {
      return undefined;
    }
  }

  /**
   * Closes the store. When everything the journal holds is in the database, the database is
   * synced and an index checkpoint written, so that the next start need not replay the journal.
   */
  async close(): Promise<void> {
    // Closing the journal first: nothing can become durable (and need indexing) after it.
    await this.journal.close();
    const indexed = await this.flushIndex().then(
      () => true,
      () => false,
    );
    const checkpoint =
      indexed && !this.journal.broken && this.dbDir !== undefined
        ? await markDatabase(this.db, this.journal.position)
        : undefined;
    await this.db.close();
    await this.blobs.close();
    if (checkpoint && this.dbDir !== undefined)
      await writeCheckpoint(path.join(this.dataDir, 'journal'), this.dbDir, checkpoint);
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
export function eventRangesOutside(chains: readonly { examId: string; applianceId: string; seq: number }[]): IdRange[] {
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
