/**
 * `npm run bench:monitor`: how long the appliance takes to start and rebuild the live monitor of
 * a big exam, and how much memory that takes.
 *
 * 1. Builds a data folder in a temp dir through the real store API, as an exam day would leave
 *    it: the demo exam (examples/exam-demo.json) with a roster of 1,000 examinees, 50,000 events
 *    (sign-in, downloads, verification, start, presence, integrity, messages, bathroom breaks,
 *    extensions, resume codes, file uploads, submissions with their documents, receipts and
 *    answer-file blobs, exam-wide proctor actions and announcements), each recorded with
 *    HallStore.record as the appliance does (journal fsynced, then indexed into PouchDB), and a
 *    draft per examinee via HallStore.saveDraft (saved three times, as autosaves are).
 * 2. Measures, in fresh child processes (scripts/bench-monitor-child.ts):
 *    - a baseline of the raw cost of the same data: one allDocs over every event document of the
 *      same LevelDB (and, for reference, reading and parsing the whole journal);
 *    - cold starts: HallStore.open + createServices + monitor.rows + monitor.examInfo, the time
 *      (rebuildMs), RSS after it and peak RSS; then a normal shutdown;
 *    - one start after a crash (the previous process exited without closing anything).
 * 3. Checks that every start loaded 1,000 rows and 50,000 events (and the other counts the
 *    generator wrote), and exits 1 otherwise: a bench that silently does nothing is a defect.
 *
 * Prints readable lines, and as its last line one JSON object with rebuildMs (median of the cold
 * starts), rssMB, peakRssMB, baselineMs, ratio = rebuildMs / baselineMs, and every run.
 *
 * Options: --examinees N (1000) --events N (50000) --runs N (3) --seed N (1)
 *          --data DIR (reuse a folder an earlier run kept; skips generation) --keep (keep the folder)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  answeredCount,
  canonicalAnswerFile,
  examQuestions,
  gradeClosedQuestions,
  serialiseAnswerFile,
  type AnswerFile,
  type AnswerValue,
} from '../domain/answers.js';
import { FakeClock, MINUTE } from '../domain/clock.js';
import { SCHEMA_VERSION, generateAccessCode, rosterEntrySchema, type ExamDoc } from '../domain/exam-format.js';
import { INTEGRITY_EVENT_TYPES, type NewEvent } from '../domain/events.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../domain/exam-import.js';
import { HallStore, submissionDocId, type SubmissionDoc } from '../appliance/src/store/hall-store.js';
import { seededRandom } from '../domain/seeded-random.js';

/**
 * The V8 flags `npm start` runs the appliance with (package.json "start"): a small young
 * generation keeps a 1 GB Pi's memory for data rather than for garbage waiting to be scavenged.
 * The measured child runs with the same flags, so the figure is the appliance's.
 */
const APPLIANCE_NODE_FLAGS = ['--max-semi-space-size=8'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = path.join(ROOT, 'scripts', 'bench-monitor-child.ts');
const HALL_ID = 'bench-hall';
const SECOND = 1_000;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  examinees: number;
  events: number;
  runs: number;
  seed: number;
  data: string | undefined;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { examinees: 1_000, events: 50_000, runs: 3, seed: 1, data: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      return n;
    };
    if (a === '--examinees') o.examinees = int();
    else if (a === '--events') o.events = int();
    else if (a === '--runs') o.runs = int();
    else if (a === '--seed') o.seed = int();
    else if (a === '--data') o.data = path.resolve(value());
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// A seeded random source, so every run builds the same exam day.

class Rng {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Math.floor(this.next() * 256));
  }
  hex(n: number): string {
    return Array.from(this.bytes(n), (b) => b.toString(16).padStart(2, '0')).join('');
  }
}

// ---------------------------------------------------------------------------------------------
// The exam day plan

