/**
 * The proctor dashboard on a phone (390×844), a tablet held upright (820×1180) and on paper, in
 * real Chromium against a real appliance with examinees signing in over HTTP: every monitor tab
 * is a tap away on the phone's bottom bar (with the attention count) and none overflows sideways
 * or has a serious accessibility fault; on the tablet the key columns fit and the exam's title
 * stays in view; an examinee's dialog is in the address (Back closes it, a reload reopens it);
 * the print view has every row of a windowed list and no buttons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HttpExaminee } from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  launchChromium,
  overflowsHorizontally,
  screenshot,
  SCREENSHOT_DIR,
  watchConsole,
  type Browser,
} from './browser.js';
import { CHIEF, openHall, type Hall } from './hall.js';

// In the page (page.evaluate): the root tsconfig has no DOM types.
declare const window: { innerWidth: number; scrollY: number };

const EXAM_TITLE = 'Chemistry 201 — Final';
/** Enough for the table to be windowed (use-row-window.ts WINDOW_FROM_ROWS is 60). */
const EXAMINEES = 70;
const TABS = ['Exam info', 'Participants', 'Messages', 'Exam preview', 'Resume codes', 'Sync status'];

let h: Hall;
let b: Browser;
beforeAll(async () => {
  [h, b] = await Promise.all([openHall({ startAheadMs: 3_000, examinees: EXAMINEES }), launchChromium()]);
});
afterAll(async () => {
  await b?.close();
  await h?.close();
});

const live = (p: Page) => p.locator('[data-testid="live-indicator"][data-state="live"]');

async function post(e: HttpExaminee, path: string): Promise<number> {
  const res = await fetch(`${e.baseUrl}${path}`, { method: 'POST', headers: e.headers() });
  return res.status;
}

/** A screenshot of what is on screen (a full page of 70 cards would be too tall to look at). */
async function viewShot(p: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await p.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Whether the element's box is wholly inside the viewport's width. */
async function withinWidth(p: Page, selector: string): Promise<boolean> {
  return p
    .locator(selector)
    .first()
    .evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.left >= 0 && r.right <= window.innerWidth + 0.5;
    });
}

/** Whose Actions button has the focus (its data-actions-for), or null. */
const focusedActions = (p: Page) =>
  p.evaluate(
    () =>
      (
        globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }
      ).document.activeElement?.getAttribute('data-actions-for') ?? null,
  );

