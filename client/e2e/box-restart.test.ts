/**
 * The box restarts mid-exam (SIGKILL, then back on the same data and port), as a power cut or a
 * watchdog restart does, in real Chromium: the answers' indicator follows the answers alone. It
 * says "saved" while the appliance holds every character (also while the box is down and nothing
 * new was typed), "offline" while something typed is only on the device, and "saved" again as
 * soon as the appliance holds it after the restart, not seconds later. The indicator's states are
 * recorded in the page with their times (a MutationObserver), so that no state is missed between
 * two looks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from './browser.js';
import { asExaminee, eventually, openHall, signInAndOpen, type Hall } from './hall.js';

const START_AHEAD_MS = 15_000;
const BEFORE = 'Written before the restart.';
const DURING = ' Written while the box was down.';
/** From the box being ready again to "saved" on screen (the retry runs at once on reconnect). */
const SAVED_AFTER_RESTART_MS = 2_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Sheet {
  documents: { answers: Record<string, unknown> }[];
}

/** Starts recording the indicator's states (data-state) with the page's clock. */
async function recordIndicator(p: Page): Promise<void> {
  await p.evaluate(() => {
    // The page's own types (this file is compiled without the DOM library).
    interface PageGlobals {
      __states: { state: string; at: number }[];
      document: { body: unknown; querySelector(s: string): { getAttribute(a: string): string | null } | null };
      MutationObserver: new (f: () => void) => { observe(target: unknown, options: object): void };
    }
    const w = globalThis as unknown as PageGlobals;
    w.__states = [];
    const read = () => {
      const state = w.document.querySelector('[data-testid="connection"]')?.getAttribute('data-state') ?? 'none';
      const last = w.__states[w.__states.length - 1];
      if (last?.state !== state) w.__states.push({ state, at: Date.now() });
    };
    read();
    new w.MutationObserver(read).observe(w.document.body, { subtree: true, attributes: true, childList: true });
  });
}

const states = (p: Page) =>
  p.evaluate(() => (globalThis as unknown as { __states: { state: string; at: number }[] }).__states);

describe('the box restarts mid-exam', () => {
  it('keeps the indicator on the answers: saved while the box holds them, saved again at once after', async () => {
    const h: Hall = await openHall({ startAheadMs: START_AHEAD_MS, settings: { lockOnReload: false } });
    cleanups.push(() => h.close());
    const b = await launchChromium();
    cleanups.push(() => b.close());
    const p = await b.context.newPage();
    await signInAndOpen(p, h);
    await p
      .getByRole('navigation', { name: 'Questions' })
      .getByRole('button', { name: /^Question 4,/ })
      .click();
    const essay = p.getByRole('textbox', { name: 'Your answer' });
    await essay.click();
    await p.keyboard.type(BEFORE, { delay: 20 });
    const indicator = p.getByTestId('connection');
    await indicator.filter({ hasText: 'Connected: answers saved' }).waitFor();
    await recordIndicator(p);

    // Down and up again with nothing new typed: the appliance held everything all along.
    await h.restart();
    await eventually('the exam stream back', async () => (await asExaminee<unknown>(h, p, '/api/exam')).status === 200);
    await p.waitForTimeout(1_000); // what a person would see in the second after the box is back
    expect((await states(p)).map((s) => s.state)).toEqual(['online']);

    // Typed while the box is down: kept on the device; saved as soon as the box holds it.
    let readyAt = 0;
    await h.restart(async () => {
      await p.keyboard.type(DURING, { delay: 20 });
      await indicator.filter({ hasText: 'Offline: answers kept on this device' }).waitFor();
      await screenshot(p, 'box-restart-down');
    });
    readyAt = await p.evaluate(() => Date.now());
    await indicator.filter({ hasText: 'Connected: answers saved' }).waitFor({ timeout: 15_000 });
    const savedAt = (await states(p)).at(-1)!;
    console.log(
      `indicator after the restart: ${JSON.stringify((await states(p)).map((s) => ({ ...s, at: s.at - readyAt })))}`,
    );
    expect(savedAt.state).toBe('online');
    expect(savedAt.at - readyAt, JSON.stringify(await states(p))).toBeLessThan(SAVED_AFTER_RESTART_MS);
    const { body } = await asExaminee<Sheet>(h, p, '/api/exam/answers/pull?counter=0');
    expect(body.documents[0]?.answers.q4).toBe(BEFORE + DURING);
    expect(await essay.inputValue()).toBe(BEFORE + DURING);
  });
});
