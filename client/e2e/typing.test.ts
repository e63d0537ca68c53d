/**
 * Every keystroke safe: text typed into the essay and short-text answers with real key events
 * (keyboard.type, never fill) at several speeds, with the CPU throttled through the DevTools
 * protocol as a school laptop is slow, online and across a question change. Each case asserts
 * that the field, the device's database, the appliance's draft, the submitted answer file and
 * the signed receipt hold exactly what was typed (answers.ts). More conditions (offline, reload,
 * IME, paste, undo, caret) are in human-input.test.ts; the seeded chaos test in chaos.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answerField, deviceAnswers, expectSaved, goTo, submitAndCheck, throttle } from './answers.js';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { openHall, signInAndOpen, type Hall } from './hall.js';

const START_AHEAD_MS = 15_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ESSAY = "Newton's third law: every action has an equal and opposite reaction. The quick brown fox.";
const SHORT = 'Tr the lazy dog jumps';

const CASES = [
  { delay: 0, rate: 4 },
  { delay: 20, rate: 6 },
  { delay: 50, rate: 4 },
  { delay: 100, rate: 1 },
];

describe('typing into answers in Chromium (real key events, CPU throttled)', () => {
  // One hall for all cases, one examinee each: the exam's start is waited for once.
  let h: Hall;
  beforeAll(async () => {
    h = await openHall({ startAheadMs: START_AHEAD_MS, settings: { lockOnReload: false }, examinees: CASES.length });
  });
  afterAll(async () => {
    await h?.close();
  });

  for (const [index, { delay, rate }] of CASES.entries()) {
    it(`keeps every character at ${delay} ms per key with the CPU ${rate}× slower`, async () => {
      const studentId = h.files.roster[index]!.studentId;
      const b = await launchChromium();
      cleanups.push(() => b.close());
      const p = await b.context.newPage();
      const errors = watchConsole(p);
      await signInAndOpen(p, h, index);
      await throttle(p, rate);

      // The essay (question 4), typed key by key.
      await goTo(p, 4);
      const essay = answerField(p);
      await essay.click();
      await p.keyboard.type(ESSAY, { delay });
      expect(await essay.inputValue()).toBe(ESSAY);

      // Straight on to another question: what the field held is written at once.
      await goTo(p, 3);
      await expect.poll(async () => (await deviceAnswers(p)).q4).toBe(ESSAY);
      const numeric = answerField(p);
      await numeric.click();
      await p.keyboard.type('6,02', { delay });
      expect(await numeric.inputValue()).toBe('6,02');

      // Back to the essay: it shows exactly what was typed, and typing goes on at its end.
      await goTo(p, 4);
      const again = answerField(p);
      expect(await again.inputValue()).toBe(ESSAY);
      await again.click();
      await p.keyboard.press('End');
      await p.keyboard.type(` ${SHORT}`, { delay });
      expect(await again.inputValue()).toBe(`${ESSAY} ${SHORT}`);

      const expected = { q3: 6.02, q4: `${ESSAY} ${SHORT}` };
      await expectSaved(h, p, expected);
      await screenshot(p, `typing-${delay}ms-${rate}x`);
      await submitAndCheck(h, p, studentId, expected);
      expect(errors).toEqual([]);
    });
  }
});