describe('the proctor dashboard on a phone, a tablet and paper', () => {
  it('reaches every tab on a phone, fits the key columns on a tablet, keeps the dialog in the address, prints every row', async () => {
    const [ada, grace] = h.files.roster.map((r) => new HttpExaminee(h.appliance.baseUrl, r.studentId, r.accessCode));
    // The key is released at the start: wait for it (the hall opens 3 s ahead, often quicker than that).
    await new Promise((r) => setTimeout(r, Math.max(0, h.startMs - Date.now() + 250)));
    await Promise.all([ada!.prepare(), grace!.prepare()]);

    const p = await b.context.newPage();
    const errors = watchConsole(p);
    await p.setViewportSize({ width: 390, height: 844 });
    await p.goto(`${h.appliance.baseUrl}/proctor/`);
    await p.getByLabel('Username').fill(CHIEF.username);
    await p.getByLabel('Password').fill(CHIEF.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
    await live(p).waitFor();

    // Ada asks for a bathroom break: the count shows on the phone's Participants tab.
    expect(await post(ada!, '/api/exam/bathroom-break')).toBe(200);
    const participantsTab = p.getByRole('tab', { name: 'Participants (1 waiting)' });
    await participantsTab.waitFor();
    await p.getByTestId('tab-badge-participants').filter({ hasText: '1' }).waitFor();
    expect(await p.getByTestId('tab-badge-participants').isVisible()).toBe(true);
    await p
      .getByTestId('attention-toast')
      .getByRole('button', { name: /Dismiss/ })
      .click();

    // Every tab by a tap on the bottom bar: in view, selected, nothing wider than the phone, axe clean.
    const serious: string[] = [];
    const bar = await p.getByRole('tablist', { name: 'Monitor tabs' }).boundingBox();
    expect(bar!.y + bar!.height).toBeCloseTo(844, 0);
    for (const name of TABS) {
      const tab = p.getByRole('tab', { name: new RegExp(`^${name}`) });
      const box = (await tab.boundingBox())!;
      expect(box.x >= 0 && box.x + box.width <= 390, `${name} in view`).toBe(true);
      await tab.click();
      expect(await tab.getAttribute('aria-selected')).toBe('true');
      await p.locator('.tabpanel:not([hidden])').waitFor();
      if (name === 'Participants') await p.getByTestId('participant-cards').waitFor();
      expect(await overflowsHorizontally(p), `${name} overflows on a phone`).toBe(false);
      await viewShot(p, `proctor-phone-${name.toLowerCase().replace(/ /g, '-')}`);
      serious.push(...(await audit(p, `phone, ${name}`)));
    }
    expect(serious).toEqual([]);
    // The ARIA tabs pattern still holds on the bar: arrow keys move and select.
    await p.getByRole('tab', { name: 'Sync status' }).focus();
    await p.keyboard.press('ArrowRight');
    expect(await p.getByRole('tab', { name: 'Exam info' }).getAttribute('aria-selected')).toBe('true');
    await p.getByRole('tab', { name: /^Participants/ }).click();

    // The examinee dialog is in the address: opened from Grace's card, Back closes it, Forward and
    // a reload bring it back, Close takes it out.
    const dialog = p.getByRole('dialog');
    const before = p.url();
    await p.getByRole('button', { name: `Actions for ${h.files.roster[1]!.name}`, exact: true }).click();
    await dialog.waitFor();
    expect(new URL(p.url()).hash).toContain(`examinee=${h.files.roster[1]!.studentId}`);
    expect(await overflowsHorizontally(p)).toBe(false);
    await viewShot(p, 'proctor-phone-dialog');
    await p.goBack();
    await dialog.waitFor({ state: 'hidden' });
    expect(p.url()).toBe(before);
    // Focus is back on the card's Actions button, as after Close, not lost on the page.
    await expect.poll(() => focusedActions(p)).toBe(h.files.roster[1]!.studentId);
    await p.goForward();
    await dialog.waitFor();
    await p.reload();
    await live(p).waitFor();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    // The address follows in the dialog's `close` event, a task after it is hidden.
    await expect.poll(() => new URL(p.url()).hash).not.toContain('examinee=');
    // Opened by the reload, not from a button: focus still lands on the examinee's Actions.
    await expect.poll(() => focusedActions(p)).toBe(h.files.roster[1]!.studentId);

    // A tablet held upright: the key columns fit beside the actions, the title stays in view.
    await p.setViewportSize({ width: 820, height: 1180 });
    await p.getByTestId('participants-table').waitFor();
    for (const column of ['name', 'status', 'downloads', 'upload', 'timeLeft'])
      expect(await withinWidth(p, `thead th[data-column="${column}"]`), `${column} fits`).toBe(true);
    expect(await withinWidth(p, 'tbody tr[data-student] .actions-cell')).toBe(true);
    expect(await overflowsHorizontally(p)).toBe(false);
    await p.mouse.wheel(0, 2_000);
    await expect.poll(() => p.evaluate(() => window.scrollY)).toBeGreaterThan(200);
    const title = (await p.getByTestId('monitor-title').boundingBox())!;
    expect(title.y).toBeGreaterThanOrEqual(-0.5);
    expect(title.y).toBeLessThan(5);
    expect(await live(p).isVisible()).toBe(true);
    await viewShot(p, 'proctor-tablet-participants');

    // On paper: every one of the 70 rows (the screen renders a window of them), no buttons (the
    // column headers' sort buttons print as their names).
    await p.getByRole('button', { name: 'Print' }).waitFor();
    expect(await p.locator('tbody tr[data-student]').count()).toBeLessThan(EXAMINEES);
    await p.emulateMedia({ media: 'print' });
    await expect.poll(() => p.locator('tbody tr[data-student]').count()).toBe(EXAMINEES);
    expect(await p.getByTestId('print-head').isVisible()).toBe(true);
    await p.getByTestId('print-head').filter({ hasText: 'Printed' }).waitFor();
    expect(await p.getByRole('heading', { name: EXAM_TITLE }).isVisible()).toBe(true);
    const visibleButtons = await p
      .locator('button')
      .evaluateAll((all) => all.filter((el) => el.checkVisibility() && !el.classList.contains('sort-button')).length);
    expect(visibleButtons).toBe(0);
    expect(await p.getByRole('tablist').isVisible()).toBe(false);
    expect(await p.locator('thead th[data-column="name"]').isVisible()).toBe(true);
    await screenshot(p, 'proctor-print');
    await p.emulateMedia({ media: 'screen' });
    await expect.poll(() => p.locator('tbody tr[data-student]').count()).toBeLessThan(EXAMINEES);

    expect(errors).toEqual([]);
  });
});
