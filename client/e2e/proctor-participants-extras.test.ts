/**
 * The Participants tab's ExamSoft extras in real Chromium against a real appliance: the tracking
 * totals above the list change when an examinee downloads over HTTP; the chief changes max
 * downloads in its column with − / + and by typing, and lowering it below the downloads made
 * warns first (cancel changes nothing, confirm saves; checked on the appliance); the eye shows and
 * hides a row's email and phone (the look recorded); the roster's Examinee ID has its column.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ParticipantRow } from '../../domain/monitor.js';
import { HttpExaminee } from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { CHIEF, HttpProctor, openHall } from './hall.js';

const MIN = 60_000;
const EXAM = '/exams/exam-1';
const ADA = 'Ada Lovelace';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const total = (p: Page, which: string) => p.locator(`[data-testid="tracking-totals"] [data-total="${which}"] dd`);
const cellOf = (p: Page, studentId: string, column: string) =>
  p.locator(`tr[data-student="${studentId}"] [data-column="${column}"]`);

describe('the Participants tab extras in Chromium', () => {
  it('shows live totals, edits max downloads with a warning, reveals contact details, shows the Examinee ID', async () => {
    const h = await openHall({
      startAheadMs: 10 * MIN,
      rosterCsv: (roster) =>
        [
          'studentId,name,accessCode,maxDownloads,email,phone,examineeId',
          `S1,${ADA},${roster[0]!.accessCode},2,ada@student.example.org,+44 20 7946 0123,C-0001`,
          `S2,Grace Hopper,${roster[1]!.accessCode},2,,,C-0002`,
          `S3,Alan Turing,${roster[2]!.accessCode},2,,,`,
        ].join('\n') + '\n',
    });
    cleanups.push(() => h.close());
    const proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
    const ada = async () =>
      (await proctor.call<{ rows: ParticipantRow[] }>('GET', `${EXAM}/participants`)).body.rows.find(
        (r) => r.studentId === 'S1',
      )!;

    const b = await launchChromium();
    cleanups.push(() => b.close());
    const p = await b.context.newPage();
    const errors = watchConsole(p);
    await p.goto(`${h.appliance.baseUrl}/proctor/`);
    await p.getByLabel('Username').pressSequentially(CHIEF.username);
    await p.getByLabel('Password').pressSequentially(CHIEF.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Open monitor of Chemistry 201 — Final' }).click();
    await p.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
    await p.getByTestId('participants-count').filter({ hasText: 'Showing 3 of 3 examinees' }).waitFor();

    // The totals stand above the list, and count a download the moment it happens.
    const totalsBox = (await p.getByTestId('tracking-totals').boundingBox())!;
    const tableBox = (await p.getByTestId('participants-table').boundingBox())!;
    expect(totalsBox.y + totalsBox.height).toBeLessThan(tableBox.y);
    await expect.poll(() => total(p, 'posted').textContent()).toBe('3');
    expect(await total(p, 'downloads').textContent()).toBe('0');
    expect(await total(p, 'uploads').textContent()).toBe('0');
    const examinee = new HttpExaminee(h.appliance.baseUrl, 'S1', h.files.roster[0]!.accessCode);
    expect((await examinee.signIn()).status).toBe(200);
    expect((await examinee.get('/api/exam/package')).status).toBe(200);
    await expect.poll(() => total(p, 'downloads').textContent()).toBe('1');
    expect((await examinee.get('/api/exam/package')).status).toBe(200);
    await cellOf(p, 'S1', 'downloads').filter({ hasText: /^2/ }).waitFor();

    // The Examinee ID column, where the roster has one.
    expect(await p.locator('thead th[data-column="examineeId"]').textContent()).toBe('Examinee ID');
    expect(await cellOf(p, 'S1', 'examineeId').textContent()).toBe('C-0001');
    expect(await cellOf(p, 'S3', 'examineeId').textContent()).toBe('—');

    // + and −, each saved on the appliance.
    const field = p.getByLabel(`Max downloads for ${ADA}`);
    await p.getByRole('button', { name: `One download more for ${ADA}` }).click();
    await expect.poll(async () => (await ada()).maxDownloads).toBe(3);
    await expect.poll(() => field.inputValue()).toBe('3');
    await p.getByRole('button', { name: `One download fewer for ${ADA}` }).click();
    await expect.poll(async () => (await ada()).maxDownloads).toBe(2);
    await expect.poll(() => field.inputValue()).toBe('2');

    // A typed number, Enter saves it.
    await field.click();
    await p.keyboard.press('ControlOrMeta+a');
    await field.pressSequentially('5', { delay: 40 });
    await p.keyboard.press('Enter');
    await expect.poll(async () => (await ada()).maxDownloads).toBe(5);
    await p
      .getByTestId('participants-note')
      .filter({ hasText: `Max downloads for ${ADA}: 5.` })
      .waitFor();

    // Below the downloads already made: a warning first; cancel changes nothing.
    await field.click();
    await p.keyboard.press('ControlOrMeta+a');
    await p.keyboard.type('1', { delay: 40 });
    await p.keyboard.press('Enter');
    const warning = p.getByRole('dialog', { name: `Lower max downloads for ${ADA}?` });
    await warning.waitFor();
    expect(await warning.textContent()).toContain(
      `${ADA} has already downloaded 2 times; with 1 download allowed ${ADA} cannot download again. The downloads already made stay valid.`,
    );
    expect(await audit(p, 'participants, lowering max downloads')).toEqual([]);
    await warning.getByRole('button', { name: 'Keep it as it is' }).click();
    await warning.waitFor({ state: 'hidden' });
    await expect.poll(() => field.inputValue()).toBe('5');
    expect((await ada()).maxDownloads).toBe(5);

    // Confirmed, it is saved.
    await field.click();
    await p.keyboard.press('ControlOrMeta+a');
    await p.keyboard.type('1', { delay: 40 });
    await p.keyboard.press('Enter');
    await warning.waitFor();
    await warning.getByRole('button', { name: 'Set max downloads to 1' }).click();
    await warning.waitFor({ state: 'hidden' });
    await expect.poll(async () => (await ada()).maxDownloads).toBe(1);
    await expect.poll(() => field.inputValue()).toBe('1');

    // The eye shows Ada's email and phone in her row and hides them again; the look is recorded.
    const eye = p.getByRole('button', { name: `Show personal information for ${ADA}` });
    expect(await eye.getAttribute('aria-pressed')).toBe('false');
    expect(await p.getByRole('button', { name: 'Show personal information for Alan Turing' }).count()).toBe(0);
    await eye.click();
    const shown = p.locator('tr[data-student="S1"] [data-testid="personal-info"]');
    await shown.filter({ hasText: 'ada@student.example.org · +44 20 7946 0123' }).waitFor();
    expect(await eye.getAttribute('aria-pressed')).toBe('true');
    const events = await proctor.call<{ events: { kind: string }[] }>('GET', `${EXAM}/participants/S1/events`);
    expect(events.body.events.filter((e) => e.kind === 'contact-revealed')).toHaveLength(1);

    expect(await audit(p, 'participants with extras')).toEqual([]);
    await screenshot(p, 'proctor-participants-extras');

    await eye.click();
    await shown.waitFor({ state: 'detached' });
    expect(await eye.getAttribute('aria-pressed')).toBe('false');
    expect(await p.getByText('ada@student.example.org').count()).toBe(0);

    expect(errors).toEqual([]);
  });
});
