/**
 * Every keystroke safe: text typed into the essay and short-text answers with real key events
 * (keyboard.type, never fill) at several speeds, with the CPU throttled through the DevTools
 * protocol as a school laptop is slow, online and across a question change. Each case asserts
 * that the field and the appliance's draft hold exactly what was typed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { asExaminee, eventually, openHall, signInAndOpen, type Hall } from './hall.js';

const START_AHEAD_MS = 15_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Sheet {
  documents: { counter: number; answers: Record<string, unknown> }[];
}

/** Clicks question n in the palette and waits until it is on screen, as a person looks. */
async function goTo(p: Page, n: number): Promise<void> {
  await p
    .getByRole('navigation', { name: 'Questions' })
    .getByRole('button', { name: new RegExp(`^Question ${n},`) })
    .click();
  await p.getByRole('heading', { name: new RegExp(`^Question ${n} of `) }).waitFor();
}

/** The appliance's draft of the examinee signed in on `p`. */
async function draft(h: Hall, p: Page): Promise<Record<string, unknown>> {
  const { body } = await asExaminee<Sheet>(h, p, '/api/exam/answers/pull?counter=0');
  return body.documents[0]?.answers ?? {};
}

async function throttle(p: Page, rate: number): Promise<void> {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
}

const ESSAY = "Newton's third law: every action has an equal and opposite reaction. The quick brown fox.";
const SHORT = 'Tr the lazy dog jumps';

describe('typing into answers in Chromium (real key events, CPU throttled)', () => {
  for (const { delay, rate } of [
    { delay: 0, rate: 4 },
    { delay: 20, rate: 6 },
    { delay: 50, rate: 4 },
    { delay: 100, rate: 1 },
  ]) {
    it(`keeps every character at ${delay} ms per key with the CPU ${rate}× slower`, async () => {
      const h = await openHall({ startAheadMs: START_AHEAD_MS, settings: { lockOnReload: false } });
      cleanups.push(() => h.close());
      const b = await launchChromium();
      cleanups.push(() => b.close());
      const p = await b.context.newPage();
      const errors = watchConsole(p);
      await signInAndOpen(p, h);
      await throttle(p, rate);

      // The essay (question 4), typed key by key.
      await goTo(p, 4);
      const essay = p.getByRole('textbox', { name: 'Your answer' });
      await essay.click();
      await p.keyboard.type(ESSAY, { delay });
      expect(await essay.inputValue()).toBe(ESSAY);

      // Straight on to another question: what the field held is written at once.
      await goTo(p, 3);
      const numeric = p.getByRole('textbox', { name: 'Your answer' });
      await numeric.click();
      await p.keyboard.type('6,02', { delay });
      expect(await numeric.inputValue()).toBe('6,02');

      // Back to the essay: it shows exactly what was typed, and typing goes on at its end.
      await goTo(p, 4);
      const again = p.getByRole('textbox', { name: 'Your answer' });
      expect(await again.inputValue()).toBe(ESSAY);
      await again.click();
      await p.keyboard.press('End');
      await p.keyboard.type(` ${SHORT}`, { delay });
      expect(await again.inputValue()).toBe(`${ESSAY} ${SHORT}`);

      await eventually(
        'the typed text on the appliance',
        async () => {
          const d = await draft(h, p);
          return d.q4 === `${ESSAY} ${SHORT}` && d.q3 === 6.02;
        },
        30_000,
      );
      await p.getByTestId('connection').filter({ hasText: 'Connected: answers saved' }).waitFor();
      await screenshot(p, `typing-${delay}ms-${rate}x`);
      expect(await draft(h, p)).toMatchObject({ q3: 6.02, q4: `${ESSAY} ${SHORT}` });
      expect(errors).toEqual([]);
    });
  }
});
