/**
 * An exam that moves between devices, and a submission a proctor removes, in real Chromium
 * against a real appliance. Two browsers are two devices (each keeps its own device id):
 *
 * - The laptop signs in, starts and types an answer. The tablet signs in for the same examinee and
 *   waits; a proctor approves it. The tablet carries on by itself (no second sign-in) to the
 *   lobby and the exam, with the answer typed on the laptop. The laptop shows a blocking "Your
 *   exam continues on another device" screen, its answers read-only.
 * - The tablet submits and shows the receipt. A proctor removes the submission: the receipt
 *   screen follows the appliance and the exam reopens on the tablet with its answers and a
 *   notice, with no sign-in and no download spent; the examinee goes on and submits again. A
 *   reload of a receipt whose submission was removed meanwhile reopens the exam too.
 *
 * Everything a person types is typed key by key, never fill().
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ParticipantRow } from '../../domain/monitor.js';
import { goTo } from './answers.js';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { asExaminee, eventually, HttpProctor, openHall, signInAndOpen, type Hall } from './hall.js';

const START_AHEAD_MS = 15_000;
const TYPING_MS = 30;
const FIRST = 'Typed on the laptop.';
const SECOND = ' Then on the tablet.';
const THIRD = ' And after the reopening.';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function device(): Promise<Page> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  return b.context.newPage();
}

async function submit(p: Page): Promise<string> {
  await p.getByRole('button', { name: 'Review and submit' }).first().click();
  await p.getByRole('button', { name: 'Submit my answers' }).click();
  await p.getByRole('button', { name: 'Yes, submit' }).click();
  await p.getByRole('heading', { name: 'Submission received' }).waitFor();
  return (await p.getByTestId('receipt-sha256').textContent()) ?? '';
}

const saved = (p: Page) => p.getByTestId('connection').filter({ hasText: 'Connected: answers saved' }).waitFor();

describe('devices swapping and re-entry', () => {
  it('moves the exam to an approved device and back into the exam after a removed submission', async () => {
    const h: Hall = await openHall({ startAheadMs: START_AHEAD_MS, settings: { lockOnReload: false } });
    cleanups.push(() => h.close());
    const examinee = h.files.roster[0]!;
    const proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
    const row = async () =>
      (await proctor.call<{ row: ParticipantRow }>('GET', `/exams/exam-1/participants/${examinee.studentId}`)).body.row;

    // The laptop: signed in, started, an answer typed and saved.
    const laptop = await device();
    const laptopErrors = watchConsole(laptop);
    await signInAndOpen(laptop, h);
    await goTo(laptop, 4);
    await laptop.getByRole('textbox', { name: 'Your answer' }).click();
    await laptop.keyboard.type(FIRST, { delay: TYPING_MS });
    await saved(laptop);

    // The tablet signs in for the same examinee and waits for a proctor.
    const tablet = await device();
    const tabletErrors = watchConsole(tablet);
    await tablet.goto(`${h.origin}/`);
    await tablet.getByLabel('Student ID').pressSequentially(examinee.studentId, { delay: TYPING_MS });
    await tablet.getByLabel('Access code').pressSequentially(examinee.accessCode, { delay: TYPING_MS });
    await tablet.getByRole('button', { name: 'Sign in' }).click();
    await tablet.getByText('A proctor must approve this device', { exact: false }).waitFor();
    expect((await row()).status).toBe('waiting-relogin');
    const approved = await proctor.call('POST', `/exams/exam-1/participants/${examinee.studentId}/relogin`, {
      decision: 'approve',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);

    // The tablet goes on by itself: no second sign-in, the lobby, the download, the exam.
    await tablet.getByRole('button', { name: 'Download exam' }).click();
    await tablet.getByRole('heading', { name: /^Question 1 of / }).waitFor();
    expect(await tablet.getByLabel('Access code').count()).toBe(0);
    await goTo(tablet, 4);
    const tabletEssay = tablet.getByRole('textbox', { name: 'Your answer' });
    await expect.poll(() => tabletEssay.inputValue(), { timeout: 15_000 }).toBe(FIRST);

    // The laptop is told, and its answers are read-only.
    await laptop.getByRole('heading', { name: 'Your exam continues on another device' }).waitFor();
    const moved = laptop.getByTestId('moved');
    const fields = moved.getByRole('textbox');
    expect(await fields.count()).toBeGreaterThan(0);
    for (const field of await fields.all()) expect(await field.isDisabled()).toBe(true);
    expect(await moved.getByRole('textbox', { name: 'Your answer' }).last().inputValue()).toBeDefined();
    await screenshot(laptop, 'device-swap-old-device');
    // A reload keeps it so.
    await laptop.reload();
    await laptop.getByRole('heading', { name: 'Your exam continues on another device' }).waitFor();

    // The tablet types on and submits.
    await tabletEssay.click();
    await tablet.keyboard.press('End');
    await tablet.keyboard.type(SECOND, { delay: TYPING_MS });
    await saved(tablet);
    const firstSha = await submit(tablet);
    const firstReceipt = await tablet.getByTestId('receipt').textContent();
    expect((await row()).submissionType).toBe('manual');
    const downloadsBefore = (await row()).downloads;
    expect(downloadsBefore).toBe(2); // one per device

    // A proctor removes the submission: the tablet's receipt screen reopens the exam.
    const removed = await proctor.call('POST', `/exams/exam-1/participants/${examinee.studentId}/remove-submission`, {
      reason: 'submitted by mistake',
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    await tablet.getByTestId('reopened-notice').waitFor();
    // Back at the questions (not at the review it was submitted from).
    await tablet.getByRole('heading', { name: /^Question \d of / }).waitFor();
    expect(await tablet.getByRole('heading', { name: 'Review your answers' }).count()).toBe(0);
    await screenshot(tablet, 'device-swap-reopened');
    await goTo(tablet, 4);
    const reopenedEssay = tablet.getByRole('textbox', { name: 'Your answer' });
    expect(await reopenedEssay.inputValue()).toBe(FIRST + SECOND);
    await reopenedEssay.click();
    await tablet.keyboard.press('End');
    await tablet.keyboard.type(THIRD, { delay: TYPING_MS });
    await saved(tablet);
    const secondSha = await submit(tablet);
    expect(secondSha).not.toBe(firstSha);
    expect(await tablet.getByTestId('receipt').textContent()).not.toBe(firstReceipt);
    const { body: current } = await asExaminee<{ submissionId: string; sha256: string }>(
      h,
      tablet,
      '/api/exam/submission',
    );
    expect(current.sha256).toBe(secondSha);
    expect(await row()).toMatchObject({ submissionType: 'manual', downloads: downloadsBefore });

    // Removed again while the tablet is closed: the next load of the receipt reopens the exam.
    await tablet.goto('about:blank');
    expect(
      (
        await proctor.call('POST', `/exams/exam-1/participants/${examinee.studentId}/remove-submission`, {
          reason: 'second thoughts',
        })
      ).status,
    ).toBe(200);
    await tablet.goto(`${h.origin}/`);
    await tablet.getByTestId('reopened-notice').waitFor();
    await goTo(tablet, 4);
    expect(await tablet.getByRole('textbox', { name: 'Your answer' }).inputValue()).toBe(FIRST + SECOND + THIRD);
    await eventually('the row back to not yet', async () => (await row()).submissionType === 'not-yet');
    expect((await row()).downloads).toBe(downloadsBefore);

    // The moved laptop's 409s are answers, not failures.
    expect(laptopErrors.filter((e) => !/status of 409/.test(e))).toEqual([]);
    expect(tabletErrors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });
});
