/**
 * Resume codes on the appliance (the scheme is specified in domain/resume-codes.ts): the triples
 * an examinee's device keeps, the proctor's "give me the code for this challenge", and the
 * device's report that a code was entered (what makes single use hold on the appliance too).
 *
 * Everything is derived from the exam's resume key, so nothing is stored but the events:
 * 'resume-code-issued' (proctor), 'resume-code-used' and 'resume-challenge-locked' (examinee).
 * A challenge gets a code once; a used or locked challenge gets none. Wrong codes are counted in
 * memory per challenge; the RESUME_WRONG_TRIES-th locks the challenge with an event.
 *
 * The triples cost 8 PBKDF2 runs per examinee. They run on libuv's threadpool (node:crypto), at
 * most `concurrency` at a time so file I/O (journal fsync, blobs), which shares that pool, never
 * waits behind them; an examinee's request goes ahead of background preparation (`prepare`).
 */
import { pbkdf2 } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { constantTimeEqualHex } from '../../domain/access-code.js';
import { refuse, type Result } from '../../domain/errors.js';
import {
  challengeFor,
  deriveResumeKey,
  findChallenge,
  formatChallenge,
  formatResumeCode,
  parseResumeCode,
  RESUME_CHALLENGES_PER_EXAMINEE,
  RESUME_PBKDF2_ITERATIONS,
  RESUME_WRONG_TRIES,
  resumeCodeFor,
  tripleFor,
  type Pbkdf2Sha256,
  type ResumeTriple,
} from '../../domain/resume-codes.js';
import type { HallStore } from './store/hall-store.js';

/** The service's outcomes: values or refusals with the shared codes. */
export type ResumeResult<T> = Result<T>;
const resumeRefusal = refuse;

export interface ResumeCodesOptions {
  /** PBKDF2 runs at once; libuv's pool has 4 threads (UV_THREADPOOL_SIZE) shared with file I/O. */
  concurrency?: number;
  /** PBKDF2 iterations of new triples. */
  iterations?: number;
  /** PBKDF2-HMAC-SHA256; node:crypto's (threadpool) by default. */
  pbkdf2?: Pbkdf2Sha256;
  /**
   * PBKDF2 for background preparation only (`prepare`), outside the queue, e.g.
   * idlePriorityPbkdf2Sha256(): then preparing a hall's triples never takes a core from serving it.
   * Without it, background jobs share the queue (and `pbkdf2`) behind urgent ones.
   */
  backgroundPbkdf2?: Pbkdf2Sha256;
}

/** node:crypto's PBKDF2 (runs on the threadpool, off the event loop). */
export const nodePbkdf2Sha256: Pbkdf2Sha256 = (password, salt, iterations, length) =>
  new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, 'sha256', (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength)),
    );
  });

/**
 * The worker of idlePriorityPbkdf2Sha256 (plain JavaScript, evaluated): it moves its own thread
 * to Linux's SCHED_IDLE policy with util-linux's chrt (on Linux a thread id is a pid to
 * sched_setscheduler, so only this thread changes; /proc/thread-self names it), falling back to
 * nice 19, tells the parent which it got, and then runs the PBKDF2 job it is sent, synchronously.
 *
 * Nice 19 alone is not idle: bench:hall measured the 1,000-examinee submission storm at 0.41–0.61
 * of the baseline with a nice-19 worker busy and 0.74 with none (likely: the scheduler, EEVDF,
 * may let a running nice-19 thread finish its slice before a woken request thread gets the core;
 * a SCHED_IDLE thread is preempted at once). SCHED_IDLE alone still measured 0.61: the worker used
 * the cores between a storm's fsyncs. Hence ForegroundLoad too.
 */
