/**
 * The page side of `npm run bench:client` (./bench-client.ts has what it measures and how): the
 * scripts it runs in the page, reading the device's RxDB documents, the demo hall it starts, and
 * signing in, typing and taking the figures in a throttled page.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CDPSession, Page } from 'playwright-core';
import type { ExamFile } from '../domain/exam-format.js';
import { DEMO_ROSTER_FILE, readDemo, rescheduleExam } from '../appliance/src/demo.js';
import {
  ApplianceProcess,
  applianceEnv,
  runApplianceCli,
  type RosterLine,
} from '../tests/support/appliance-process.js';
import { asExaminee, eventually, type Hall } from '../client/e2e/hall.js';
import { APPLIANCE_MAIN, buildAppliance, startCommand } from './appliance-build.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ESSAY_ID = 'q10-momentum-essay';
export const SHEETS_DB = 'rxdb-dexie-exam-hall-local--1--sheets';
const RXDB_PREFIX = 'rxdb-dexie-exam-hall-local--';

export const say = (line: string) => process.stderr.write(`${line}\n`);
export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// In the page. The page scripts are strings: tsx compiles these files with esbuild's keepNames,
// which wraps functions in a `__name` helper the page does not have.

/**
 * Records, per keydown, the time from the event to the end of the next frame, in __benchKeys;
 * and the main thread's long tasks (over 50 ms: the Long Tasks API) meanwhile, in __benchLongTasks.
 */
export const KEY_PROBE = `(() => {
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

export interface RxdbDoc {
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

export const readRxdb = (page: Page) => page.evaluate<RxdbDoc[]>(READ_RXDB);

async function sheetDoc(page: Page): Promise<RxdbDoc> {
  const sheets = (await readRxdb(page)).filter((d) => d.db === SHEETS_DB);
  if (sheets.length !== 1) throw new Error(`expected one answer sheet on the device, found ${sheets.length}`);
  return sheets[0]!;
}

export const revisions = (docs: readonly RxdbDoc[]) => docs.reduce((n, d) => n + d.revHeight, 0);

/** Revisions added per RxDB collection (the IndexedDB name without RxDB's prefix) between two reads. */
export function revisionsByCollection(before: readonly RxdbDoc[], after: readonly RxdbDoc[]): Record<string, number> {
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

export interface BenchHall {
  hall: Hall;
  roster: RosterLine[];
  total: number;
}

/** The appliance (as `npm start` runs it) with the demo exam, started a minute ago. */
export async function openDemoHall(tmp: string): Promise<BenchHall> {
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

export async function throttle(page: Page, rate: number): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return cdp;
}

/** Opens the examinee app, types the credentials and signs in; returns ms to question 1. */
export async function signIn(page: Page, b: BenchHall, examinee: RosterLine): Promise<number> {
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

export async function goTo(page: Page, n: number): Promise<void> {
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
export async function waitSaved(b: BenchHall, page: Page, text: string, what: string): Promise<void> {
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
export async function typeSteadily(page: Page, text: string, intervalMs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < text.length; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await page.keyboard.type(text[i]!);
  }
  return round(text.length / ((performance.now() - started) / 1_000), 1);
}

export interface KeyFigures {
  samples: number[];
  /** The main thread's long tasks while the keys were typed. */
  longTasks: { count: number; ms: number };
}

/** The probe's figures, once the frame after each of `keys` keys has ended (the last may be pending). */
export async function keyFigures(page: Page, keys: number): Promise<KeyFigures> {
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

export async function heapMB(cdp: CDPSession): Promise<{ used: number; metric: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
  return { used: round(usage.usedSize / 1e6, 1), metric: round(metric / 1e6, 1) };
}

export function gitCommit(): string {
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
