/**
 * The hall store: opens the database, journal, blob files and secrets, replays the journal
 * (replay.ts), rebuilds the projection, and offers the repositories the HTTP layer uses. The
 * HTTP layer never touches PouchDB directly. Every write to the projection goes through here.
 */
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import type { Clock } from '../../../domain/clock.js';
import { examDocId, SCHEMA_VERSION, type ExamDoc, type ExamineeDoc } from '../../../domain/exam-format.js';
import { chainEvent, type ExamEvent, type NewEvent } from '../../../domain/events.js';
import { ReceiptSigner } from '../crypto/receipts.js';
import { BlobStore } from './blob-store.js';
import { docsWithPrefix, hallDbDir, openHallDb, type HallDb } from './database.js';
import { draftDocId, timeUpDraftDocId, type DraftDoc, type SubmissionDoc, type TimeUpDraftDoc } from './documents.js';
import { fsyncDir } from './fs-durable.js';
import { markDatabase, writeCheckpoint } from './index-checkpoint.js';
import { Indexer } from './indexer.js';
import type { Journal, JournalDoc } from './journal.js';
import type { ExamineeEntry, Projection, ProjectionView, TimeUpSeal } from './projection.js';
import { replay } from './replay.js';
import { SecretStore } from './secrets.js';
import type { StorageProblem } from './storage-problems.js';

export {
  draftDocId,
  submissionDocId,
  timeUpDraftDocId,
  type DraftDoc,
  type SubmissionDoc,
  type SubmissionScore,
  type TimeUpDraftDoc,
} from './documents.js';

export interface StoreOptions {
  dataDir: string;
  clock: Clock;
  hallId: string;
  /** Use PouchDB's memory adapter (journal, blobs and secrets stay on disk under dataDir). */
  memoryDb?: boolean;
  /** Start-up lines (info), and storage faults and recoveries (warn). */
  log?: (line: string, level?: 'info' | 'warn') => void;
}

/** What callers may know of the journal: whether it still writes, and where it is. */
export type JournalStatus = Pick<Journal, 'broken' | 'filePath'>;

export class HallStore {
  readonly #db: HallDb;
  readonly #journal: Journal;
  readonly #projection: Projection;
  readonly #indexer: Indexer;
  /** Records whose journal write has not finished yet, so not yet handed to the indexer. */
  readonly #appending = new Set<Promise<void>>();
  /** The database's folder, when it is on disk (not the memory adapter). */
  readonly #dbDir: string | undefined;

  private constructor(
    parts: {
      db: HallDb;
      journal: Journal;
      projection: Projection;
      dbDir: string | undefined;
      warn: (line: string) => void;
    },
    readonly blobs: BlobStore,
    readonly secrets: SecretStore,
    readonly receiptSigner: ReceiptSigner,
    readonly clock: Clock,
    readonly hallId: string,
    readonly dataDir: string,
  ) {
    this.#db = parts.db;
    this.#journal = parts.journal;
    this.#projection = parts.projection;
    this.#dbDir = parts.dbDir;
    this.#indexer = new Indexer(parts.db, parts.warn);
    blobs.onProblem = parts.warn;
  }

  get applianceId(): string {
    return this.secrets.value.applianceId;
  }

  /** The projection, to read and listen to; only the store writes it. */
  get projection(): ProjectionView {
    return this.#projection;
  }

  /** The PouchDB database, for the sync's replication (hall-sync-wiring.ts) and for tests. */
  get db(): HallDb {
    return this.#db;
  }

  get journal(): JournalStatus {
    return this.#journal;
  }

  /** Storage faults going on now, which the appliance survives (/api/health: degraded). */
  get problems(): StorageProblem[] {
    return [this.#indexer.problem, this.blobs.problem].filter((p) => p !== undefined);
  }

  /** Test hook: the next `count` index batches fail with `error` before they reach PouchDB. */
  failNextIndexBatches(error: Error, count = 1): void {
    this.#indexer.failNextBatches(error, count);
  }

  /** Opens everything, replays the journal into PouchDB and rebuilds the projection (replay.ts). */
  static async open(options: StoreOptions): Promise<HallStore> {
    const log = options.log ?? (() => undefined);
    const started = performance.now();
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const secrets = await SecretStore.open(options.dataDir);
    const memory = options.memoryDb ?? false;
    const db = await openHallDb(options.dataDir, memory);
    const journalDir = path.join(options.dataDir, 'journal');
    const { projection, journal, summary } = await replay(db, journalDir, secrets.value.applianceId, log);
    const blobs = await BlobStore.open(path.join(options.dataDir, 'blobs'));
    // The journal and blob folders may have just been created: make their names durable too.
    await fsyncDir(options.dataDir);
    const store = new HallStore(
      {
        db,
        journal,
        projection,
        dbDir: memory ? undefined : hallDbDir(options.dataDir),
        warn: (line) => log(`store: ${line}`, 'warn'),
      },
      blobs,
      secrets,
      new ReceiptSigner(secrets.value.receiptPrivateKeyPem),
      options.clock,
      options.hallId,
      options.dataDir,
    );
    const ms = Math.round(performance.now() - started);
    log(`store: ${projection.exams.size} exams ready in ${ms} ms (${summary})`);
    return store;
  }

  // ---- Drafts kept at time-up (appliance-owned, journaled) ----

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
    const seal = this.#projection.setTimeUpSeal(full);
    if (!seal) throw new Error(`${full._id}: the examinee is not on the roster`);
    return seal;
  }

