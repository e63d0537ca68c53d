/**
 * A seeded chaos test of the answer pipeline in real Chromium: three examinees on three devices
 * (browser contexts) type into different questions at different speeds and CPU throttles, all at
 * once, while the network is cut at random moments (mid-word too), pages are reloaded, a tab is
 * killed without unload (the renderer crashed through the DevTools protocol, then the exam opened
 * again in a new tab of the same device), and one device's clock is hours off. At the end each
 * examinee submits.
 *
 * What must hold, by design (docs/client.md "Answers"):
 * - after every key typed, the field holds exactly what was typed into it;
 * - a network cut and a reload (even offline, even right after the last key) lose nothing;
 * - a killed tab loses at most what the device's database did not hold yet (the writer's last
 *   300 ms): whatever the appliance had acknowledged before the kill is still there, and what
 *   survives is a prefix of what was typed;
 * - the submitted answer file is byte for byte the text typed (less what a kill took, counted
 *   and printed), and so are the device database, the appliance's draft and the signed receipt.
 *
 * Every random choice (words, speeds, questions, when the network goes and comes back, reloads,
 * the kill, the clock offset) comes from one seed, printed at the start; `CHAOS_SEED=<n>` replays
 * a run's plan (the browser's own timing is not replayable, so a replay is close, not identical).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { seededChoices, type SeededChoices } from '../../domain/seeded-random.js';
import {
  answerField,
  deviceAnswers,
  draft,
  expectSaved,
  goTo,
  submitAndCheck,
  throttle,
  type Answers,
} from './answers.js';
import { launchChromiumForDevices, screenshot, watchConsole } from './browser.js';
import { openHall, signInAndOpen, type Hall } from './hall.js';

const SEED = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : Date.now() % 1_000_000_007;
const HOUR = 3_600_000;
const START_AHEAD_MS = 25_000;
/** The text questions, by number on screen: 4 (essay, in the test exam), 6 (essay), 7 (short text). */
const TEXT_QUESTIONS = [
  { n: 4, id: 'q4', maxLength: 200_000 },
  { n: 6, id: 'q6', maxLength: 200_000 },
  { n: 7, id: 'q7', maxLength: 1_000 },
] as const;
const TOTAL_QUESTIONS = 7;
const WORDS = [
  'entropy',
  'heat',
  'flows',
  'from',
  'hot',
  'to',
  'cold',
  'équilibre',
  'Größe',
  'Boltzmann',
  'k·ln W',
  '—',
  'isn’t',
  'reversible',
  'microstates',
  'Σ',
  '42,',
  '"quoted"',
  'über',
  'ça',
];

/** One examinee's device and how it behaves. */
interface Profile {
  /** Key delays (ms) this examinee types at. */
  delays: number[];
  cpu: number;
  /** How far the device's clock is off (ms). */
  clockOffMs: number;
}

type Step =
  | { kind: 'type'; question: (typeof TEXT_QUESTIONS)[number]; text: string; delay: number; cutAfterMs?: number }
  | { kind: 'online' }
  | { kind: 'reload' }
  | { kind: 'kill' };

/** The seeded plan of one examinee: typing, with a reload, a kill and network cuts among it. */
function plan(r: SeededChoices, profile: Profile): Step[] {
  const chunks = 7 + r.int(3);
  const steps: Step[] = [];
  for (let i = 0; i < chunks; i++) {
    const question = r.pick(TEXT_QUESTIONS);
    const words = Array.from({ length: 2 + r.int(5) }, () => r.pick(WORDS));
    // A new line only in an essay (a one-line field has none; Enter there would not type one).
    const end = r.pick(question.id === 'q7' ? ['. ', ', ', ' '] : ['. ', ', ', ' ', '\n']);
    steps.push({ kind: 'type', question, text: `${words.join(' ')}${end}`, delay: r.pick(profile.delays) });
  }
  // A reload and a kill at random places (never first: something is typed before), and one or
  // two network cuts, each starting mid-chunk and ending one to three chunks later.
  const events: { at: number; step: Step }[] = [
    { at: 1 + r.int(chunks - 1), step: { kind: 'reload' } },
    { at: 1 + r.int(chunks - 1), step: { kind: 'kill' } },
  ];
  for (let cut = 0; cut < 1 + r.int(2); cut++) {
    const at = r.int(chunks - 1);
    (steps[at] as Extract<Step, { kind: 'type' }>).cutAfterMs = r.int(800);
    events.push({ at: Math.min(chunks, at + 1 + r.int(3)), step: { kind: 'online' } });
  }
  for (const e of events.sort((a, b) => b.at - a.at)) steps.splice(e.at, 0, e.step);
  return steps;
}

const describeStep = (s: Step) =>
  s.kind === 'type'
    ? `type ${s.question.id} @${s.delay}ms ${JSON.stringify(s.text)}${s.cutAfterMs === undefined ? '' : ` (cut after ${s.cutAfterMs} ms)`}`
    : s.kind;