const IDLE_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { pbkdf2Sync } = require('node:crypto');
const { setPriority } = require('node:os');
const { execFileSync } = require('node:child_process');
const { readlinkSync } = require('node:fs');
const priority = { policy: 'normal' };
try { priority.tid = Number(readlinkSync('/proc/thread-self').split('/').pop()) || undefined; } catch {}
try { setPriority(0, 19); priority.policy = 'nice-19'; } catch {}
try {
  if (priority.tid === undefined) throw new Error('no /proc/thread-self');
  execFileSync('chrt', ['--idle', '--pid', '0', String(priority.tid)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000 });
  priority.policy = 'idle';
} catch (err) {
  priority.reason = String((err && err.stderr && String(err.stderr).trim()) || (err && err.message) || err);
}
parentPort.postMessage({ priority });
const threadCpuMs = () => {
  if (typeof process.threadCpuUsage !== 'function') return undefined;
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
parentPort.on('message', ({ password, salt, iterations, length }) => {
  try {
    const cpu0 = threadCpuMs();
    const key = pbkdf2Sync(password, salt, iterations, length, 'sha256');
    const cpu1 = threadCpuMs();
    parentPort.postMessage({ key, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 });
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
});
`;

/** The CPU priority the background worker got. */
export interface WorkerPriority {
  /** 'idle': SCHED_IDLE (runs only on CPU nothing else wants); 'nice-19': lowest normal priority. */
  policy: 'idle' | 'nice-19' | 'normal';
  /** The worker thread's Linux thread id, when known. */
  tid?: number;
  /** Why SCHED_IDLE could not be set. */
  reason?: string;
}

export interface IdlePriorityOptions {
  onPriority?: (priority: WorkerPriority) => void;
  /** Resolves when background work may run (ForegroundLoad: no storm in progress). */
  whenQuiet?: () => Promise<void>;
  /**
   * The process's CPU quota in cores (cpuQuotaCores(), e.g. 0.3), if it has one. Then, unless
   * `isIdle()`, the worker keeps to SERVED_QUOTA_SHARE of it: after a job of c ms of CPU it
   * rests until c / (quota × share) ms have passed since the job began. Without it a busy worker
   * spends the quota while serving sleeps, and the whole process then waits for the next CFS
   * period (bench:hall --pi-budget: autosave p99 477 ms at 30 % of a core; docs/performance.md).
   */
  cpuQuota?: number;
  /** Nobody is being served (no request for a while): the worker may use the whole quota. */
  isIdle?: () => boolean;
  /** The clock, ms, and the wait (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The share of a CPU quota the resume-code worker uses while the hall is served. Half left the
 * autosave p99 over 250 ms in 2 of 5 Pi-budget runs: a job (~17 ms of CPU) takes more than half
 * of a 30 ms period's quota, at half the quota one began in nearly every period, and a burst of
 * requests in such a period waits for the next one (docs/performance.md, The Pi's budget).
 */
export const SERVED_QUOTA_SHARE = 0.25;

/**
 * PBKDF2-HMAC-SHA256 in one worker thread at idle CPU priority (SCHED_IDLE, else nice 19): it
 * uses only the CPU that serving the hall leaves idle, and never occupies libuv's threadpool,
 * which the journal's fsync and the blob files need during a storm. Jobs go to the worker one at
 * a time, each only once `whenQuiet` resolves (ForegroundLoad: no storm in progress), and under a
 * CPU quota at most SERVED_QUOTA_SHARE of it while the hall is served (`cpuQuota`). The worker is started
 * on first use and does not keep the process alive; `onPriority` hears which priority it got.
 */
export function idlePriorityPbkdf2Sha256(options: IdlePriorityOptions = {}): Pbkdf2Sha256 {
  interface Job {
    message: { password: Uint8Array; salt: Uint8Array; iterations: number; length: number };
    resolve: (key: Uint8Array) => void;
    reject: (err: Error) => void;
  }
  let worker: Worker | undefined;
  const waiting: Job[] = [];
  let running: Job | undefined;
  let pumping = false;
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref()));
  /** When the running job was sent; the next job not before `restUntil`. */
  let sentAt = 0;
  let restUntil = 0;
  const finish = (outcome: { key: Uint8Array } | { error: Error }, cpuMs?: number) => {
    const job = running;
    running = undefined;
    if (options.cpuQuota !== undefined && options.cpuQuota > 0) {
      const used = cpuMs ?? now() - sentAt;
      restUntil = sentAt + used / (options.cpuQuota * SERVED_QUOTA_SHARE);
    }
    if ('key' in outcome) job?.resolve(outcome.key);
    else job?.reject(outcome.error);
    void pump();
  };
  const start = (): Worker => {
    const w = new Worker(IDLE_WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { key?: Uint8Array; error?: string; priority?: WorkerPriority; cpuMs?: number }) => {
      if (m.priority) options.onPriority?.(m.priority);
      else if (m.key) finish({ key: new Uint8Array(m.key.buffer, m.key.byteOffset, m.key.byteLength) }, m.cpuMs);
      else finish({ error: new Error(m.error ?? 'pbkdf2 failed') });
    });
    w.on('error', (err) => {
      worker = undefined;
      finish({ error: err });
    });
    return w;
  };
  /** Sends the next job once the hall is quiet; one job at a time. */
  const pump = async () => {
    if (pumping || running) return;
    pumping = true;
    try {
      while (waiting.length > 0 && !running) {
        await options.whenQuiet?.();
        const rest = restUntil - now();
        if (rest > 0 && !(options.isIdle?.() ?? false)) {
          await sleep(rest);
          continue;
        }
        const job = waiting.shift()!;
        running = job;
        sentAt = now();
        worker ??= start();
        worker.postMessage(job.message);
      }
    } finally {
      pumping = false;
    }
  };
  return (password, salt, iterations, length) =>
    new Promise((resolve, reject) => {
      waiting.push({ message: { password, salt, iterations, length }, resolve, reject });
      void pump();
    });
}

export class ResumeCodes {
  private readonly resumeKeys = new Map<string, Uint8Array>();
  /** `${examId}|${studentId}` → the examinee's triples (shared by concurrent requests). */
  private readonly tripleCache = new Map<string, Promise<ResumeTriple[]>>();
  /** `${examId}|${studentId}|${challenge}` → wrong codes so far (memory only: a restart forgives). */
  private readonly wrongTries = new Map<string, number>();
  private readonly queue: Pbkdf2Queue;
  private readonly iterations: number;
  private readonly pbkdf2: Pbkdf2Sha256;
  private readonly backgroundPbkdf2: Pbkdf2Sha256 | undefined;

  constructor(
    private readonly store: HallStore,
    options: ResumeCodesOptions = {},
  ) {
    this.queue = new Pbkdf2Queue(options.concurrency ?? 2);
    this.iterations = options.iterations ?? RESUME_PBKDF2_ITERATIONS;
    this.pbkdf2 = options.pbkdf2 ?? nodePbkdf2Sha256;
    this.backgroundPbkdf2 = options.backgroundPbkdf2;
  }

  /**
   * The examinee's triples for their device, and the challenges already spent (used or locked).
   * Computed once per examinee and kept in memory.
   */
  async triples(
    examId: string,
    studentId: string,
  ): Promise<ResumeResult<{ triples: ResumeTriple[]; spent: string[] }>> {
    const found = this.examinee(examId, studentId);
    if (!found.ok) return found;
    const triples = await this.compute(examId, studentId, true);
    const state = found.state;
    return { ok: true, triples, spent: [...new Set([...state.resumeChallengesUsed, ...state.resumeChallengesLocked])] };
  }

  /**
   * Makes every examinee's triples ahead of need, one examinee at a time, behind examinees'
   * own requests (call it when an exam is imported or the appliance starts). Resolves once every
   * examinee's triples are ready, including those an examinee's own request was making.
   * @returns the examinees of the exam, and how many of their triples this call made
   */
  async prepare(examId: string): Promise<{ examinees: number; made: number }> {
    const exam = this.store.projection.exams.get(examId);
    if (!exam) return { examinees: 0, made: 0 };
    let made = 0;
    let examinees = 0;
    const already: Promise<ResumeTriple[]>[] = [];
    for (const [studentId, entry] of [...exam.examinees]) {
      if (!entry.doc) continue;
      examinees++;
      const cached = this.tripleCache.get(`${examId}|${studentId}`);
      if (cached) {
        already.push(cached);
        continue;
      }
      await this.compute(examId, studentId, false);
      made++;
    }
    await Promise.all(already);
    return { examinees, made };
  }

  /**
   * A proctor asks for the resume code of a challenge the examinee's device shows. Refused, and
   * nothing recorded, when the challenge is not one of this examinee's for this exam, or a code
   * was already given for it, or it was used or locked.
   */
  async issue(
    examId: string,
    studentId: string,
    challengeText: string,
    proctorUsername: string,
  ): Promise<ResumeResult<{ challenge: string; resumeCode: string }>> {
    const found = this.challenge(examId, studentId, challengeText);
    if (!found.ok) return found;
    // From here to record() nothing awaits: two proctors asking at once get one code.
    const { challenge } = found;
    const spent = this.spentRefusal(examId, studentId, challenge);
    if (spent) return spent;
    if (this.store.projection.examinee(examId, studentId)?.state.resumeChallengesIssued.includes(challenge)) {
      return resumeRefusal(
        'resume-challenge-issued',
        `a code was already given for ${formatChallenge(challenge)}: the examinee's device offers the next challenge`,
      );
    }
    await this.store.record(examId, [
      {
        kind: 'resume-code-issued',
        actor: { role: 'proctor', username: proctorUsername },
        studentId,
        data: { challenge },
      },
    ]).durable;
    return {
      ok: true,
      challenge: formatChallenge(challenge),
      resumeCode: formatResumeCode(resumeCodeFor(this.resumeKey(examId), examId, studentId, challenge)),
    };
  }

  /**
   * The examinee's device reports a resume code typed for a challenge. Right: recorded as used,
   * once. Wrong: counted; the RESUME_WRONG_TRIES-th wrong code locks the challenge for good.
   */
  async redeem(
    examId: string,
    studentId: string,
    challengeText: string,
    typedCode: string,
  ): Promise<ResumeResult<{ challenge: string }>> {
    const found = this.challenge(examId, studentId, challengeText);
    if (!found.ok) return found;
    const { challenge } = found;
    const typed = parseResumeCode(typedCode);
    if (typed === undefined) {
      return refuse('validation-failed', 'a resume code is 10 characters of 0-9 and A-Z without I, L, O, U');
    }
    // No await between the checks and record(): concurrent reports cannot both use a code.
    const spent = this.spentRefusal(examId, studentId, challenge);
    if (spent) return spent;
    const actor = { role: 'examinee' as const, studentId };
    const triesKey = `${examId}|${studentId}|${challenge}`;
    const expected = resumeCodeFor(this.resumeKey(examId), examId, studentId, challenge);
    if (constantTimeEqualHex(typed, expected)) {
      this.wrongTries.delete(triesKey);
      await this.store.record(examId, [{ kind: 'resume-code-used', actor, studentId, data: { challenge } }]).durable;
      return { ok: true, challenge: formatChallenge(challenge) };
    }
    const tries = (this.wrongTries.get(triesKey) ?? 0) + 1;
    if (tries < RESUME_WRONG_TRIES) {
      this.wrongTries.set(triesKey, tries);
      return resumeRefusal('resume-code-wrong', `${RESUME_WRONG_TRIES - tries} tries left for this challenge`);
    }
    this.wrongTries.delete(triesKey);
    await this.store.record(examId, [{ kind: 'resume-challenge-locked', actor, studentId, data: { challenge } }])
      .durable;
    return resumeRefusal('resume-challenge-locked', `${RESUME_WRONG_TRIES} wrong codes`);
  }

  // ---- internals ----

  private resumeKey(examId: string): Uint8Array {
    let key = this.resumeKeys.get(examId);
    if (!key) {
      key = deriveResumeKey(Buffer.from(this.store.secrets.value.sessionKey, 'base64'), examId);
      this.resumeKeys.set(examId, key);
    }
    return key;
  }

  private examinee(examId: string, studentId: string) {
    if (!this.store.projection.exams.has(examId)) return refuse('exam-not-found');
    const entry = this.store.projection.examinee(examId, studentId);
    if (!entry) return refuse('examinee-not-found');
    return { ok: true as const, state: entry.state };
  }

  /** The examinee's challenge in typed text, or a refusal. */
  private challenge(
    examId: string,
    studentId: string,
    challengeText: string,
  ): ResumeResult<{ challenge: string; index: number }> {
    const found = this.examinee(examId, studentId);
    if (!found.ok) return found;
    const index = findChallenge(this.resumeKey(examId), examId, studentId, challengeText);
    if (index === undefined) {
      return resumeRefusal('resume-challenge-unknown', 'check the challenge on the examinee’s screen, e.g. K7QH-3M9P');
    }
    return { ok: true, challenge: challengeFor(this.resumeKey(examId), examId, studentId, index), index };
  }

  /** Used or locked: read from the examinee's state (the projection of the event log). */
  private spentRefusal(examId: string, studentId: string, challenge: string) {
    const state = this.store.projection.examinee(examId, studentId)?.state;
    if (state?.resumeChallengesLocked.includes(challenge)) return resumeRefusal('resume-challenge-locked');
    if (state?.resumeChallengesUsed.includes(challenge)) return resumeRefusal('resume-challenge-used');
    return undefined;
  }

  private compute(examId: string, studentId: string, urgent: boolean): Promise<ResumeTriple[]> {
    const key = `${examId}|${studentId}`;
    const cached = this.tripleCache.get(key);
    if (cached) return cached;
    const resumeKey = this.resumeKey(examId);
    const background = this.backgroundPbkdf2;
    const made = Promise.all(
      Array.from({ length: RESUME_CHALLENGES_PER_EXAMINEE }, (_, i) =>
        !urgent && background
          ? tripleFor(resumeKey, examId, studentId, i, background, this.iterations)
          : this.queue.run(() => tripleFor(resumeKey, examId, studentId, i, this.pbkdf2, this.iterations), urgent),
      ),
    );
    this.tripleCache.set(key, made);
    // A failure (it should not happen) is not cached: the next request tries again.
    made.catch(() => {
      if (this.tripleCache.get(key) === made) this.tripleCache.delete(key);
    });
    return made;
  }
}

/** Runs PBKDF2 jobs at most `concurrency` at a time; urgent jobs go before background ones. */
class Pbkdf2Queue {
  private running = 0;
  private readonly urgent: (() => void)[] = [];
  private readonly background: (() => void)[] = [];

  constructor(private readonly concurrency: number) {}

  run<T>(job: () => Promise<T>, urgent: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (urgent ? this.urgent : this.background).push(() => {
        this.running++;
        job()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.next();
          });
      });
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency) {
      const start = this.urgent.shift() ?? this.background.shift();
      if (!start) return;
      start();
    }
  }
}