interface PlannedEvent {
  at: number;
  /** Insertion order, to keep events of equal time in a sensible order. */
  order: number;
  event: NewEvent;
  /** A submission-accepted event: its answer file (the blob) and number. */
  submission?: { n: number; bytes: Buffer; answers: AnswerFile['answers']; type: 'manual' | 'automatic' };
  /** A file-uploaded event's file content. */
  fileBytes?: Buffer;
}

interface Plan {
  exam: ExamDoc;
  roster: ReturnType<typeof rosterEntrySchema.parse>[];
  events: PlannedEvent[];
  drafts: { studentId: string; saves: { at: number; answers: AnswerFile['answers'] }[] }[];
  /** What a start must find. */
  expected: {
    examinees: number;
    events: number;
    downloads: number;
    uploads: number;
    receipts: number;
    drafts: number;
    integrityEvents: number;
  };
  now: number;
}

const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Katherine', 'Niklaus'];
const LAST_NAMES = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Backus',
  'Johnson',
  'Wirth',
];
const QUESTIONS = [
  'Is a calculator allowed?',
  'Question 6: may the answer be rounded?',
  'My screen froze for a moment, is my answer saved?',
  'Can I go to the bathroom?',
];

/** An answer for each question, as a student would give (some left empty). */
function answersFor(
  exam: ExamDoc,
  rng: Rng,
  share: number,
  file: { sha256: string; name: string; size: number } | undefined,
) {
  const answers: Record<string, AnswerValue> = {};
  for (const q of examQuestions(exam)) {
    if (!rng.chance(share)) continue;
    switch (q.type) {
      case 'single-choice':
        answers[q.id] = rng.pick(q.options).id;
        break;
      case 'multiple-choice':
        answers[q.id] = q.options.filter(() => rng.chance(0.5)).map((o) => o.id);
        break;
      case 'true-false':
        answers[q.id] = rng.chance(0.5);
        break;
      case 'numeric':
        answers[q.id] = Math.round(rng.next() * 1000) / 10;
        break;
      case 'short-text':
        answers[q.id] = rng.pick(["Newton's third law", 'joule', 'inertia', 'watt']);
        break;
      case 'essay':
        answers[q.id] = 'Momentum is conserved because '.repeat(rng.int(5, 60));
        break;
      case 'file':
        if (file) answers[q.id] = [file];
        break;
    }
  }
  return answers;
}