let hall: Hall | undefined;
let closeBrowser: (() => Promise<void>) | undefined;
afterAll(async () => {
  await closeBrowser?.();
  await hall?.close();
});

/** What one examinee's run found, for the final checks. */
interface Outcome {
  studentId: string;
  page: Page;
  typed: Answers;
  lost: number;
  notes: string[];
  errors: string[];
}

/** One examinee, start to submission-ready: runs the plan and keeps the model of what was typed. */
async function runExaminee(h: Hall, context: BrowserContext, index: number, profile: Profile, steps: Step[]) {
  const studentId = h.files.roster[index]!.studentId;
  /** What happened, printed once at the end (the plan is printed at the start). */
  const notes: string[] = [];
  /** Console errors of every page the examinee had (each list grows while its page lives). */
  const consoles: string[][] = [];
  /** What each question's field must hold: everything typed, less what a kill took. */
  const typed: Record<string, string> = {};
  let lost = 0;
  let offline = false;
  let onScreen = 0;

  const watch = (p: Page) => consoles.push(watchConsole(p, { networkCut: true }));
  let page = await context.newPage();
  watch(page);
  await signInAndOpen(page, h, index);
  let cdp = await throttle(page, profile.cpu);
  const current = () => page;

  /** The question on screen after a load (the one shown last). */
  const shownQuestion = async (p: Page) => {
    const heading = p.getByRole('heading', { name: new RegExp(`^Question \\d+ of ${TOTAL_QUESTIONS}$`) });
    await heading.waitFor({ timeout: 30_000 });
    return Number(/^Question (\d+)/.exec((await heading.textContent()) ?? '')?.[1]);
  };
  /** Every text question's field holds its model text (checked where it is on screen). */
  const fieldsHold = async (p: Page) => {
    for (const q of TEXT_QUESTIONS) {
      await goTo(p, q.n);
      expect(await answerField(p).inputValue(), `${studentId} ${q.id}`).toBe(typed[q.id] ?? '');
    }
    onScreen = TEXT_QUESTIONS[TEXT_QUESTIONS.length - 1]!.n;
  };

  for (const step of steps) {
    const p = current();
    if (step.kind === 'type') {
      if (onScreen !== step.question.n) {
        await goTo(p, step.question.n);
        onScreen = step.question.n;
      }
      const field = answerField(p);
      await field.click();
      await p.keyboard.press('Control+End');
      let cut: Promise<void> | undefined;
      if (step.cutAfterMs !== undefined) {
        const ms = step.cutAfterMs;
        // The Wi-Fi goes while the examinee types (the timing is the seed's; the interleaving
        // with the keys is the machine's).
        cut = new Promise<void>((resolve) => setTimeout(resolve, ms)).then(async () => {
          await context.setOffline(true);
          offline = true;
        });
      }
      await p.keyboard.type(step.text, { delay: step.delay });
      await cut;
      typed[step.question.id] = (typed[step.question.id] ?? '') + step.text;
      expect(await field.inputValue(), `${studentId} ${step.question.id} after typing`).toBe(typed[step.question.id]);
    } else if (step.kind === 'online') {
      await context.setOffline(false);
      offline = false;
    } else if (step.kind === 'reload') {
      // Right after the last key, no wait for the writer: nothing may be lost.
      await p.reload();
      cdp = await throttle(p, profile.cpu);
      onScreen = await shownQuestion(p);
      expect(await deviceAnswers(p), `${studentId} device database after the reload`).toEqual(nonEmpty(typed));
      await fieldsHold(p);
    } else {
      // What the appliance holds right now has been acknowledged: no kill may take it.
      // (Asked from outside the device: its network may be cut.)
      const acknowledged = await draft(h, p);
      // The tab dies without unload: no pagehide, no flush, nothing kept in localStorage.
      const crashed = p.waitForEvent('crash');
      void cdp.send('Page.crash').catch(() => undefined);
      await crashed;
      await p.close();
      page = await context.newPage();
      watch(page);
      cdp = await throttle(page, profile.cpu);
      await page.goto(`${h.origin}/`);
      onScreen = await shownQuestion(page);
      // What survived, once the device database has settled: a write the dead tab had sent may
      // still land, and the new page may pull the appliance's copy, just after it opens.
      const survived = await settledDeviceAnswers(page);
      for (const q of TEXT_QUESTIONS) {
        const before = typed[q.id] ?? '';
        const after = (survived[q.id] as string | undefined) ?? '';
        const held = (acknowledged[q.id] as string | undefined) ?? '';
        // Nothing acknowledged is lost; what survives is what was typed, up to a point.
        expect(after.startsWith(held), `${studentId} ${q.id}: acknowledged ${JSON.stringify(held)}`).toBe(true);
        expect(before.startsWith(after), `${studentId} ${q.id}: survived ${JSON.stringify(after)}`).toBe(true);
        if (after.length < before.length) {
          notes.push(
            `the kill took ${JSON.stringify(before.slice(after.length))} of ${q.id} (not yet in the device database)`,
          );
          lost += before.length - after.length;
        }
        typed[q.id] = after;
      }
      await fieldsHold(page);
    }
  }
  if (offline) await context.setOffline(false);
  return { studentId, page: current(), typed: nonEmpty(typed), lost, notes, errors: consoles.flat() } satisfies Outcome;
}

