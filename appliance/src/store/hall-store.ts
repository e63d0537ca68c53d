/**
 * The hall store: opens the database, journal, blob files and secrets, replays the journal,
 * rebuilds the projection, and offers the repositories the HTTP layer uses. The HTTP layer
 * never touches PouchDB directly.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../../domain/clock.js';
import { answeredCount, type AnswerFile } from '../../../domain/answers.js';
import { examDocId, SCHEMA_VERSION, type ExamDoc, type ExamineeDoc } from '../../../domain/exam-format.js';
import { chainEvent, type ExamEvent, type NewEvent } from '../../../domain/events.js';
import { ReceiptSigner, type Receipt } from '../crypto/receipts.js';
import { BlobStore } from './blob-store.js';
import { docsWithPrefix, openHallDb, putImmutable, type HallDb } from './database.js';
import { fsyncDir } from './fs-durable.js';
import { Journal, type JournalDoc } from './journal.js';
import { Projection, type ExamineeEntry } from './projection.js';
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
}

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

export class HallStore {
  /** Documents waiting to be indexed into PouchDB after their journal write. */
  private indexQueue: JournalDoc[] = [];
  private indexing: Promise<void> | undefined;
  private indexError: Error | undefined;

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
  ) {}

  get applianceId(): string {
    return this.secrets.value.applianceId;
  }

  /** Opens everything, replays the journal into PouchDB and rebuilds the projection. */
  static async open(options: StoreOptions): Promise<HallStore> {
    const log = options.log ?? (() => undefined);
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const secrets = await SecretStore.open(options.dataDir);
    const db = await openHallDb(options.dataDir, options.memoryDb ?? false);
    const { journal, docs, tornBytes } = await Journal.open(path.join(options.dataDir, 'journal'));
    if (tornBytes > 0) log(`journal: cut off a torn last record of ${tornBytes} bytes (never acknowledged)`);
    await putImmutable(db, docs);
    const blobs = await BlobStore.open(path.join(options.dataDir, 'blobs'));
    // The journal and blob folders may have just been created: make their names durable too.
    await fsyncDir(options.dataDir);
    const projection = new Projection(secrets.value.applianceId);
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
    );
    await store.rebuild();
    log(`store: replayed ${docs.length} journal documents; ${projection.exams.size} exams loaded`);
    return store;
  }

  /** Rebuilds the projection from the database (roster, events, submissions, drafts). */
  private async rebuild(): Promise<void> {
    const p = this.projection;
    for await (const page of docsWithPrefix<ExamDoc>(this.db, 'exam:')) for (const d of page) p.setExam(d);
    for await (const page of docsWithPrefix<ExamineeDoc>(this.db, 'examinee:')) for (const d of page) p.setExaminee(d);
    for await (const page of docsWithPrefix<ExamEvent>(this.db, 'event:')) for (const e of page) p.applyEvent(e);
    for await (const page of docsWithPrefix<SubmissionDoc>(this.db, 'submission:')) {
      for (const s of page) {
        p.receipts.set(s._id, s.receipt);
        p.scores.set(s._id, s.score);
      }
    }
    for await (const page of docsWithPrefix<DraftDoc & { _rev: string }>(this.db, 'draft:')) {
      for (const d of page) this.setDraftProgress(d);
    }
  }

  // ---- Exams and rosters (institution-owned; written by import and, later, sync) ----

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

  private index(docs: JournalDoc[]): void {
    this.indexQueue.push(...docs);
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
      }
      this.indexing = undefined;
    })();
  }

  /** Waits until everything recorded so far is in PouchDB (tests, shutdown). */
  async flushIndex(): Promise<void> {
    while (this.indexing) await this.indexing;
    if (this.indexError) throw this.indexError;
  }

  /** Every event of an exam from the database, in chain order (after flushIndex). */
  async examEvents(examId: string): Promise<ExamEvent[]> {
    const out: ExamEvent[] = [];
    for await (const page of docsWithPrefix<ExamEvent>(this.db, `event:${examId}:`)) out.push(...page);
    return out;
  }

  // ---- Submissions ----

  async submission(id: string): Promise<SubmissionDoc | undefined> {
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
    entry.draft = { counter: d.counter, answered, total, savedAt: d.savedAt, rev: d._rev };
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

  async close(): Promise<void> {
    await this.flushIndex().catch(() => undefined);
    await this.journal.close();
    await this.db.close();
  }
}
