/**
 * `npm run bench:client`: the examinee's browser, measured in real Chromium (Debian's
 * /usr/bin/chromium through playwright-core, client/e2e/browser.ts) against a real appliance (the
 * bundle `npm start` runs, on a fresh data folder in a temp dir) serving the built client
 * (client/dist, built first when missing or stale), with the demo exam (examples/exam-demo.json
 * and roster-demo.csv, imported through the CLI, moved so that it started a minute ago). Every
 * page runs with the CPU throttled (--throttle, 4×) through the DevTools protocol
 * (`Emulation.setCPUThrottlingRate`), as a school laptop is slow.
 *
 * 1. Baseline: a blank page with a bare <textarea> holding the same 5,000-word text, typed into
 *    the same way: what the browser itself costs per key at this throttle, in this run.
 * 2. signInToQuestionMs: in --runs fresh browser profiles, one demo examinee each, the student id
 *    and access code are typed, then the time in the page from the "Sign in" click event to the
 *    frame after "Question 1 of 11" is in the document: sign-in, lobby, "Download exam" (clicked
 *    as soon as it is there), the package download, the key the appliance releases at the start
 *    (online after the start the key comes by itself; the exam-password form is the offline way),
 *    decryption, the first question. The median is reported.
 * 3. keyLatencyP50Ms / P99Ms: one more examinee opens the essay (question 10), 5,000 words are put
 *    into it as a paste is (CDP `Input.insertText`), and once they are saved (device database and
 *    appliance) --keys characters are typed with real key events (keyboard.type), one every
 *    --key-delay-ms on the wall clock (a key that took long to dispatch does not delay the
 *    next; the keys per second reached are reported). Per key, in the page: from the keydown
 *    event's timeStamp (capture listener; the time the browser took the key, so a busy main
 *    thread counts) to the end of the next frame (requestAnimationFrame, then a MessageChannel
 *    message: after the frame's style, layout and paint). The same on the baseline page.
 * 4. writesPerChar: --write-keys more characters, one every --write-delay-ms; the RxDB writes are
 *    counted from the device's IndexedDB itself (RxDB's Dexie storage), not from the app: the
 *    revision height of the answer sheet's document (`_rev` "N-…") after the typing is saved,
 *    minus before. allWritesPerChar counts every document revision of every RxDB collection of
 *    the app the same way (the attempt, and the replication's own meta documents).
 * 5. heapMB: the essay is filled up to --heap-chars characters in all (the 5,000 words and the
 *    typed keys count) by `Input.insertText` chunks of --chunk-chars, each followed by a few real
 *    key events, waited until saved, then `HeapProfiler.collectGarbage` and the JS heap in use
 *    (`Runtime.getHeapUsage`), MB = 10^6 bytes. heapBaselineMB is the same right after question 1
 *    of the same page came on screen.
 * 6. Checks that the field, the device's database and the appliance's draft hold exactly the text
 *    that was put in, and that the page logged no error. Exits 1 otherwise (a broken page gives
 *    no figures); a missed target is reported, not an exit code.
 *
 * Prints progress to stderr and, last on stdout, one JSON object.
 *
 * Options: --runs N (3) --throttle N (4) --words N (5000) --keys N (300) --key-delay-ms N (50)
 *          --write-keys N (300) --write-delay-ms N (100) --heap-chars N (200000)
 *          --chunk-chars N (2000) --keep (keep the temp dir)
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CDPSession, Page } from 'playwright-core';
import { countWords } from '../domain/answer-sheet.js';
import type { ExamFile } from '../domain/exam-format.js';
import { seededRandom } from '../domain/seeded-random.js';
import { DEMO_ROSTER_FILE, readDemo, rescheduleExam } from '../appliance/src/demo.js';
import {
  ApplianceProcess,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  type RosterLine,
} from '../tests/support/appliance-process.js';
import { launchChromium, watchConsole, type Browser } from '../client/e2e/browser.js';
import { asExaminee, eventually, type Hall } from '../client/e2e/hall.js';
import { APPLIANCE_MAIN, buildAppliance, startCommand } from './appliance-build.js';
import { buildClient, clientBuildState } from './client-build.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ESSAY_ID = 'q10-momentum-essay';
const ESSAY_NUMBER = 10;
const SHEETS_DB = 'rxdb-dexie-exam-hall-local--1--sheets';
const RXDB_PREFIX = 'rxdb-dexie-exam-hall-local--';

const TARGETS = { keyLatencyP99Ms: 50, writesPerChar: 0.5, heapMB: 50 };

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`--${name} needs a whole number\n`);
    process.exit(2);
  }
  return v;
}

const OPTIONS = {
  runs: Math.max(1, option('runs', 3)),
  throttle: Math.max(1, option('throttle', 4)),
  words: option('words', 5_000),
  keys: option('keys', 300),
  keyDelayMs: option('key-delay-ms', 50),
  writeKeys: Math.max(1, option('write-keys', 300)),
  writeDelayMs: option('write-delay-ms', 100),
  heapChars: option('heap-chars', 200_000),
  chunkChars: Math.max(1, option('chunk-chars', 2_000)),
  keep: process.argv.includes('--keep'),
};

const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const median = (xs: readonly number[]) => percentile(xs, 50);

// ---------------------------------------------------------------------------------------------
// Text

const SENTENCES = [
  'The total momentum of a closed system stays the same before and after a collision.',
  'When two carts collide on a frictionless track, the momentum one loses the other gains.',
  'Momentum is the product of mass and velocity, so it is a vector and has a direction.',
  "Newton's third law says the forces between the carts are equal and opposite at every instant.",
  'Because the forces act for the same time, the impulses are equal and opposite as well.',
  'A rifle recoils when it fires because the bullet and the rifle start with zero total momentum.',
  'In an elastic collision kinetic energy is conserved too, in an inelastic one it is not.',
  'Consider a 2 kg ball moving at 3 m/s that hits a 1 kg ball at rest and sticks to it.',
  'The combined mass of 3 kg must then move at 2 m/s, since 2 times 3 equals 3 times 2.',
  'External forces such as friction change the momentum of the system over time.',
  'A rocket pushes exhaust gas backwards, and the gas pushes the rocket forwards.',
  'Ice skaters who push each other apart move off with speeds in the inverse ratio of their masses.',
];

/** `words` words of an essay on momentum, in paragraphs, the same in every run. */
function essayText(words: number): string {
  const random = seededRandom(14);
  const out: string[] = [];
  let paragraph: string[] = [];
  let count = 0;
  while (count < words) {
    const sentence = SENTENCES[Math.floor(random() * SENTENCES.length)]!.split(' ');
    const take = sentence.slice(0, words - count);
    paragraph.push(take.join(' '));
    count += take.length;
    if (paragraph.length >= 6 || count >= words) {
      out.push(paragraph.join(' '));
      paragraph = [];
    }
  }
  return out.join('\n\n');
}