  /** A kept time-up draft from the database (everything recorded so far is indexed first). */
  async timeUpDraft(id: string): Promise<TimeUpDraftDoc | undefined> {
    await this.flushIndex();
    try {
      return (await this.#db.get(id)) as unknown as TimeUpDraftDoc;
    } catch {
      return undefined;
    }
  }

  // ---- Exams and rosters (institution-owned; written by import and by the sync's pull) ----

  /** Stores an exam and its roster (an import); replaces earlier versions of both. */
  async putExam(exam: ExamDoc, examinees: readonly ExamineeDoc[]): Promise<void> {
    const ids = [exam._id, ...examinees.map((e) => e._id)];
    const existing = await this.#db.allDocs({ keys: ids });
    const revs = new Map(
      existing.rows.flatMap((r) => (r.value && !r.value.deleted ? [[r.id, r.value.rev] as const] : [])),
    );
    const docs = [exam, ...examinees].map((d) => {
      const rev = revs.get(d._id);
      const { _rev: _old, ...rest } = d;
      return (rev === undefined ? rest : { ...rest, _rev: rev }) as PouchDB.Doc;
    });
    const results = await this.#db.bulkDocs(docs);
    const failed = results.find((r) => 'error' in r && r.error);
    if (failed) throw new Error(`storing the exam failed: ${JSON.stringify(failed)}`);
    this.#projection.setExam(exam);
    for (const e of examinees) this.#projection.setExaminee(e);
  }

  /**
   * Documents the sync pulled into the database (already written there by the replicator):
   * exams and roster entries reach the projection at once, so a published exam or a new roster
   * version shows without a restart; other appliances' events and submissions are applied too.
   * Returns the ids of exams that are new to this appliance.
   */
  applyPulled(docs: readonly PouchDB.Doc[]): string[] {
    const newExams: string[] = [];
    const p = this.#projection;
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
      p.addSubmission(s);
    }
    return newExams;
  }

  /**
   * Reads an exam's roster from the database into the projection: after a pull brought a new
   * exam, roster entries that arrived before it (CouchDB's changes feed is not ordered across
   * shards) are picked up here.
   */
  async loadRoster(examId: string): Promise<void> {
    for await (const page of docsWithPrefix<ExamineeDoc>(this.#db, `examinee:${examId}:`)) {
      for (const d of page) this.#projection.setExaminee(d);
    }
  }

  async hasExam(examId: string): Promise<boolean> {
    try {
      await this.#db.get(examDocId(examId));
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
      const next = chainEvent(this.#projection.head(examId), examId, this.applianceId, at, e, SCHEMA_VERSION);
      this.#projection.applyEvent(next);
      chained.push(next);
    }
    const docs = [...(chained as unknown as JournalDoc[]), ...withDocs];
    const durable = this.#journal.append(docs).then(() => this.#indexer.add(docs));
    const appending = durable.then(
      () => undefined,
      () => undefined,
    );
    this.#appending.add(appending);
    void appending.then(() => this.#appending.delete(appending));
    return { events: chained, durable };
  }

  /** Lets indexing wait while `quiet()` says the hall is busy (services.ts wires ForegroundLoad). */
  setIndexGate(quiet: () => boolean): void {
    this.#indexer.setGate(quiet);
  }

  /** Waits until everything recorded so far is in PouchDB (tests, shutdown, proctor reads). */
  async flushIndex(): Promise<void> {
    await Promise.all(this.#appending);
    return this.#indexer.flush();
  }

  /** Every event of an exam from the database, in chain order (everything recorded so far is indexed first). */
  async examEvents(examId: string): Promise<ExamEvent[]> {
    await this.flushIndex();
    const out: ExamEvent[] = [];
    for await (const page of docsWithPrefix<ExamEvent>(this.#db, `event:${examId}:`)) out.push(...page);
    return out;
  }

  // ---- Submissions ----

  /** A submission document from the database (everything recorded so far is indexed first). */
  async submission(id: string): Promise<SubmissionDoc | undefined> {
    await this.flushIndex();
    try {
      return (await this.#db.get(id)) as unknown as SubmissionDoc;
    } catch {
      return undefined;
    }
  }

  /**
   * Makes an accepted submission visible: its receipt and score. Only once its documents are
   * durable (GET /api/exam/submission answers from the receipts: a receipt there is acknowledged).
   */
  submissionAcknowledged(doc: SubmissionDoc): void {
    this.#projection.addSubmission(doc);
  }

  // ---- Drafts (single writer per examinee; not journaled: the device keeps its copy) ----

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
    const result = await this.#db.put(doc as unknown as PouchDB.Doc);
    this.#projection.setDraftProgress({ ...doc, _rev: result.rev });
  }

  async draft(examId: string, studentId: string): Promise<DraftDoc | undefined> {
    try {
      return (await this.#db.get(draftDocId(examId, studentId))) as unknown as DraftDoc;
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
    await this.#journal.close();
    const indexed = await this.flushIndex().then(
      () => true,
      () => false,
    );
    this.#indexer.stop();
    const checkpoint =
      indexed && !this.#journal.broken && this.#dbDir !== undefined
        ? await markDatabase(this.#db, this.#journal.position)
        : undefined;
    await this.#db.close();
    await this.blobs.close();
    if (checkpoint && this.#dbDir !== undefined)
      await writeCheckpoint(path.join(this.dataDir, 'journal'), this.#dbDir, checkpoint);
  }

  /** Closes the journal and the database as kill -9 leaves them: no index checkpoint (tests). */
  async closeWithoutCheckpoint(): Promise<void> {
    this.#indexer.stop();
    await this.#journal.close();
    await this.#db.close();
  }
}
