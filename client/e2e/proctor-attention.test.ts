/**
 * What needs a proctor, in real Chromium against a real appliance with live examinees (over
 * HTTP, as their PWA would talk): an examinee whose device locked shows as Locked; the sound
 * setting is off by default and kept across a reload; a bathroom-break request raises the count
 * on the Participants tab and in the title, a toast naming the examinee (with the tone, when
 * turned on) and a Needs-attention entry; the toast opens the examinee's dialog at the bathroom
 * section, and approving the break clears count, title, toast and entry. axe with the toast
 * shown, at desktop and phone widths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HttpExaminee } from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { focusedId, launchChromium, overflowsHorizontally, screenshot, watchConsole, type Browser } from './browser.js';
import { CHIEF, eventually, HttpProctor, openHall, type Hall } from './hall.js';

const EXAM_TITLE = 'Chemistry 201 — Final';
const START_AHEAD_MS = 3_000;

let h: Hall;
let b: Browser;
beforeAll(async () => {
  [h, b] = await Promise.all([openHall({ startAheadMs: START_AHEAD_MS }), launchChromium()]);
});
afterAll(async () => {
  await b?.close();
  await h?.close();
});

const live = (p: Page) => p.locator('[data-testid="live-indicator"][data-state="live"]');
const toasts = (p: Page) => p.getByTestId('attention-toast');
const badge = (p: Page, studentId: string) => p.locator(`tr[data-student="${studentId}"] [data-column="status"]`);

async function post(e: HttpExaminee, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${e.baseUrl}${path}`, {
    method: 'POST',
    headers: e.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res.status;
}

describe('attention on the proctor dashboard (built client, appliance as a child process)', () => {
  it('counts, toasts and lists a bathroom-break request until a proctor approves it; Locked; the sound setting', async () => {
    const [ada, grace] = h.files.roster.map((r) => new HttpExaminee(h.appliance.baseUrl, r.studentId, r.accessCode));
    if (!ada || !grace) throw new Error('roster too short');
    const adaName = h.files.roster[0]!.name;
    // Both start the exam (the key is released at the start); Grace's device then locks.
    await eventually('the exam started', async () => Date.now() >= h.startMs);
    await Promise.all([ada.prepare(), grace.prepare()]);
    expect(await post(grace, '/api/exam/lock', { reason: 'reload' })).toBe(201);

    const p = await b.context.newPage();
    const problems = watchConsole(p);
    // Counts every tone the dashboard starts (Web Audio, no audio files).
    await p.addInitScript({
      content: `window.tones = 0;
        const start = OscillatorNode.prototype.start;
        OscillatorNode.prototype.start = function (...args) { window.tones += 1; return start.apply(this, args); };`,
    });
    await p.goto(`${h.origin}/proctor/`);
    await p.getByLabel('Username').pressSequentially(CHIEF.username, { delay: 10 });
    await p.getByLabel('Password').pressSequentially(CHIEF.password, { delay: 10 });
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
    await live(p).waitFor();

    // Locked, not Active, and a filter of its own.
    await badge(p, grace.studentId).filter({ hasText: 'Locked' }).waitFor();
    await badge(p, ada.studentId).filter({ hasText: 'Active' }).waitFor();
    await p.getByTestId('chip-locked').filter({ hasText: 'Locked (1)' }).waitFor();

    // Sound: off by default; turned on, it stays on after a reload (per proctor, in this browser).
    const sound = p.getByRole('checkbox', { name: 'Sound when something needs me' });
    expect(await sound.isChecked()).toBe(false);
    await sound.check();
    await p.reload();
    await live(p).waitFor();
    expect(await p.getByRole('checkbox', { name: 'Sound when something needs me' }).isChecked()).toBe(true);
    expect(await p.getByRole('tab', { name: 'Participants', exact: true }).count()).toBe(1);
    expect(await p.title()).not.toMatch(/^\(/);

    // Ada asks for a bathroom break: count on the tab and in the title, a toast, a tone.
    expect(await post(ada, '/api/exam/bathroom-break')).toBe(200);
    await p.getByRole('tab', { name: 'Participants (1 waiting)' }).waitFor();
    await expect.poll(() => p.title()).toBe(`(1) ${EXAM_TITLE}`);
    const toast = toasts(p).filter({ hasText: `${adaName} asks for a bathroom break` });
    await toast.waitFor();
    // Focus inside the toasts holds them (they would go after 10 s) while this test looks around.
    const answer = toast.getByRole('button', { name: `Answer: ${adaName}` });
    await answer.focus();
    expect(await p.getByRole('status', { name: 'Needs attention now' }).count()).toBe(1);
    await expect.poll(() => p.evaluate(() => (globalThis as unknown as { tones: number }).tones)).toBeGreaterThan(0);

    // The Needs-attention chip lists her.
    await p.getByTestId('chip-attention').filter({ hasText: 'Needs attention (1)' }).click();
    await p
      .getByTestId('participants-count')
      .filter({ hasText: /^Showing 1 of 3/ })
      .waitFor();
    await p.locator(`tr[data-student="${ada.studentId}"]`).waitFor();

    const violations = await audit(p, 'attention toast, 1280 px');
    await screenshot(p, 'proctor-attention-toast');
    await p.setViewportSize({ width: 360, height: 740 });
    await toasts(p).first().waitFor();
    expect(await overflowsHorizontally(p)).toBe(false);
    violations.push(...(await audit(p, 'attention toast, 360 px')));
    await screenshot(p, 'proctor-attention-toast-phone');
    await p.setViewportSize({ width: 1280, height: 900 });
    expect(violations).toEqual([]);

    // The toast opens her dialog at the bathroom break; approving clears everything.
    await answer.click();
    const dialog = p.getByTestId('row-actions');
    await dialog.waitFor();
    await expect.poll(() => focusedId(p)).toBe('act-bathroom');
    await dialog.getByRole('button', { name: 'Approve the break' }).click();
    await dialog.getByText('Now: Approved, away').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await p.getByRole('tab', { name: 'Participants', exact: true }).waitFor();
    await expect.poll(() => p.title()).toBe(EXAM_TITLE);
    await expect.poll(() => toasts(p).count()).toBe(0);
    await p.getByTestId('chip-attention').filter({ hasText: 'Needs attention (0)' }).waitFor();
    expect(await p.locator(`tr[data-student="${ada.studentId}"]`).count()).toBe(0);

    // What reached the appliance: the approval, and Grace still locked.
    const proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
    const { body } = await proctor.call<{ rows: { studentId: string; status: string; bathroom: string }[] }>(
      'GET',
      '/exams/exam-1/participants',
    );
    expect(body.rows.find((r) => r.studentId === ada.studentId)?.bathroom).toBe('approved');
    expect(body.rows.find((r) => r.studentId === grace.studentId)?.status).toBe('locked');
    expect(problems).toEqual([]);
  });
});
