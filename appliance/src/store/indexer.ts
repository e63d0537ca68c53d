/**
 * Indexes journaled documents into PouchDB, behind the journal: once records stop arriving for
 * INDEX_QUIET_MS, or INDEX_MAX_DELAY_MS after the first one waiting, or when INDEX_BATCH of them
 * wait, and then only while the hall is quiet (`setGate`: few requests in flight) unless
 * INDEX_HARD_LIMIT wait. In a burst (the submission storm at time-up) the database's work waits
 * for the burst to pass instead of taking CPU from it; the journal, fsynced before any answer,
 * is the record, and readers call flush.
 *
 * A batch that PouchDB refuses (a LevelDB write error) stays queued, first in line, and is tried
 * again after RETRY_FIRST_MS, doubling to RETRY_MAX_MS, and at once by any reader that flushes:
 * reads wait for it, and answer 503 `index-unavailable` when the attempt they waited for failed
 * too (never a stale read). While it lasts, `problem` says so (/api/health: degraded); the first
 * good batch ends it.
 */
import { putImmutable, type HallDb } from './database.js';
import type { JournalDoc } from './journal.js';
import { StorageUnavailableError, type StorageProblem } from './storage-problems.js';

const INDEX_QUIET_MS = 300;
const INDEX_MAX_DELAY_MS = 5_000;
/** A 1,000-examinee submission storm records about 3,000 documents: they wait for it to pass. */
const INDEX_BATCH = 10_000;
/** Past this many waiting, indexing starts even while the hall is busy (memory: ~1–2 KB each). */
const INDEX_HARD_LIMIT = 30_000;
/** The first retry of a refused batch; each failure doubles the pause, up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** A batch PouchDB refused, until one is indexed again. */
interface IndexFailure {
  error: Error;
  since: number;
  attempts: number;
}

export class Indexer {
  /** Documents waiting to be indexed into PouchDB after their journal write. */
  private queue: JournalDoc[] = [];
  /** The indexing run going on; it resolves false when a batch failed (and was queued again). */
  private indexing: Promise<boolean> | undefined;
  private failure: IndexFailure | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Test hook: the next `count` batches fail with this error before they reach the database. */
  private injected: { error: Error; count: number } | undefined;
  private waitingSince: number | undefined;
  /** Whether the hall is quiet enough for indexing (services.ts: ForegroundLoad); always, when unset. */
  private gate: () => boolean = () => true;
  /** Readers in flush: while any waits, indexing does not wait for quiet. */
  private flushing = 0;

  constructor(
    private readonly db: HallDb,
    /** Told of a refused batch and of the recovery (HallStore: the log). */
    private readonly tell: (line: string) => void = () => undefined,
  ) {}

  /** Queues documents the journal has made durable. */
  add(docs: JournalDoc[]): void {
    this.queue.push(...docs);
    // After a refused batch, the retry (or a reader) indexes these with it.
    if (this.indexing || this.failure) return;
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

  /**
   * Waits until everything queued so far is in PouchDB. After a refused batch it tries that batch
   * again at once rather than waiting for the retry.
   * @throws StorageUnavailableError (`index-unavailable`) when a batch this waited for was refused.
   */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.queue.length > 0 || this.indexing) {
        const indexed = await (this.indexing ?? this.start());
        if (!indexed && this.failure) {
          const f = this.failure;
          throw new StorageUnavailableError(
            'index-unavailable',
            `indexing into the database failed ${f.attempts} time${f.attempts === 1 ? '' : 's'} since ` +
              `${new Date(f.since).toISOString()}: ${f.error.message}`,
            { cause: f.error },
          );
        }
      }
    } finally {
      this.flushing--;
    }
  }

  /** A refused batch not indexed yet, for /api/health. */
  get problem(): StorageProblem | undefined {
    const f = this.failure;
    if (!f) return undefined;
    return {
      code: 'index-failing',
      since: new Date(f.since).toISOString(),
      detail:
        `the database refused an index batch (${f.attempts} attempt${f.attempts === 1 ? '' : 's'}; ` +
        `${this.queue.length} documents waiting, all in the journal): ${f.error.message}; retrying`,
    };
  }

  /** Test hook: makes the next `count` index batches fail with `error`, as a LevelDB write error would. */
  failNextBatches(error: Error, count = 1): void {
    this.injected = { error, count };
  }

  /** Stops the timers (the store closes). */
  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
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

  private start(): Promise<boolean> {
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = undefined;
    this.waitingSince = undefined;
    if (this.indexing) return this.indexing;
    const run = (async () => {
      // Past this await, `this.indexing` is this run even if the first batch fails at once.
      await Promise.resolve();
      let indexed = true;
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const injected = this.injected;
          if (injected && --injected.count <= 0) this.injected = undefined;
          if (injected) throw injected.error;
          await putImmutable(this.db, batch);
          if (this.failure) {
            this.tell(`index: the database takes index batches again (after ${this.failure.attempts} refused)`);
            this.failure = undefined;
          }
        } catch (err) {
          // The batch goes back first in line (writing it again is a no-op for what got in:
          // content revisions) and is retried; the journal has it whatever happens.
          this.queue = [...batch, ...this.queue];
          const error = err instanceof Error ? err : new Error(String(err));
          this.failure = {
            error,
            since: this.failure?.since ?? Date.now(),
            attempts: (this.failure?.attempts ?? 0) + 1,
          };
          this.tell(`index: the database refused a batch of ${batch.length} documents: ${error.message}; retrying`);
          indexed = false;
          break;
        }
        // What arrived meanwhile waits for quiet, unless a reader is waiting for it.
        if (this.flushing === 0 && this.queue.length > 0 && !this.due()) break;
      }
      this.indexing = undefined;
      if (!indexed) this.armRetry();
      else if (this.queue.length > 0) {
        this.waitingSince ??= Date.now();
        this.armTimer();
      }
      return indexed;
    })();
    this.indexing = run;
    return run;
  }

  private armRetry(): void {
    const attempts = this.failure?.attempts ?? 1;
    const pause = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.start(), pause).unref();
  }
}
