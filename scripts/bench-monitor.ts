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
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { answeredCount, canonicalAnswerFile, gradeClosedQuestions } from '../domain/answers.js';
import { FakeClock, MINUTE } from '../domain/clock.js';
import { SCHEMA_VERSION } from '../domain/exam-format.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../domain/exam-import.js';
import { HallStore, submissionDocId, type SubmissionDoc } from '../appliance/src/store/hall-store.js';
import { planExamDay, sha256, type Plan } from './bench-monitor-plan.js';

/**
 * The V8 flags `npm start` runs the appliance with (package.json "start"): a small young
 * generation keeps a 1 GB Pi's memory for data rather than for garbage waiting to be scavenged.
 * The measured child runs with the same flags, so the figure is the appliance's.
 */
const APPLIANCE_NODE_FLAGS = ['--max-semi-space-size=8'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = path.join(ROOT, 'scripts', 'bench-monitor-child.ts');
const HALL_ID = 'bench-hall';

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
  const clock = new FakeClock(Date.parse(exam.downloadWindow.opens) - 60 * MINUTE);
  const store = await HallStore.open({ dataDir, clock, hallId: HALL_ID });
  const plan = planExamDay(exam, { ...o, applianceId: store.applianceId });
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
      const submissionId = submissionDocId(exam.examId, studentId, store.applianceId, sub.n);
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
