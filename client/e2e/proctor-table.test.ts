/**
 * The participants table of a hall of 1,000 examinees in real Chromium against a real appliance:
 * only the rows in view are in the DOM while the count says 1,000; a person scrolls with the mouse
 * wheel to the last examinee; the column headers sort (aria-sort, first row); examinees signing in
 * over HTTP appear live, in the sorted order; and a row's actions open from a search.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HttpExaminee } from '../../tests/support/appliance-process.js';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { CHIEF, openHall } from './hall.js';

const MIN = 60_000;
const EXAMINEES = 1_000;
const EXAM_TITLE = 'Chemistry 201 — Final';
/** client/src/proctor/use-row-window.ts ROW_HEIGHT_PX (not imported: it would bring the DOM's types here). */
const ROW_HEIGHT_PX = 53;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const table = (p: Page) => p.getByTestId('participants-table');
const dataRows = (p: Page) => table(p).locator('tbody tr[data-student]');
const firstStudent = (p: Page) => dataRows(p).first().getAttribute('data-student');
const header = (p: Page, column: string) => table(p).locator(`thead th[data-column="${column}"]`);

/** Whether the row is in the DOM and within the table's scroll container. */
async function rowInView(p: Page, studentId: string): Promise<boolean> {
  const row = p.locator(`tr[data-student="${studentId}"]`);
  if ((await row.count()) === 0) return false;
  const [box, r] = await Promise.all([p.locator('.table-scroll').boundingBox(), row.boundingBox()]);
  return box !== null && r !== null && r.y >= box.y && r.y + r.height <= box.y + box.height + 1;
}

