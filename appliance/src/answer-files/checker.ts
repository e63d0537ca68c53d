/**
 * Where answer files are checked (./check.ts). In the appliance, on worker threads: in a storm of
 * 1,000 answer files at time-up, decoding, parsing and the canonical check are most of the CPU
 * each submission costs, and their large strings are most of the garbage. On a worker they use
 * the other core, and a worker's small heap is collected often (its limit), so the storm's
 * garbage does not pile up in the serving thread's heap (docs/performance.md).
 *
 * Files larger than a worker takes, and jobs of a worker that failed (it is started again on the
 * next job), are checked on the main thread, a few at a time. Tests use the in-thread checker.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConcurrencyLimit } from '../keyed-lock.js';
import { hashAndCheckAnswerFile, type CheckedAnswerFile } from './check.js';
import type { ExamForCheck } from './summary.js';
import type { CheckJob, CheckReply } from './worker.js';

export interface AnswerFileToCheck {
  /** The received file (a temp file, complete and closed). */
  path: string;
  size: number;
  exam: ExamForCheck;
  studentId: string;
}

export interface AnswerFileChecker {
  /** Hashes (SHA-256) and checks a received answer file. */
  check(file: AnswerFileToCheck): Promise<CheckedAnswerFile>;
  /** Stops the workers (the process also exits without this: they do not keep it alive). */
  close(): Promise<void>;
}

/**
 * Checks on the calling thread, at most two files at a time: each holds the whole file and a few
 * copies of it in memory while it is checked.
 */
export function inThreadAnswerFileChecker(): AnswerFileChecker {
  const limit = new ConcurrencyLimit(2);
  return {
    check: (file) =>
      limit.run(async () => {
        const bytes = await readFile(file.path);
        return hashAndCheckAnswerFile(bytes, file.exam, file.studentId);
      }),
    close: () => Promise.resolve(),
  };
}

export interface WorkerCheckerOptions {
  /** Worker threads (default: the cores but one, at least one, at most four). */
  workers?: number;
  /** Larger files are checked on the main thread (default 2 MiB: a full check fits the heap). */
  maxWorkerFileBytes?: number;
  /** The old-generation heap limit of each worker (default 32 MB, at least MIN_WORKER_HEAP_MB). */
  heapMb?: number;
  /** Told when a worker fails; its jobs are then checked on the main thread. */
  onWorkerError?: (err: Error) => void;
}

/** One worker thread and the jobs it has been sent. */
interface CheckWorker {
  worker: Worker;
  /** Exam keys this worker has been sent. */
  exams: Set<number>;
  pending: Map<
    number,
    { file: AnswerFileToCheck; resolve: (v: CheckedAnswerFile | Promise<CheckedAnswerFile>) => void }
  >;
  failed: boolean;
}

/**
 * Below about 3 MB, Node 24's V8 cannot even deserialize a worker's start-up snapshot, and that
 * is a fatal out-of-memory of the whole process, not a worker error the checker could survive.
 * A smaller limit is raised to this one.
 */
export const MIN_WORKER_HEAP_MB = 4;

export class WorkerAnswerFileChecker implements AnswerFileChecker {
  private readonly slots: (CheckWorker | undefined)[];
  private readonly fallback = inThreadAnswerFileChecker();
  private readonly examKeys = new WeakMap<ExamForCheck, number>();
  private nextExamKey = 1;
  private nextJobId = 1;
  private readonly maxWorkerFileBytes: number;
  private readonly heapMb: number;

  constructor(private readonly options: WorkerCheckerOptions = {}) {
    const workers = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    this.maxWorkerFileBytes = options.maxWorkerFileBytes ?? 2 * 1024 * 1024;
    this.heapMb = Math.max(MIN_WORKER_HEAP_MB, options.heapMb ?? 32);
    // Started now, so that the first storm does not wait for them.
    this.slots = Array.from({ length: workers }, () => this.start());
  }

  check(file: AnswerFileToCheck): Promise<CheckedAnswerFile> {
    if (file.size > this.maxWorkerFileBytes) return this.fallback.check(file);
    const index = this.leastBusy();
    let w = this.slots[index];
    if (!w || w.failed) w = this.slots[index] = this.start();
    const id = this.nextJobId++;
    const examKey = this.examKey(file.exam);
    const job: CheckJob = { id, examKey, path: file.path, size: file.size, studentId: file.studentId };
    if (!w.exams.has(examKey)) {
      job.exam = { examId: file.exam.examId, sections: file.exam.sections };
      w.exams.add(examKey);
    }
    const worker = w;
    return new Promise((resolve) => {
      worker.pending.set(id, { file, resolve });
      worker.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const workers = this.slots.filter((w): w is CheckWorker => w !== undefined);
    this.slots.fill(undefined);
    for (const w of workers) this.fail(w, undefined);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private leastBusy(): number {
    let best = 0;
    for (let i = 1; i < this.slots.length; i++) {
      if ((this.slots[i]?.pending.size ?? 0) < (this.slots[best]?.pending.size ?? 0)) best = i;
    }
    return best;
  }

  private examKey(exam: ExamForCheck): number {
    let key = this.examKeys.get(exam);
    if (key === undefined) {
      key = this.nextExamKey++;
      this.examKeys.set(exam, key);
    }
    return key;
  }

  private start(): CheckWorker {
    const worker = spawnWorker(this.heapMb);
    worker.unref();
    const w: CheckWorker = { worker, exams: new Set(), pending: new Map(), failed: false };
    worker.on('message', (reply: CheckReply) => {
      const job = w.pending.get(reply.id);
      if (!job) return;
      w.pending.delete(reply.id);
      if ('checked' in reply) job.resolve(reply.checked);
      else {
        this.options.onWorkerError?.(new Error(`answer-file worker: ${reply.error}`));
        job.resolve(this.fallback.check(job.file));
      }
    });
    worker.on('error', (err) => this.fail(w, err));
    worker.on('exit', (code) => this.fail(w, new Error(`answer-file worker exited with code ${code}`)));
    return w;
  }

  /** A worker that failed or stopped: its jobs are checked on the main thread. */
  private fail(w: CheckWorker, err: Error | undefined): void {
    if (w.failed) return;
    w.failed = true;
    if (err && w.pending.size > 0) this.options.onWorkerError?.(err);
    for (const job of w.pending.values()) job.resolve(this.fallback.check(job.file));
    w.pending.clear();
  }
}

/**
 * The built appliance (appliance/dist, one bundle) runs the bundled worker next to it; the
 * TypeScript sources (npm test, tsx) run ./worker.ts through tsx, registered in the worker.
 */
function spawnWorker(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 8 };
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./answer-file-worker.js', import.meta.url), { resourceLimits });
  }
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const source = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(source, { eval: true, resourceLimits });
}