function planExamDay(exam: ExamDoc, o: Options): Plan {
  const rng = new Rng(seededRandom(o.seed));
  const t0 = Date.parse(exam.scheduledStart);
  const windowCloses = Date.parse(exam.downloadWindow.closes);
  const examExtra = 5;
  const events: PlannedEvent[] = [];
  let order = 0;
  const add = (at: number, event: NewEvent, extra: Partial<PlannedEvent> = {}) =>
    events.push({ at: Math.round(at), order: order++, event, ...extra });
  const examinee = (studentId: string) => ({ role: 'examinee' as const, studentId });
  const proctor = () => ({ role: 'proctor' as const, username: rng.pick(['chief', 'invi']) });
  const system = { role: 'system' as const };

  const roster = Array.from({ length: o.examinees }, (_, i) =>
    rosterEntrySchema.parse({
      studentId: `S${String(i + 1).padStart(5, '0')}`,
      name: `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)} ${i + 1}`,
      ...(rng.chance(0.8) ? { email: `student${i + 1}@example.org` } : {}),
      ...(rng.chance(0.5) ? { phone: `+44 20 7946 ${String(i).padStart(4, '0')}` } : {}),
      accommodationPercent: rng.chance(0.05) ? rng.pick([25, 50]) : 0,
      accessCode: generateAccessCode((n) => rng.bytes(n)),
      seat: `R${Math.floor(i / 40) + 1}-${(i % 40) + 1}`,
    }),
  );

  // Exam-wide proctor actions and announcements.
  add(t0 - 20 * MINUTE, { kind: 'late-login-limit-set', actor: proctor(), data: { minutes: 20 } });
  add(t0 - 15 * MINUTE, { kind: 'hardware-checks-set', actor: proctor(), data: { disabled: ['multiple-screens'] } });
  add(t0 + 30 * MINUTE, { kind: 'exam-extension-set', actor: proctor(), data: { minutes: examExtra } });
  for (let i = 0; i < 30; i++) {
    const text = `Announcement ${i + 1}: ${rng.pick(['30 minutes left', 'Question 7 uses g = 9.81', 'Stay seated'])}`;
    add(t0 + rng.int(-10, 60) * MINUTE, {
      kind: 'message-sent',
      actor: proctor(),
      data: { messageId: rng.hex(16), audience: 'all', text },
    });
  }

  // Each examinee's own day; the activity (presence, integrity, messages ...) is filled in below.
  interface Active {
    studentId: string;
    from: number;
    until: number;
    weight: number;
  }
  const active: Active[] = [];
  const drafts: Plan['drafts'] = [];
  let downloads = 0;
  let uploads = 0;
  let receipts = 0;
  for (const entry of roster) {
    const studentId = entry.studentId;
    const actor = examinee(studentId);
    const late = rng.chance(0.03);
    const signIn = late ? t0 + rng.int(1, 12 * 60) * SECOND : t0 - rng.int(60, 50 * 60) * SECOND;
    add(signIn, {
      kind: 'examinee-signed-in',
      actor,
      studentId,
      data: { deviceId: `device-${rng.hex(8)}`, sessionNo: 1 },
    });
    const download1 = signIn + rng.int(5, 60) * SECOND;
    add(download1, {
      kind: 'package-downloaded',
      actor,
      studentId,
      data: { downloadNo: 1, packageVersion: exam.version },
    });
    downloads++;
    if (rng.chance(0.25)) {
      const download2 = Math.min(download1 + rng.int(60, 20 * 60) * SECOND, windowCloses - SECOND);
      add(Math.max(download2, download1 + SECOND), {
        kind: 'package-downloaded',
        actor,
        studentId,
        data: { downloadNo: 2, packageVersion: exam.version },
      });
      downloads++;
    }
    add(signIn + rng.int(60, 10 * 60) * SECOND, {
      kind: 'verification-decided',
      actor: proctor(),
      studentId,
      data: { decision: 'verified' },
    });
    const started = Math.max(t0, download1) + rng.int(1, 20) * SECOND;
    add(started, { kind: 'exam-started', actor, studentId, data: { via: 'key-released' } });
    const deadline = t0 + (exam.durationMinutes * (1 + entry.accommodationPercent / 100) + examExtra) * MINUTE;

    let until = deadline;
    let answers: AnswerFile['answers'] = {};
    const file = rng.chance(0.3)
      ? {
          bytes: Buffer.from(`%PDF-1.4 lab report of ${studentId} ${rng.hex(64)}`),
          at: started + rng.int(10, 30) * MINUTE,
        }
      : undefined;
    const fileRef = file ? { sha256: sha256(file.bytes), name: 'report.pdf', size: file.bytes.length } : undefined;
    if (file && fileRef) {
      add(
        file.at,
        {
          kind: 'file-uploaded',
          actor,
          studentId,
          data: { questionId: 'q11-worked-problem', sha256: fileRef.sha256, size: fileRef.size, name: fileRef.name },
        },
        { fileBytes: file.bytes },
      );
    }
    if (rng.chance(0.005)) {
      // Rejected at a later look at the photo/id: no submission.
      until = started + rng.int(10, 40) * MINUTE;
      add(until, { kind: 'verification-decided', actor: proctor(), studentId, data: { decision: 'rejected' } });
      answers = answersFor(exam, rng, 0.3, undefined);
    } else if (rng.chance(0.985)) {
      const automatic = rng.chance(0.05);
      const submitted = automatic ? deadline : Math.min(deadline, t0 + rng.int(35 * 60, 60 * 60) * SECOND);
      until = submitted;
      answers = answersFor(exam, rng, 0.9, file && fileRef && file.at < submitted ? fileRef : undefined);
      const submissions = rng.chance(0.02) ? 2 : 1;
      for (let n = 1; n <= submissions; n++) {
        const bytes = Buffer.from(
          serialiseAnswerFile({ format: 'answers/v1', examId: exam.examId, studentId, answers, flagged: [] }),
        );
        const at = n === 1 ? submitted - (submissions - 1) * 2 * MINUTE : submitted;
        add(
          at,
          {
            kind: 'submission-accepted',
            actor,
            studentId,
            data: {
              submissionId: submissionDocId(exam.examId, studentId, n),
              n,
              sha256: sha256(bytes),
              size: bytes.length,
              submissionType: automatic ? 'automatic' : 'manual',
              late: false,
            },
          },
          { submission: { n, bytes, answers, type: automatic ? 'automatic' : 'manual' } },
        );
        receipts++;
      }
      uploads++;
    } else {
      // Still writing, or gone quiet, when the proctor looks at the monitor.
      answers = answersFor(exam, rng, 0.6, undefined);
    }
    // Three autosaves, the last one at most 15 s before the end.
    const saves = [0.3, 0.7, 1].map((share) => ({
      at: started + Math.round((until - started - 15 * SECOND) * share),
      answers: Object.fromEntries(Object.entries(answers).filter((_, i, all) => i < Math.ceil(all.length * share))),
    }));
    drafts.push({ studentId, saves });
    active.push({
      studentId,
      from: started + SECOND,
      until: until - SECOND,
      weight: -Math.log(1 - rng.next()),
    });
  }

  // Fill the rest of the 50,000 with activity, spread unevenly: most examinees have a few dozen
  // events, some many more (a flaky laptop, a restless examinee).
  const budget = o.events - events.length;
  if (budget < 0) throw new Error(`${o.events} events are fewer than the ${events.length} every exam day needs`);
  const totalWeight = active.reduce((a, x) => a + x.weight, 0);
  const shares = active.map((x) => Math.floor((budget * x.weight) / totalWeight));
  for (let left = budget - shares.reduce((a, b) => a + b, 0), i = 0; left > 0; left--, i++) {
    shares[i % shares.length]! += 1;
  }
  let integrityEvents = 0;
  active.forEach((x, i) => {
    let left = shares[i] ?? 0;
    const studentId = x.studentId;
    const actor = examinee(studentId);
    const at = () => rng.int(x.from, x.until);
    while (left > 0) {
      const r = rng.next();
      if (r < 0.4 && left >= 2) {
        const off = at();
        add(off, { kind: 'presence-changed', actor: system, studentId, data: { connected: false } });
        add(Math.min(off + rng.int(5, 90) * SECOND, x.until), {
          kind: 'presence-changed',
          actor: system,
          studentId,
          data: { connected: true },
        });
        left -= 2;
      } else if (r < 0.48 && left >= 2) {
        const asked = at();
        add(asked, {
          kind: 'message-sent',
          actor,
          studentId,
          data: { messageId: rng.hex(16), audience: 'proctors', text: rng.pick(QUESTIONS) },
        });
        add(asked + rng.int(20, 120) * SECOND, {
          kind: 'message-sent',
          actor: proctor(),
          studentId,
          data: { messageId: rng.hex(16), audience: 'examinee', text: 'Yes, carry on.' },
        });
        left -= 2;
      } else if (r < 0.52 && left >= 3) {
        const asked = at();
        add(asked, { kind: 'bathroom-break-requested', actor, studentId, data: {} });
        add(asked + rng.int(10, 60) * SECOND, {
          kind: 'bathroom-break-decided',
          actor: proctor(),
          studentId,
          data: { decision: 'approved' },
        });
        add(asked + rng.int(3, 8) * MINUTE, { kind: 'bathroom-break-returned', actor: proctor(), studentId, data: {} });
        left -= 3;
      } else if (r < 0.54 && left >= 2) {
        const challenge = rng.hex(4);
        const issued = at();
        add(issued, { kind: 'resume-code-issued', actor: proctor(), studentId, data: { challenge } });
        add(issued + rng.int(10, 60) * SECOND, { kind: 'resume-code-used', actor, studentId, data: { challenge } });
        left -= 2;
      } else if (r < 0.55) {
        add(at(), {
          kind: 'personal-extension-set',
          actor: proctor(),
          studentId,
          data: { minutes: rng.pick([5, 10]) },
        });
        left -= 1;
      } else if (r < 0.56) {
        add(at(), { kind: 'contact-revealed', actor: proctor(), studentId, data: {} });
        left -= 1;
      } else if (r < 0.57) {
        add(at(), {
          kind: 'integrity-review-set',
          actor: proctor(),
          studentId,
          data: { status: rng.pick(['in-review', 'cleared', 'suspicious'] as const) },
        });
        left -= 1;
      } else {
        add(at(), {
          kind: 'integrity-event',
          actor,
          studentId,
          data: { type: rng.pick(INTEGRITY_EVENT_TYPES) },
        });
        integrityEvents++;
        left -= 1;
      }
    }
  });

  events.sort((a, b) => a.at - b.at || a.order - b.order);
  if (events.length !== o.events) throw new Error(`planned ${events.length} events, not ${o.events}`);
  return {
    exam,
    roster,
    events,
    drafts,
    expected: {
      examinees: o.examinees,
      events: o.events,
      downloads,
      uploads,
      receipts,
      drafts: drafts.length,
      integrityEvents,
    },
    now: t0 + 75 * MINUTE,
  };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Writing the plan through the store

async function writeBlob(store: HallStore, bytes: Buffer): Promise<void> {
  const received = await store.blobs.receive(new Blob([bytes]).stream(), bytes.length);
  if (!received.ok) throw new Error(`blob refused: ${received.code}`);
  await store.blobs.commit(received.blob);
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await work(item);
      }
    }),
  );
}

