/**
 * Indexes journaled documents into PouchDB, behind the journal: once records stop arriving for
 * INDEX_QUIET_MS, or INDEX_MAX_DELAY_MS after the first one waiting, or when INDEX_BATCH of them
 * wait, and then only while the hall is quiet (`setGate`: few requests in flight) unless
 * INDEX_HARD_LIMIT wait. In a burst (the submission storm at time-up) the database's work waits
 * for the burst to pass instead of taking CPU from it; the journal, fsynced before any answer,
 * is the record, and readers call flush.
 */
import { putImmutable, type HallDb } from './database.js';
import type { JournalDoc } from './journal.js';

const INDEX_QUIET_MS = 300;
const INDEX_MAX_DELAY_MS = 5_000;
/** A 1,000-examinee submission storm records about 3,000 documents: they wait for it to pass. */
const INDEX_BATCH = 10_000;
/** Past this many waiting, indexing starts even while the hall is busy (memory: ~1–2 KB each). */
const INDEX_HARD_LIMIT = 30_000;

export class Indexer {
  /** Documents waiting to be indexed into PouchDB after their journal write. */
  private queue: JournalDoc[] = [];
  private indexing: Promise<void> | undefined;
  private error: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waitingSince: number | undefined;
  /** Whether the hall is quiet enough for indexing (services.ts: ForegroundLoad); always, when unset. */
  private gate: () => boolean = () => true;
  /** Readers in flush: while any waits, indexing does not wait for quiet. */
  private flushing = 0;

  constructor(private readonly db: HallDb) {}

  /** Queues documents the journal has made durable. */
  add(docs: JournalDoc[]): void {
    this.queue.push(...docs);
    if (this.indexing) return;
    this.waitingSince ??= Date.now();
    if (this.due()) {
      this.start();
      return;
    }
    this.armTimer();
  }

  /** Lets indexing wait while `quiet()` says the hall is busy (services.ts wires ForegroundLoad). */
  setGate(quiet: () => boolean): void {
    this.gate = quiet;
  }

  /** Waits until everything queued so far is in PouchDB; throws the last indexing error, if any. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.queue.length > 0 || this.indexing) {
        if (!this.indexing) this.start();
        await this.indexing;
      }
    } finally {
      this.flushing--;
    }
    if (this.error) throw this.error;
  }

  private due(): boolean {
    const waiting = this.queue.length;
    if (waiting >= INDEX_HARD_LIMIT) return true;
    const late = Date.now() - (this.waitingSince ?? Date.now()) >= INDEX_MAX_DELAY_MS;
    return (waiting >= INDEX_BATCH || late) && this.gate();
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.gate() || this.queue.length >= INDEX_HARD_LIMIT) this.start();
      else this.armTimer();
    }, INDEX_QUIET_MS).unref();
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waitingSince = undefined;
    if (this.indexing) return;
    this.indexing = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await putImmutable(this.db, batch);
        } catch (err) {
          // The journal has the documents; the next start replays them.
          this.error = err instanceof Error ? err : new Error(String(err));
        }
        // What arrived meanwhile waits for quiet, unless a reader is waiting for it.
        if (this.flushing === 0 && this.queue.length > 0 && !this.due()) break;
      }
      this.indexing = undefined;
      if (this.queue.length > 0) {
        this.waitingSince ??= Date.now();
        this.armTimer();
      }
    })();
  }
}