/** What is typed key by key: `n` characters of plain ASCII prose (every one has a key). */
function typedText(n: number, seed: number): string {
  const random = seededRandom(seed);
  let s = '';
  while (s.length < n) s += ` ${SENTENCES[Math.floor(random() * SENTENCES.length)]!}`;
  return s.slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// In the page. The page scripts are strings: tsx compiles this file with esbuild's keepNames,
// which wraps functions in a `__name` helper the page does not have.

/**
 * Records, per keydown, the time from the event to the end of the next frame, in __benchKeys;
 * and the main thread's long tasks (over 50 ms: the Long Tasks API) meanwhile, in __benchLongTasks.
 */
const KEY_PROBE = `(() => {
  const samples = [];
  const longTasks = { count: 0, ms: 0 };
  window.__benchKeys = samples;
  window.__benchLongTasks = longTasks;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      longTasks.count++;
      longTasks.ms += e.duration;
    }
  }).observe({ type: 'longtask' });
  window.addEventListener('keydown', (e) => {
    const start = e.timeStamp;
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => samples.push(performance.now() - start);
      channel.port2.postMessage(null);
    });
  }, { capture: true });
})()`;

/** The time from the "Sign in" click event to the frame after question 1 is in the document. */
const SIGN_IN_PROBE = `(() => {
  const t = { clickAt: null, questionAt: null };
  window.__benchSignIn = t;
  document.addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('button') : null;
    if (t.clickAt === null && button && button.textContent.trim() === 'Sign in') t.clickAt = e.timeStamp;
  }, { capture: true });
  const seen = () => [...document.querySelectorAll('h1, h2, h3')].some((h) => /^Question 1 of \\d+$/.test(h.textContent.trim()));
  const observer = new MutationObserver(() => {
    if (t.clickAt === null || !seen()) return;
    observer.disconnect();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => (t.questionAt = performance.now());
      channel.port2.postMessage(null);
    });
  });
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
})()`;

interface RxdbDoc {
  db: string;
  id: string;
  revHeight: number;
  counter: number | null;
  answer: unknown;
}

/** Every document of the app's RxDB collections, read from IndexedDB (Dexie's `docs` tables). */
const READ_RXDB = `(async () => {
  const names = (await indexedDB.databases()).map((d) => d.name).filter((n) => n && n.startsWith(${JSON.stringify(RXDB_PREFIX)}));
  const out = [];
  for (const name of names) {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    if (!db.objectStoreNames.contains('docs')) { db.close(); continue; }
    const docs = await new Promise((resolve, reject) => {
      const req = db.transaction('docs', 'readonly').objectStore('docs').getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    db.close();
    for (const d of docs) {
      const id = String(d.id ?? d._id ?? d.passportId ?? '');
      out.push({
        db: name,
        id,
        revHeight: Number(String(d._rev).split('-')[0]),
        counter: typeof d.counter === 'number' ? d.counter : null,
        answer: name === ${JSON.stringify(SHEETS_DB)} ? (d.answers || {})[${JSON.stringify(ESSAY_ID)}] ?? null : null,
      });
    }
  }
  return out;
})()`;

const readRxdb = (page: Page) => page.evaluate<RxdbDoc[]>(READ_RXDB);

async function sheetDoc(page: Page): Promise<RxdbDoc> {
  const sheets = (await readRxdb(page)).filter((d) => d.db === SHEETS_DB);
  if (sheets.length !== 1) throw new Error(`expected one answer sheet on the device, found ${sheets.length}`);
  return sheets[0]!;
}

const revisions = (docs: readonly RxdbDoc[]) => docs.reduce((n, d) => n + d.revHeight, 0);

/** Revisions added per RxDB collection (the IndexedDB name without RxDB's prefix) between two reads. */
function revisionsByCollection(before: readonly RxdbDoc[], after: readonly RxdbDoc[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of after) {
    // "<schema version>--<collection>"; the replication's meta collection ends in a hash.
    const name = d.db
      .slice(RXDB_PREFIX.length)
      .replace(/^\d+--/, '')
      .replace(/^(rx-replication-meta)-[0-9a-f]+$/, '$1');
    const was = before.find((x) => x.db === d.db && x.id === d.id)?.revHeight ?? 0;
    if (d.revHeight > was) out[name] = (out[name] ?? 0) + d.revHeight - was;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The hall

interface BenchHall {
  hall: Hall;
  roster: RosterLine[];
  total: number;
}

/** The appliance (as `npm start` runs it) with the demo exam, started a minute ago. */
async function openDemoHall(tmp: string): Promise<BenchHall> {
  const demo = await readDemo();
  const startMs = Date.now() - 60_000;
  // The demo exam as it is: its essay allows 400 words, and a longer essay is kept all the same
  // (domain/answers.ts), as the 5,000 words here are.
  const exam: ExamFile = rescheduleExam(demo.exam, startMs);
  if (!exam.sections.some((s) => s.questions.some((q) => q.id === ESSAY_ID && q.type === 'essay')))
    throw new Error(`the demo exam has no essay ${ESSAY_ID}`);
  const examPath = path.join(tmp, 'exam-demo.json');
  await writeFile(examPath, `${JSON.stringify(exam, null, 2)}\n`);
  const dataDir = path.join(tmp, 'data');
  const env = applianceEnv(dataDir);
  const imported = await runApplianceCli(['import', examPath, DEMO_ROSTER_FILE], env);
  if (imported.code !== 0) throw new Error(`import of the demo exam failed:\n${imported.stderr}`);
  const password = /Exam password[^:]*: (\S+)/.exec(imported.stdout)?.[1] ?? '';
  const start = startCommand();
  await buildAppliance();
  const appliance = await ApplianceProcess.start({
    dataDir,
    command: [process.execPath, ...start.nodeFlags, APPLIANCE_MAIN],
    // The bench does not depend on this machine's NTP state.
    env: { ...start.env, PROCTOR_CLOCK_TRUST: 'trusted' },
  });
  const roster = demo.roster.map((e) => ({ studentId: e.studentId, name: e.name, accessCode: e.accessCode }));
  const hall: Hall = {
    tmp,
    files: { exam, examPath, rosterPath: DEMO_ROSTER_FILE, roster },
    appliance,
    origin: appliance.baseUrl,
    ca: undefined,
    password,
    startMs,
    restart() {
      return Promise.reject(new Error('the bench does not restart its appliance'));
    },
    async close() {
      await appliance.kill();
    },
  };
  return { hall, roster, total: exam.sections.reduce((n, s) => n + s.questions.length, 0) };
}

async function throttle(page: Page, rate: number): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return cdp;
}

/** Opens the examinee app, types the credentials and signs in; returns ms to question 1. */
async function signIn(page: Page, b: BenchHall, examinee: RosterLine): Promise<number> {
  await page.goto(`${b.hall.origin}/`);
  await page.getByLabel('Student ID').click();
  await page.keyboard.type(examinee.studentId, { delay: 20 });
  await page.getByLabel('Access code').click();
  await page.keyboard.type(examinee.accessCode, { delay: 20 });
  await page.evaluate(SIGN_IN_PROBE);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Download exam' }).click({ timeout: 60_000 });
  await page.getByRole('heading', { name: `Question 1 of ${b.total}` }).waitFor({ timeout: 60_000 });
  let times = { clickAt: null as number | null, questionAt: null as number | null };
  await eventually('the frame after question 1', async () => {
    times = await page.evaluate<typeof times>('window.__benchSignIn');
    return times.clickAt !== null && times.questionAt !== null;
  });
  return times.questionAt! - times.clickAt!;
}

async function goTo(page: Page, n: number): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Questions' })
    .getByRole('button', { name: new RegExp(`^Question ${n},`) })
    .click();
  await page.getByRole('heading', { name: new RegExp(`^Question ${n} of `) }).waitFor();
}

interface Pull {
  documents: { counter: number; answers: Record<string, unknown> }[];
}

/** Waits until the field, the device's database and the appliance's draft hold `text`. */
async function waitSaved(b: BenchHall, page: Page, text: string, what: string): Promise<void> {
  const field = page.getByRole('textbox', { name: 'Your answer' });
  const started = Date.now();
  let state = '';
  const length = (v: unknown) => (typeof v === 'string' ? `${v.length} characters` : String(v));
  try {
    await eventually(
      what,
      async () => {
        const shown = await field.inputValue();
        const device = (await sheetDoc(page)).answer;
        const { body } = await asExaminee<Pull>(b.hall, page, '/api/exam/answers/pull?counter=0');
        const appliance = body.documents[0]?.answers[ESSAY_ID];
        const indicator = (await page.getByTestId('connection').textContent()) ?? '';
        state =
          `expected ${text.length} characters; field ${length(shown)}, device ${length(device)}, ` +
          `appliance ${length(appliance)}, indicator "${indicator}"`;
        return (
          shown === text && device === text && appliance === text && indicator.includes('Connected: answers saved')
        );
      },
      120_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} (${state})`, { cause: err });
  }
  say(`  saved (${what}) ${round((Date.now() - started) / 1_000, 1)} s after the last input`);
}

/**
 * Types `text` with real key events, one key every `intervalMs` on the wall clock (a steady
 * typist: a key that took long to dispatch does not push the later ones back, unlike
 * keyboard.type's delay, which waits after each key). Returns the keys per second reached.
 */
async function typeSteadily(page: Page, text: string, intervalMs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < text.length; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await page.keyboard.type(text[i]!);
  }
  return round(text.length / ((performance.now() - started) / 1_000), 1);
}

interface KeyFigures {
  samples: number[];
  /** The main thread's long tasks while the keys were typed. */
  longTasks: { count: number; ms: number };
}

/** The probe's figures, once the frame after each of `keys` keys has ended (the last may be pending). */
async function keyFigures(page: Page, keys: number): Promise<KeyFigures> {
  try {
    await eventually(
      'the frame after every key',
      () => page.evaluate<boolean>(`window.__benchKeys.length >= ${keys}`),
      10_000,
    );
  } catch {
    // Fewer samples than keys: reported by the caller as a problem.
  }
  return page.evaluate<KeyFigures>(
    '({ samples: window.__benchKeys.splice(0), longTasks: { count: window.__benchLongTasks.count, ms: Math.round(window.__benchLongTasks.ms) } })',
  );
}

async function heapMB(cdp: CDPSession): Promise<{ used: number; metric: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
  return { used: round(usage.usedSize / 1e6, 1), metric: round(metric / 1e6, 1) };
}

function gitCommit(): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? hash : `${hash}-dirty`;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------

/** The browser's own cost: a bare textarea with the same text, typed into the same way. */
async function baseline(
  browser: Browser,
  essay: string,
  typed: string,
): Promise<KeyFigures & { keysPerSecond: number }> {
  const page = await browser.context.newPage();
  await page.setContent('<textarea rows="10" cols="100" aria-label="Your answer"></textarea>');
  await throttle(page, OPTIONS.throttle);
  await page.getByRole('textbox', { name: 'Your answer' }).click();
  await page.keyboard.insertText(essay);
  await page.evaluate(KEY_PROBE);
  const keysPerSecond = await typeSteadily(page, typed, OPTIONS.keyDelayMs);
  const figures = await keyFigures(page, typed.length);
  await page.close();
  return { ...figures, keysPerSecond };
}

async function main(): Promise<void> {
  const problems: string[] = [];
  const build = clientBuildState();
  if (build.state !== 'fresh') {
    say(`building the client (${build.state === 'missing' ? build.reason : `${build.newer} is newer`})...`);
    await buildClient({ quiet: true });
  }
  const essay = essayText(OPTIONS.words);
  const typedForLatency = typedText(OPTIONS.keys, 1);
  const typedForWrites = typedText(OPTIONS.writeKeys, 2);
  say(
    `bench:client: CPU ${OPTIONS.throttle}× slower, essay of ${countWords(essay)} words (${essay.length} characters)`,
  );

  const tmp = await makeTempDir('bench-client-');
  const browsers: Browser[] = [];
  let b: BenchHall | undefined;
  try {
    b = await openDemoHall(tmp);
    say(`appliance PID ${b.hall.appliance.serverPid} at ${b.hall.origin}, demo exam "${b.hall.files.exam.title}"`);
    if (b.roster.length < OPTIONS.runs + 1) throw new Error(`--runs is at most ${b.roster.length - 1}`);

    // 1. Baseline.
    const main = await launchChromium();
    browsers.push(main);
    const {
      samples: base,
      longTasks: baseLongTasks,
      keysPerSecond: baseKeysPerSecond,
    } = await baseline(main, essay, typedForLatency);
    if (base.length !== typedForLatency.length)
      problems.push(`baseline: ${base.length} samples for ${typedForLatency.length} keys`);
    say(
      `baseline (bare textarea): key to next frame p50 ${round(percentile(base, 50))} ms, ` +
        `p99 ${round(percentile(base, 99))} ms over ${base.length} keys (${baseKeysPerSecond} keys/s); ` +
        `${baseLongTasks.count} long tasks, ${baseLongTasks.ms} ms`,
    );

    // 2. Sign-in to question 1, each in a fresh profile.
    const signIns: number[] = [];
    for (let i = 0; i < OPTIONS.runs; i++) {
      const browser = await launchChromium();
      try {
        const page = await browser.context.newPage();
        const errors = watchConsole(page);
        await throttle(page, OPTIONS.throttle);
        const ms = await signIn(page, b, b.roster[i]!);
        signIns.push(round(ms, 0));
        say(`sign-in ${i + 1} (${b.roster[i]!.studentId}): ${round(ms, 0)} ms from "Sign in" to question 1 on screen`);
        problems.push(...errors.map((e) => `sign-in ${i + 1}: ${e}`));
      } finally {
        await browser.close();
      }
    }

    // 3. Key latency in the 5,000-word essay.
    const examinee = b.roster[b.roster.length - 1]!;
    const page = await main.context.newPage();
    const errors = watchConsole(page);
    const cdp = await throttle(page, OPTIONS.throttle);
    await signIn(page, b, examinee);
    const heapBaseline = await heapMB(cdp);
    say(`${examinee.studentId} on question 1; JS heap ${heapBaseline.used} MB after a collection`);
    await goTo(page, ESSAY_NUMBER);
    const field = page.getByRole('textbox', { name: 'Your answer' });
    await field.click();
    let expected = essay;
    await page.keyboard.insertText(essay);
    await waitSaved(b, page, expected, `the ${OPTIONS.words}-word essay`);
    await page.keyboard.press('Control+End');
    await page.evaluate(KEY_PROBE);
    say(`typing ${typedForLatency.length} characters at ${OPTIONS.keyDelayMs} ms per key...`);
    const latencyKeysPerSecond = await typeSteadily(page, typedForLatency, OPTIONS.keyDelayMs);
    expected += typedForLatency;
    const { samples: latencies, longTasks } = await keyFigures(page, typedForLatency.length);
    if (latencies.length !== typedForLatency.length)
      problems.push(`key latency: ${latencies.length} samples for ${typedForLatency.length} keys`);
    say(
      `key to next frame: p50 ${round(percentile(latencies, 50))} ms, p99 ${round(percentile(latencies, 99))} ms, ` +
        `max ${round(Math.max(...latencies))} ms over ${latencies.length} keys (${latencyKeysPerSecond} keys/s); ` +
        `${longTasks.count} long tasks, ${longTasks.ms} ms`,
    );
    await waitSaved(b, page, expected, 'the typed keys');

    // 4. Writes per typed character.
    const before = await readRxdb(page);
    const sheetBefore = before.find((d) => d.db === SHEETS_DB)!;
    say(`typing ${typedForWrites.length} characters at ${OPTIONS.writeDelayMs} ms per key...`);
    const writeKeysPerSecond = await typeSteadily(page, typedForWrites, OPTIONS.writeDelayMs);
    expected += typedForWrites;
    await waitSaved(b, page, expected, 'the steady typing');
    const after = await readRxdb(page);
    const sheetAfter = after.find((d) => d.db === SHEETS_DB)!;
    const sheetWrites = sheetAfter.revHeight - sheetBefore.revHeight;
    const allWrites = revisions(after) - revisions(before);
    const byCollection = revisionsByCollection(before, after);
    const counterWrites = (sheetAfter.counter ?? 0) - (sheetBefore.counter ?? 0);
    const writesPerChar = round(sheetWrites / typedForWrites.length, 3);
    say(
      `RxDB writes: ${sheetWrites} revisions of the answer sheet for ${typedForWrites.length} characters ` +
        `(${writesPerChar} per character; sheet counter +${counterWrites}); every RxDB document: ${allWrites} ` +
        `revisions (${JSON.stringify(byCollection)}); ${writeKeysPerSecond} keys/s`,
    );

    // 5. Heap after 200,000 characters.
    let entered = expected.length;
    const chunkText = typedText(OPTIONS.chunkChars, 3);
    const tail = 'abc ';
    say(`filling the essay up to ${OPTIONS.heapChars} characters (${OPTIONS.chunkChars}-character pastes and keys)...`);
    let chunks = 0;
    while (entered < OPTIONS.heapChars) {
      const chunk = chunkText.slice(0, OPTIONS.heapChars - entered);
      await page.keyboard.insertText(chunk);
      expected += chunk;
      entered += chunk.length;
      chunks++;
      const keys = tail.slice(0, Math.max(0, OPTIONS.heapChars - entered));
      if (keys !== '') {
        await typeSteadily(page, keys, OPTIONS.keyDelayMs);
        expected += keys;
        entered += keys.length;
      }
      if (chunks % 20 === 0) say(`  ${entered} characters`);
    }
    await waitSaved(b, page, expected, `${entered} characters`);
    const heap = await heapMB(cdp);
    say(
      `JS heap after ${entered} characters: ${heap.used} MB after a collection ` +
        `(JSHeapUsedSize ${heap.metric} MB; ${heapBaseline.used} MB at question 1)`,
    );

    problems.push(...errors);
    const signInToQuestionMs = median(signIns);
    const keyLatencyP99Ms = round(percentile(latencies, 99));
    const met = {
      keyLatencyP99Ms: keyLatencyP99Ms < TARGETS.keyLatencyP99Ms,
      writesPerChar: writesPerChar <= TARGETS.writesPerChar,
      heapMB: heap.used < TARGETS.heapMB,
    };
    say(
      `targets: key p99 < ${TARGETS.keyLatencyP99Ms} ms ${met.keyLatencyP99Ms ? 'met' : 'MISSED'}; ` +
        `writes per character <= ${TARGETS.writesPerChar} ${met.writesPerChar ? 'met' : 'MISSED'}; ` +
        `heap < ${TARGETS.heapMB} MB ${met.heapMB ? 'met' : 'MISSED'}`,
    );
    for (const p of problems) say(`WRONG: ${p}`);
    const result = {
      keyLatencyP50Ms: round(percentile(latencies, 50)),
      keyLatencyP99Ms,
      writesPerChar,
      heapMB: heap.used,
      signInToQuestionMs,
      cpuThrottle: OPTIONS.throttle,
      keyLatencyMaxMs: round(Math.max(...latencies)),
      keys: latencies.length,
      keyIntervalMs: OPTIONS.keyDelayMs,
      keysPerSecond: latencyKeysPerSecond,
      keyLatencyP99VsBaseline: round(keyLatencyP99Ms / percentile(base, 99), 2),
      longTasks,
      // In typing order, so that a backlog (latency growing key after key) shows.
      keyLatencySamplesMs: latencies.map((x) => Math.round(x)),
      essayWords: countWords(essay),
      baseline: {
        what: 'a bare <textarea> on a blank page with the same text and keys, same throttle',
        keyLatencyP50Ms: round(percentile(base, 50)),
        keyLatencyP99Ms: round(percentile(base, 99)),
        keysPerSecond: baseKeysPerSecond,
        longTasks: baseLongTasks,
        keyLatencySamplesMs: base.map((x) => Math.round(x)),
      },
      writes: {
        sheetRevisions: sheetWrites,
        sheetCounter: counterWrites,
        allRxdbRevisions: allWrites,
        allWritesPerChar: round(allWrites / typedForWrites.length, 3),
        byCollection,
        chars: typedForWrites.length,
        intervalMs: OPTIONS.writeDelayMs,
        keysPerSecond: writeKeysPerSecond,
      },
      heapBaselineMB: heapBaseline.used,
      heapJSHeapUsedSizeMB: heap.metric,
      heapChars: entered,
      signInRunsMs: signIns,
      targets: TARGETS,
      met,
      commit: gitCommit(),
      ok: problems.length === 0,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    for (const browser of browsers) await browser.close();
    await b?.hall.close();
    if (OPTIONS.keep) say(`kept ${tmp}`);
    else await removeTempDir(tmp);
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench:client failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