async function generate(dataDir: string, o: Options): Promise<Plan> {
  const parsed = parseExamFile(await readFile(path.join(ROOT, 'examples', 'exam-demo.json'), 'utf8'));
  if (!parsed.ok) throw new Error(`examples/exam-demo.json: ${JSON.stringify(parsed.errors)}`);
  const exam = toExamDoc(parsed.exam);
  const plan = planExamDay(exam, o);
  const clock = new FakeClock(Date.parse(exam.downloadWindow.opens) - 60 * MINUTE);
  const store = await HallStore.open({ dataDir, clock, hallId: HALL_ID });
  await store.putExam(
    exam,
    plan.roster.map((e) => toExamineeDoc(exam.examId, e)),
  );

  // Blobs first: the appliance makes an upload durable before it records the event.
  const blobs = plan.events.flatMap((p) => p.submission?.bytes ?? p.fileBytes ?? []);
  await inParallel(blobs, 8, (bytes) => writeBlob(store, bytes));

  // One record() per request, as the appliance does; concurrent requests group-commit.
  let pending: Promise<void>[] = [];
  for (const p of plan.events) {
    clock.set(p.at);
    const studentId = p.event.studentId;
    const sub = p.submission;
    let withDocs: SubmissionDoc[] = [];
    if (sub && studentId) {
      const submissionId = submissionDocId(exam.examId, studentId, sub.n);
      const file = { sha256: sha256(sub.bytes), size: sub.bytes.length };
      const receipt = store.receiptSigner.sign({
        format: 'receipt/v2',
        applianceId: store.applianceId,
        hallId: store.hallId,
        examId: exam.examId,
        studentId,
        submissionId,
        n: sub.n,
        ...file,
        submissionType: sub.type,
        receivedAt: new Date(p.at).toISOString(),
        timing: 'on-time',
      });
      const { score, maxScore } = gradeClosedQuestions(exam, sub.answers);
      withDocs = [
        {
          _id: submissionId,
          type: 'submission',
          schemaVersion: SCHEMA_VERSION,
          examId: exam.examId,
          studentId,
          n: sub.n,
          applianceId: store.applianceId,
          ...file,
          submissionType: sub.type,
          receivedAt: p.at,
          late: false,
          receipt,
          score: { score, maxScore, ...answeredCount(exam, sub.answers) },
        },
      ];
    }
    pending.push(
      store.record(exam.examId, [p.event], withDocs as unknown as (SubmissionDoc & { [k: string]: unknown })[]).durable,
    );
    if (pending.length >= 2_000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);

  // Autosaves (not journaled), three per examinee, in time order.
  const saves = plan.drafts
    .flatMap((d) => d.saves.map((s, i) => ({ studentId: d.studentId, counter: i + 1, ...s })))
    .sort((a, b) => a.counter - b.counter || a.at - b.at);
  for (let counter = 1; counter <= 3; counter++) {
    await inParallel(
      saves.filter((s) => s.counter === counter),
      16,
      async (s) => {
        const entry = store.projection.examinee(exam.examId, s.studentId);
        if (!entry) throw new Error(`no roster entry for ${s.studentId}`);
        const canonical = canonicalAnswerFile({
          format: 'answers/v1',
          examId: exam.examId,
          studentId: s.studentId,
          answers: s.answers,
          flagged: [],
        });
        await store.saveDraft(entry, {
          examId: exam.examId,
          studentId: s.studentId,
          counter: s.counter,
          savedAt: s.at,
          answers: canonical.answers,
          flagged: canonical.flagged,
        });
      },
    );
  }
  await store.flushIndex();
  const head = store.projection.head(exam.examId).seq;
  if (head !== o.events) throw new Error(`the store holds ${head} events, not ${o.events}`);
  await store.close();
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Measuring in fresh processes

interface ChildResult {
  mode: string;
  wallMs: number;
  [key: string]: unknown;
}

function runChild(args: string[]): Promise<ChildResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...APPLIANCE_NODE_FLAGS, '--import', 'tsx', CHILD, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`child ${args.join(' ')} exited with ${code}: ${out}`));
      try {
        resolve({ ...(JSON.parse(last) as ChildResult), wallMs: Math.round(performance.now() - started) });
      } catch {
        reject(new Error(`child ${args.join(' ')} printed no result: ${out}`));
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};