describe('the participants table of 1,000 examinees in Chromium', () => {
  it('renders only the rows in view, scrolls to the last, sorts by headers and shows live sign-ins', async () => {
    const h = await openHall({ startAheadMs: 10 * MIN, examinees: EXAMINEES });
    cleanups.push(() => h.close());
    const b = await launchChromium();
    cleanups.push(() => b.close());
    const p = await b.context.newPage();
    const errors = watchConsole(p);

    await p.goto(`${h.appliance.baseUrl}/proctor/`);
    await p.getByLabel('Username').fill(CHIEF.username);
    await p.getByLabel('Password').fill(CHIEF.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
    await p.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 1000 of 1000 examinees' }).waitFor();
    await p.getByTestId('chip-all').filter({ hasText: 'All (1000)' }).waitFor();

    // Far fewer rows in the DOM than examinees, each of the fixed height; Name ascending at first.
    await dataRows(p).first().waitFor();
    const rendered = await table(p).locator('tbody tr').count();
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(80);
    expect(
      await dataRows(p)
        .first()
        .evaluate((r) => r.getBoundingClientRect().height),
    ).toBeCloseTo(ROW_HEIGHT_PX, 0);
    expect(await header(p, 'name').getAttribute('aria-sort')).toBe('ascending');
    expect(await firstStudent(p)).toBe('S1');

    // A typed max downloads stays with its examinee when a search draws a new list into the same
    // rows' elements (participants-table.tsx RowKeys), and every row shows its own examinee.
    const s1Max = p.getByLabel('Max downloads for Examinee 1', { exact: true });
    await s1Max.click();
    await p.keyboard.press('ControlOrMeta+a');
    await s1Max.pressSequentially('5', { delay: 60 });
    await p.keyboard.press('Enter');
    await p.getByTestId('participants-note').filter({ hasText: 'Max downloads for Examinee 1: 5.' }).waitFor();
    const search = p.getByLabel('Search by name or student ID');
    await search.click();
    await p.keyboard.type('S77', { delay: 40 });
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 11 of 1000 examinees' }).waitFor();
    const shownRows = () =>
      dataRows(p).evaluateAll((rows) =>
        rows.map((r) => ({
          student: r.getAttribute('data-student'),
          name: r.querySelector('th')?.textContent,
          field: r.querySelector('input')?.id,
          max: r.querySelector('input')?.value,
        })),
      );
    const s77 = await shownRows();
    expect(s77.map((r) => r.student)).toEqual(['S77', ...Array.from({ length: 10 }, (_, i) => `S77${i}`)]);
    for (const r of s77)
      expect(r).toEqual({
        student: r.student,
        name: `Examinee ${r.student!.slice(1)}`,
        field: `max-downloads-${r.student}`,
        max: '2',
      });
    await p.keyboard.press('ControlOrMeta+a');
    await p.keyboard.press('Backspace');
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 1000 of 1000 examinees' }).waitFor();
    expect((await shownRows())[0]).toEqual({ student: 'S1', name: 'Examinee 1', field: 'max-downloads-S1', max: '5' });

    // A person scrolls down with the wheel until the last examinee is in view.
    const scroller = p.locator('.table-scroll');
    await scroller.scrollIntoViewIfNeeded();
    const box = (await scroller.boundingBox())!;
    await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect
      .poll(
        async () => {
          await p.mouse.wheel(0, 2_500);
          return rowInView(p, 'S1000');
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBe(true);
    await expect.poll(() => dataRows(p).last().getAttribute('data-student')).toBe('S1000');
    expect(await table(p).locator('tbody tr').count()).toBeLessThan(80);

    // A search typed there, key by key, shows its matches from the top; so does clearing it.
    const scrollTop = () => p.evaluate<number>("document.querySelector('.table-scroll').scrollTop");
    expect(await scrollTop()).toBeGreaterThan(0);
    await search.click();
    await p.keyboard.type('Examinee 9', { delay: 40 });
    // Examinee 9, 90–99 and 900–999.
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 111 of 1000 examinees' }).waitFor();
    await expect.poll(() => firstStudent(p)).toBe('S9');
    expect(await scrollTop()).toBe(0);
    expect(await rowInView(p, 'S9')).toBe(true);
    await scroller.hover();
    await p.mouse.wheel(0, 2_000);
    await expect.poll(scrollTop).toBeGreaterThan(0);
    await search.click();
    await p.keyboard.press('ControlOrMeta+a');
    await p.keyboard.press('Backspace');
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 1000 of 1000 examinees' }).waitFor();
    await expect.poll(() => firstStudent(p)).toBe('S1');
    expect(await scrollTop()).toBe(0);

    // Name twice: descending, from the top.
    await header(p, 'name').getByRole('button').click();
    await header(p, 'name').getByRole('button').click();
    await expect.poll(() => header(p, 'name').getAttribute('aria-sort')).toBe('descending');
    await expect.poll(() => firstStudent(p)).toBe('S1000');
    expect(await rowInView(p, 'S1000')).toBe(true);
    // The arrow a person sees (CSS, from aria-sort).
    expect(
      await header(p, 'name')
        .getByRole('button')
        .evaluate(
          (b) =>
            (
              globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }
            ).getComputedStyle(b, '::after').content,
        ),
    ).toContain('▼');

    // Examinees sign in over HTTP: the filter chip counts them live.
    const signIn = async (studentId: string) => {
      const entry = h.files.roster.find((r) => r.studentId === studentId)!;
      const res = await new HttpExaminee(h.appliance.baseUrl, entry.studentId, entry.accessCode).signIn();
      expect(res.status, await res.clone().text()).toBe(200);
    };
    await Promise.all(['S500', 'S501', 'S502'].map(signIn));
    await p.getByTestId('chip-logged-in').filter({ hasText: '(3)' }).waitFor();

    // Another header: Status, then descending puts the signed-in examinees first, ties by name.
    await header(p, 'status').getByRole('button').click();
    await expect.poll(() => header(p, 'status').getAttribute('aria-sort')).toBe('ascending');
    expect(await header(p, 'name').getAttribute('aria-sort')).toBeNull();
    await header(p, 'status').getByRole('button').click();
    await expect.poll(() => header(p, 'status').getAttribute('aria-sort')).toBe('descending');
    await expect
      .poll(() => dataRows(p).evaluateAll((rows) => rows.slice(0, 4).map((r) => r.getAttribute('data-student'))))
      .toEqual(['S500', 'S501', 'S502', 'S1']);
    // One more signs in: their row moves to the top live.
    await signIn('S10');
    await expect.poll(() => firstStudent(p)).toBe('S10');
    // The focus follows its examinee when live updates move their row: S500's Actions button keeps
    // it as S20 signs in above it.
    await table(p).locator('[data-actions-for="S500"]').focus();
    await signIn('S20');
    await expect
      .poll(() => dataRows(p).evaluateAll((rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-student'))))
      .toEqual(['S10', 'S20', 'S500']);
    expect(await p.evaluate<string | null>("document.activeElement?.getAttribute('data-actions-for') ?? null")).toBe(
      'S500',
    );
    await table(p)
      .locator('tr[data-student="S10"] [data-column="status"]', { hasText: 'Logged in, not started' })
      .waitFor();
    await screenshot(p, 'proctor-table-1000');

    // A row far down the list is found by search, and its actions open.
    await search.click();
    await p.keyboard.press('ControlOrMeta+a');
    await p.keyboard.type('S777', { delay: 15 });
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 1 of 1000 examinees' }).waitFor();
    await p.getByRole('button', { name: 'Actions for Examinee 777' }).click();
    const dialog = p.getByRole('dialog', { name: 'Examinee 777 (S777)' });
    await dialog.waitFor();
    // The dialog is a modal however it is shown (quick-modal.ts): the focus is in it, Tab and
    // Shift+Tab go round its own controls, a press beside it changes nothing, and the page
    // behind becomes inert once it has painted.
    const focusInDialog = () =>
      p.evaluate<boolean>(`Boolean(document.activeElement?.closest('dialog[data-testid="row-actions"]'))`);
    expect(await focusInDialog()).toBe(true);
    const inert = (selector: string) =>
      p.evaluate<boolean>(`Boolean(document.querySelector(${JSON.stringify(selector)})?.closest('[inert]'))`);
    await expect.poll(() => inert('[data-testid="participants-table"]')).toBe(true);
    expect(await inert('[data-testid="participants-count"]')).toBe(true);
    expect(await inert('dialog[data-testid="row-actions"]')).toBe(false);
    // What the page adds beside it meanwhile is inert too (here a button put next to the table).
    await p.evaluate(
      `(() => { const b = document.createElement('button'); b.id = 'added-meanwhile'; b.textContent = 'Added'; document.querySelector('.table-scroll').after(b); })()`,
    );
    await expect.poll(() => inert('#added-meanwhile')).toBe(true);
    const stops = await p.evaluate<number>(
      `[...document.querySelector('dialog[data-testid="row-actions"]').querySelectorAll('button, input, select, textarea, summary, [href], [tabindex]')].filter((e) => e.tabIndex >= 0 && !e.matches(':disabled') && e.getClientRects().length > 0).length`,
    );
    expect(stops).toBeGreaterThan(5);
    for (let i = 0; i < stops + 3; i++) {
      await p.keyboard.press('Tab');
      expect(await focusInDialog()).toBe(true);
    }
    for (let i = 0; i < 4; i++) {
      await p.keyboard.press('Shift+Tab');
      expect(await focusInDialog()).toBe(true);
    }
    await p.mouse.click(3, 3);
    expect(await dialog.isVisible()).toBe(true);
    expect(await focusInDialog()).toBe(true);
    await p.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Closed, the page is live again and the focus is back on the row's button.
    await expect
      .poll(() => p.evaluate<string | null>("document.activeElement?.getAttribute('data-actions-for') ?? null"))
      .toBe('S777');
    expect(await p.locator('[inert]').count()).toBe(0);
    await p.evaluate(`document.getElementById('added-meanwhile').remove()`);
    await p.getByRole('button', { name: 'Actions for Examinee 777' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });

    expect(errors).toEqual([]);
  });
});