/** "mm:ss" or "h:mm:ss" in seconds. */
const timeLeftSeconds = (text: string | null) =>
  (text ?? '')
    .trim()
    .split(':')
    .reduce((total, part) => total * 60 + Number(part), 0);

/** The device database's answers once two reads 750 ms apart agree (at most 20 s). */
async function settledDeviceAnswers(p: Page): Promise<Answers> {
  let last = JSON.stringify(await deviceAnswers(p));
  for (const end = Date.now() + 20_000; Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 750));
    const now = JSON.stringify(await deviceAnswers(p));
    if (now === last) return JSON.parse(now) as Answers;
    last = now;
  }
  throw new Error(`the device database did not settle: ${last}`);
}

/** The answers as stored: a field left empty is no answer (every chunk typed has a word). */
const nonEmpty = (typed: Record<string, string>): Answers =>
  Object.fromEntries(Object.entries(typed).filter(([, v]) => v !== ''));

describe('chaos: three examinees, network cuts, reloads, a killed tab, a clock hours off', () => {
  it(`every acknowledged character is submitted, byte for byte (seed ${SEED})`, async () => {
    console.log(`[chaos] seed ${SEED} (replay with CHAOS_SEED=${SEED})`);
    // Typed as they are stored: the answer file keeps text in NFC.
    expect(WORDS.filter((w) => w !== w.normalize('NFC'))).toEqual([]);
    const r = seededChoices(SEED);
    const profiles: Profile[] = [
      { delays: [0, 10, 20], cpu: 1, clockOffMs: 0 },
      { delays: [30, 50, 80], cpu: 4, clockOffMs: 0 },
      // This device's clock is hours off, fast or slow: the exam follows the appliance's.
      { delays: [10, 20, 40], cpu: 2, clockOffMs: (r.next() < 0.5 ? -1 : 1) * (2 + r.int(5)) * HOUR },
    ];
    const plans = profiles.map((profile, i) => plan(seededChoices(SEED + 7919 * (i + 1)), profile));

    const h = await openHall({
      startAheadMs: START_AHEAD_MS,
      settings: { lockOnReload: false },
      exam: (exam) => ({
        ...exam,
        sections: [
          ...exam.sections,
          {
            id: 's2',
            title: 'Part B',
            questions: [
              { id: 'q6', type: 'essay', prompt: 'Describe a reversible process.', points: 5 },
              { id: 'q7', type: 'short-text', prompt: 'Name the constant k.', points: 1, maxLength: 1_000 },
            ],
          },
        ] as typeof exam.sections,
      }),
    });
    hall = h;
    const devices = await launchChromiumForDevices();
    closeBrowser = devices.close;
    const contexts: BrowserContext[] = [];
    for (const profile of profiles) {
      const context = await devices.newContext();
      if (profile.clockOffMs !== 0) await context.clock.install({ time: Date.now() + profile.clockOffMs });
      contexts.push(context);
    }
    console.log(
      profiles
        .map(
          (p, i) =>
            `[chaos ${SEED}] S${i + 1}: keys ${p.delays.join('/')} ms, CPU ${p.cpu}×, clock ${p.clockOffMs / HOUR} h\n` +
            plans[i]!.map((step) => `  ${describeStep(step)}`).join('\n'),
        )
        .join('\n'),
    );

    const outcomes = await Promise.all(profiles.map((p, i) => runExaminee(h, contexts[i]!, i, p, plans[i]!)));

    for (const o of outcomes) {
      // The time left is the appliance's on every device, the one with its clock hours off too.
      const deadline = h.startMs + h.files.exam.durationMinutes * 60_000;
      await expect
        .poll(async () =>
          Math.abs(
            timeLeftSeconds(await o.page.getByTestId('time-left').textContent()) - (deadline - Date.now()) / 1000,
          ),
        )
        .toBeLessThan(5);
      await expectSaved(h, o.page, o.typed, 60_000);
      await screenshot(o.page, `chaos-${o.studentId}`);
      const submitted = await submitAndCheck(h, o.page, o.studentId, o.typed, { timeoutMs: 60_000 });
      const chars = Object.values(o.typed).reduce<number>((n, v) => n + String(v).length, 0);
      console.log(
        [
          `[chaos ${SEED}] ${o.studentId}: submitted ${chars} characters (${submitted.sha256.slice(0, 12)}…), ` +
            `${o.lost} taken by the kill before the device database held them`,
          ...o.notes.map((n) => `  ${n}`),
        ].join('\n'),
      );
      expect(o.errors).toEqual([]);
    }
  }, 150_000);
});