interface Expected {
  examinees: number;
  events: number;
  downloads: number;
  uploads: number;
  receipts: number;
  drafts: number;
  integrityEvents: number;
}

/** Every count a start reports must equal what was written. */
function check(run: ChildResult, expected: Expected): string[] {
  const counts = run.counts as Record<string, unknown>;
  const want: Record<string, number> = { ...expected, rows: expected.examinees };
  return Object.entries(want)
    .filter(([k, v]) => counts[k] !== v)
    .map(([k, v]) => `${run.mode}: ${k} is ${String(counts[k])}, expected ${v}`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dataDir = o.data ?? (await mkdtemp(path.join(tmpdir(), 'bench-monitor-')));
  const manifestPath = path.join(dataDir, 'bench-manifest.json');
  let generateMs: number | undefined;
  let expected: Expected;
  if (o.data) {
    expected = (JSON.parse(await readFile(manifestPath, 'utf8')) as { expected: Expected }).expected;
    console.log(`reusing ${dataDir} (${expected.examinees} examinees, ${expected.events} events)`);
  } else {
    console.log(`generating ${o.examinees} examinees and ${o.events} events in ${dataDir} ...`);
    const t = performance.now();
    const plan = await generate(dataDir, o);
    generateMs = Math.round(performance.now() - t);
    expected = plan.expected;
    await writeFile(
      manifestPath,
      JSON.stringify({ examId: plan.exam.examId, hallId: HALL_ID, now: plan.now, expected }, null, 2),
    );
    console.log(
      `generated in ${generateMs} ms: ${expected.events} events, ${expected.receipts} submissions, ` +
        `${expected.downloads} downloads, ${expected.drafts} drafts`,
    );
  }

  const problems: string[] = [];
  const baselines: ChildResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    const b = await runChild(['baseline', dataDir]);
    const counts = b.counts as { events: number; journalDocs: number };
    if (counts.events !== expected.events)
      problems.push(`baseline: read ${counts.events} events, expected ${expected.events}`);
    console.log(
      `baseline ${i + 1}: allDocs of ${counts.events} event docs ${String(b.allDocsMs)} ms, ` +
        `journal read+parse (${counts.journalDocs} docs) ${String(b.journalParseMs)} ms, rss ${String(b.rssMB)} MB`,
    );
    baselines.push(b);
  }
  const runs: ChildResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    const r = await runChild(['startup', dataDir]);
    problems.push(...check(r, expected));
    console.log(
      `cold start ${i + 1}: rebuild ${String(r.rebuildMs)} ms (HallStore.open ${String(r.openMs)} ms), ` +
        `rss ${String(r.rssMB)} MB (${String(r.rssBeforeMB)} MB before reading any data), ` +
        `peak ${String(r.peakRssMB)} MB, heap used ${String(r.heapUsedMB)} MB; ` +
        `process wall ${r.wallMs} ms (module load ${String(r.importMs)} ms)`,
    );
    for (const line of r.log as string[]) console.log(`  ${line}`);
    runs.push(r);
  }
  // A start after kill -9: the previous process exits without closing anything, then one more start.
  await runChild(['startup', dataDir, '--crash']);
  const afterCrash = await runChild(['startup', dataDir]);
  problems.push(...check(afterCrash, expected));
  console.log(
    `start after a crash: rebuild ${String(afterCrash.rebuildMs)} ms, rss ${String(afterCrash.rssMB)} MB, ` +
      `peak ${String(afterCrash.peakRssMB)} MB`,
  );
  for (const line of afterCrash.log as string[]) console.log(`  ${line}`);

  const rebuildMs = median(runs.map((r) => r.rebuildMs as number));
  const baselineMs = median(baselines.map((b) => b.allDocsMs as number));
  const summary = {
    rebuildMs,
    rssMB: median(runs.map((r) => r.rssMB as number)),
    peakRssMB: median(runs.map((r) => r.peakRssMB as number)),
    rssBeforeDataMB: median(runs.map((r) => r.rssBeforeMB as number)),
    // As each start found them (checked against what was written: see `ok`).
    examinees: median(runs.map((r) => (r.counts as { examinees: number }).examinees)),
    events: median(runs.map((r) => (r.counts as { events: number }).events)),
    rows: median(runs.map((r) => (r.counts as { rows: number }).rows)),
    expected,
    baselineMs,
    baselineWhat: 'one allDocs(include_docs) of every event document, fresh process',
    ratio: Math.round((rebuildMs / baselineMs) * 100) / 100,
    journalParseMs: median(baselines.map((b) => b.journalParseMs as number)),
    generateMs: generateMs ?? null,
    afterCrash: {
      rebuildMs: afterCrash.rebuildMs,
      rssMB: afterCrash.rssMB,
      peakRssMB: afterCrash.peakRssMB,
      log: afterCrash.log,
    },
    runs: runs.map((r) => ({
      rebuildMs: r.rebuildMs,
      openMs: r.openMs,
      rssMB: r.rssMB,
      peakRssMB: r.peakRssMB,
      rssBeforeDataMB: r.rssBeforeMB,
      wallMs: r.wallMs,
      log: r.log,
    })),
    baselines: baselines.map((b) => ({ allDocsMs: b.allDocsMs, journalParseMs: b.journalParseMs, rssMB: b.rssMB })),
    ok: problems.length === 0,
  };
  console.log(
    `median cold start: ${rebuildMs} ms, rss ${summary.rssMB} MB (peak ${summary.peakRssMB} MB); ` +
      `baseline ${baselineMs} ms; ratio ${summary.ratio}`,
  );
  for (const p of problems) console.error(`WRONG: ${p}`);
  if (!o.keep && !o.data) await rm(dataDir, { recursive: true, force: true });
  else console.log(`data kept in ${dataDir}`);
  console.log(JSON.stringify(summary));
  if (problems.length > 0) process.exitCode = 1;
}

await main();
