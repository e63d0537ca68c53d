/**
 * The proctor dashboard's address in real Chromium against a real appliance: it follows the tab
 * and the status filter, Back returns to the previous tab and then to the exam list, a reload
 * keeps the place, and after the appliance restarts (its proctor sessions live in memory) the
 * dashboard says so and a sign-in comes back to the same exam, tab and filter. One hall, one
 * browser, few page loads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { CHIEF, openHall } from './hall.js';

const EXAM_TITLE = 'Chemistry 201 — Final';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Signs in as a person does: key by key into each field, then the button. */
async function signIn(p: Page): Promise<void> {
  await p.getByLabel('Username').pressSequentially(CHIEF.username, { delay: 20 });
  await p.getByLabel('Password').pressSequentially(CHIEF.password, { delay: 20 });
  await p.getByRole('button', { name: 'Sign in' }).click();
}

const hash = (p: Page) => new URL(p.url()).hash;
const tab = (p: Page, name: string) => p.getByRole('tab', { name });
const live = (p: Page) => p.locator('[data-testid="live-indicator"][data-state="live"]');

describe('the proctor dashboard’s address (built client, appliance as a child process)', () => {
  it('follows tab and filter, Back works, a reload keeps the place, and a restart asks to sign in and comes back', async () => {
    const h = await openHall({ startAheadMs: 10 * 60_000 });
    cleanups.push(() => h.close());
    const b = await launchChromium();
    cleanups.push(() => b.close());
    const p = await b.context.newPage();
    const problems = watchConsole(p, { networkCut: true });

    await p.goto(`${h.origin}/proctor/`);
    await signIn(p);
    await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
    await live(p).waitFor();
    const examHash = hash(p);
    expect(examHash).toMatch(/^#exam=[^&]+&tab=participants$/);

    // Tabs, clicked as a person does, each a step in the history.
    await tab(p, 'Messages').click();
    await expect.poll(() => hash(p)).toContain('tab=messages');
    await tab(p, 'Exam info').click();
    await expect.poll(() => hash(p)).toContain('tab=info');
    await p.goBack();
    await expect.poll(() => tab(p, 'Messages').getAttribute('aria-selected')).toBe('true');
    expect(hash(p)).toContain('tab=messages');
    await p.goBack();
    await expect.poll(() => tab(p, 'Participants').getAttribute('aria-selected')).toBe('true');

    // The filter is in the address too (replacing the entry: a filter is not a step back).
    await p.getByTestId('chip-not-started').filter({ hasText: 'Not yet started (3)' }).click();
    await expect.poll(() => hash(p)).toContain('status=not-started');
    const filtered = hash(p);

    // A reload comes back to the same tab and filter.
    await p.reload();
    await live(p).waitFor();
    expect(hash(p)).toBe(filtered);
    await expect.poll(() => tab(p, 'Participants').getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => p.getByTestId('chip-not-started').getAttribute('aria-pressed')).toBe('true');

    // The appliance restarts: the session is gone, the dashboard says why and keeps the place.
    await h.restart();
    await p.reload();
    await p.getByText('The appliance restarted: sign in again').waitFor();
    expect(hash(p)).toBe(filtered);
    await screenshot(p, 'proctor-routing-restarted');
    await signIn(p);
    await live(p).waitFor();
    expect(hash(p)).toBe(filtered);
    await expect.poll(() => tab(p, 'Participants').getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => p.getByTestId('chip-not-started').getAttribute('aria-pressed')).toBe('true');

    // Back from the monitor's first tab leads to the exam list.
    await p.getByRole('button', { name: 'All exams' }).click();
    await p.getByRole('heading', { name: 'Exams on this appliance' }).waitFor();
    expect(hash(p)).toBe('');
    await p.goBack();
    await live(p).waitFor();
    expect(hash(p)).toBe(filtered);
    expect(examHash.split('&')[0]).toBe(filtered.split('&')[0]);
    // The restart cuts the monitor stream and refuses it until the box is back; the 401 is the lost session.
    const expected = /401|Unauthorized|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_REFUSED/;
    expect(problems.filter((m) => !expected.test(m))).toEqual([]);
  }, 60_000);
});
