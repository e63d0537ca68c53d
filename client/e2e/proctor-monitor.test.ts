/**
 * The proctor dashboard's exam monitor in real Chromium against a real appliance: a proctor
 * watches an examinee (in a second browser) sign in, start, answer and submit, live over the
 * monitor stream, and grants a time extension that reaches the examinee's timer; a resume code
 * issued in the Resume codes tab opens the examinee's locked exam; an invigilator sees chief-only
 * actions disabled with the reason, and the monitor comes back after the Wi-Fi drops; filter
 * chips, search, column management (kept across a reload), phone and tablet widths, and axe on
 * every tab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import path from 'node:path';
import { applianceEnv, HttpExaminee, runApplianceCli } from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { focusedId, launchChromium, overflowsHorizontally, screenshot, watchConsole } from './browser.js';
import { asExaminee, CHIEF, HttpProctor, openHall, pageToken, signInAndOpen, type Hall } from './hall.js';

const MIN = 60_000;
const EXAM_TITLE = 'Chemistry 201 — Final';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function hall(startAheadMs: number): Promise<Hall> {
  const h = await openHall({ startAheadMs });
  cleanups.push(() => h.close());
  return h;
}

/** A page in its own Chromium (fresh profile: proctor and examinee never share a browser). */
async function page(): Promise<Page> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  return b.context.newPage();
}

/** Signs the chief (or another proctor) in; stops at the exam list. */
async function signInProctor(p: Page, h: Hall, who: { username: string; password: string } = CHIEF): Promise<void> {
  await p.goto(`${h.appliance.baseUrl}/proctor/`);
  await p.getByLabel('Username').fill(who.username);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('heading', { name: 'Exams on this appliance' }).waitFor();
}

/** Opens the exam's monitor from the list and waits for the live stream. */
async function openMonitor(p: Page): Promise<void> {
  await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
  await p.getByRole('heading', { name: EXAM_TITLE, level: 2 }).waitFor();
  await live(p).waitFor();
}

const live = (p: Page) => p.locator('[data-testid="live-indicator"][data-state="live"]');
const cell = (p: Page, studentId: string, column: string, hasText: string | RegExp) =>
  p.locator(`tr[data-student="${studentId}"] [data-column="${column}"]`, { hasText });
const tab = (p: Page, name: string) => p.getByRole('tab', { name });

/** "59:12" or "1:09:12" in seconds. */
function seconds(clock: string): number {
  return clock
    .trim()
    .split(':')
    .reduce((total, part) => total * 60 + Number(part), 0);
}

describe('the proctor’s exam monitor in Chromium (built client, appliance as a child process)', () => {
  it('shows an examinee live from sign-in to submission, and a time extension reaches their timer', async () => {
    const h = await hall(25_000);
    const proctor = await page();
    const proctorErrors = watchConsole(proctor);
    await signInProctor(proctor, h);
    await openMonitor(proctor);
    await cell(proctor, 'S1', 'status', 'Not yet started').waitFor();
    await proctor.getByTestId('chip-not-started').filter({ hasText: 'Not yet started (3)' }).waitFor();

    // The examinee signs in in another browser: logged in, then active at the start.
    const examinee = await page();
    const examineeErrors = watchConsole(examinee);
    const opened = signInAndOpen(examinee, h);
    await cell(proctor, 'S1', 'status', 'Logged in, not started').waitFor({ timeout: 20_000 });
    await opened;
    await cell(proctor, 'S1', 'status', 'Active').waitFor();
    await cell(proctor, 'S1', 'answered', '0 % (0 of 5)').waitFor();

    // Progress, live as the examinee answers: the row and the histogram.
    await examinee.getByRole('radio', { name: 'Na' }).check();
    await cell(proctor, 'S1', 'answered', '20 % (1 of 5)').waitFor();
    await examinee.getByRole('button', { name: 'Next' }).click();
    await examinee.getByRole('radio', { name: 'True' }).check();
    await cell(proctor, 'S1', 'answered', '40 % (2 of 5)').waitFor();
    const histogram = proctor.getByTestId('answered-histogram');
    await histogram.locator('[data-bucket="1"][data-count="1"]').waitFor();
    await histogram.getByRole('listitem', { name: '25–49 %: 1 examinee' }).waitFor();
    expect(await histogram.locator('[data-bucket="0"]').getAttribute('data-count')).toBe('2');
    await screenshot(proctor, 'proctor-monitor-live');
    expect(await overflowsHorizontally(proctor)).toBe(false);

    // A 10-minute extension from the row's actions: the row says so, the examinee's deadline moves.
    const before = seconds((await examinee.getByTestId('time-left').textContent()) ?? '');
    await proctor.getByRole('button', { name: 'Actions for Examinee 1' }).click();
    const dialog = proctor.getByRole('dialog', { name: 'Examinee 1 (S1)' });
    await dialog.getByLabel('Extra minutes for this examinee').fill('10');
    await dialog.getByRole('button', { name: 'Apply time extension' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Done.' }).waitFor();
    await screenshot(proctor, 'proctor-row-actions');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await cell(proctor, 'S1', 'timeExtension', '10 min').waitFor();
    await examinee.getByTestId('extension-notice').waitFor();
    const after = seconds((await examinee.getByTestId('time-left').textContent()) ?? '');
    expect(after - before).toBeGreaterThan(9 * 60);
    expect(after - before).toBeLessThanOrEqual(10 * 60);

    // The examinee submits: the proctor sees it live.
    await examinee.getByRole('button', { name: 'Review and submit' }).first().click();
    await examinee.getByRole('button', { name: 'Submit my answers' }).click();
    await examinee.getByRole('button', { name: 'Yes, submit' }).click();
    await examinee.getByRole('heading', { name: 'Submission received' }).waitFor();
    await cell(proctor, 'S1', 'status', 'Submitted').waitFor();
    await cell(proctor, 'S1', 'upload', 'Uploaded').waitFor();
    await cell(proctor, 'S1', 'submissionType', 'Manually').waitFor();
    await proctor.getByTestId('chip-submitted').filter({ hasText: 'Submitted (1)' }).waitFor();
    await screenshot(proctor, 'proctor-monitor-submitted');
    expect(proctorErrors).toEqual([]);
    expect(examineeErrors).toEqual([]);
  });

  it('issues a resume code in the Resume codes tab that the appliance accepts for the examinee', async () => {
    const h = await hall(10 * MIN);
    const examinee = await page();
    const examineeErrors = watchConsole(examinee);
    const ada = h.files.roster[0]!;
    await examinee.goto(`${h.appliance.baseUrl}/`);
    await examinee.getByLabel('Student ID').fill(ada.studentId);
    await examinee.getByLabel('Access code').fill(ada.accessCode);
    await examinee.getByRole('button', { name: 'Sign in' }).click();
    await examinee.getByRole('timer').waitFor();
    // The continuation code the examinee's locked screen would show.
    const { body } = await asExaminee<{ triples: { challenge: string }[] }>(h, examinee, '/api/exam/resume-challenges');
    const challenge = body.triples[0]!.challenge;

    const proctor = await page();
    const errors = watchConsole(proctor);
    await signInProctor(proctor, h);
    await openMonitor(proctor);
    await tab(proctor, 'Resume codes').click();
    await proctor.getByLabel('Examinee (student ID or name)').fill('S1');
    // Read out with a dash, typed in lower case: both do not matter.
    const spoken = `${challenge.slice(0, 4)}-${challenge.slice(4)}`.toLowerCase();
    await proctor.getByLabel('Continuation code on the examinee’s screen').fill(spoken);
    await proctor.getByRole('button', { name: 'Get resume code' }).click();
    const shown = ((await proctor.getByTestId('resume-code').textContent()) ?? '').trim();
    expect(shown).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    await proctor
      .getByText(`For Examinee 1 (S1), continuation code ${challenge.slice(0, 4)}-${challenge.slice(4)}`)
      .waitFor();
    await screenshot(proctor, 'proctor-resume-code');

    // The code shown is the appliance's: the examinee's device reports it and it is accepted.
    const redeemed = await fetch(`${h.appliance.baseUrl}/api/exam/resume`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await pageToken(examinee)}`,
        'x-client-version': '0.1.0',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ challenge, resumeCode: shown }),
    });
    expect(redeemed.status, await redeemed.clone().text()).toBe(200);
    expect(((await redeemed.json()) as { challenge: string }).challenge.replace('-', '')).toBe(challenge);

    // The same continuation code again, and one that is not this examinee's: refused in words.
    await proctor.getByLabel('Continuation code on the examinee’s screen').fill(challenge);
    await proctor.getByRole('button', { name: 'Get resume code' }).click();
    await proctor.getByTestId('resume-error').filter({ hasText: 'already used to resume' }).waitFor();
    await expect.poll(() => proctor.getByTestId('resume-code').count()).toBe(0);
    await proctor.getByLabel('Continuation code on the examinee’s screen').fill('AAAA-AAAA');
    await proctor.getByRole('button', { name: 'Get resume code' }).click();
    await proctor.getByTestId('resume-error').filter({ hasText: 'is not one of this examinee’s' }).waitFor();
    await screenshot(proctor, 'proctor-resume-code-refused');
    // The only console errors are Chromium's notes of the two refusals the test asked for.
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/status of 409 .*\/participants\/S1\/resume-code/);
    expect(errors[1]).toMatch(/status of 422 .*\/participants\/S1\/resume-code/);
    expect(examineeErrors).toEqual([]);
  });

  it('shows an invigilator the chief-only actions disabled with the reason, and lets them do the rest', async () => {
    const h = await hall(10 * MIN);
    const invigilator = { username: 'invi', password: 'invigilator-test-password' };
    const added = await runApplianceCli(
      ['proctor', 'add', invigilator.username, '--role', 'invigilator', '--password-stdin'],
      applianceEnv(path.join(h.tmp, 'data')),
      `${invigilator.password}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    const p = await page();
    const errors = watchConsole(p, { networkCut: true });
    await signInProctor(p, h, invigilator);
    await p.getByText('Signed in as invi (invigilator)').waitFor();
    await openMonitor(p);

    await p.getByRole('button', { name: 'Actions for Examinee 1' }).click();
    const dialog = p.getByRole('dialog', { name: 'Examinee 1 (S1)' });
    expect(await dialog.getByRole('button', { name: 'Apply accommodation' }).isDisabled()).toBe(true);
    expect(await dialog.getByRole('button', { name: 'Apply verification type' }).isDisabled()).toBe(true);
    // (The sections below the first screen follow once the dialog has painted: row-actions.tsx.)
    await expect
      .poll(() => dialog.getByText('Only a chief proctor can change this.').count())
      .toBeGreaterThanOrEqual(2);
    // Everything else is for every proctor: one more download for this examinee.
    await dialog.getByText('2 allowed, 0 used').waitFor();
    await dialog.getByRole('button', { name: 'One download more' }).click();
    await dialog.getByText('3 allowed, 0 used').waitFor();
    // The examinee's report names what happened and who did it.
    await dialog.getByRole('button', { name: 'Show the integrity report' }).click();
    await dialog.getByRole('listitem').filter({ hasText: 'Max downloads changed — by invi' }).waitFor();
    await p.keyboard.press('Escape');
    // The column's own field follows the row (max downloads is not chief-only: domain/proctor-roles.ts).
    await expect.poll(() => p.getByLabel('Max downloads for Examinee 1').inputValue()).toBe('3');

    await tab(p, 'Exam info').click();
    await p.getByText('Only a chief proctor can change this.').first().waitFor();
    expect(await p.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
    expect(await p.getByRole('button', { name: 'Generate passwords' }).isDisabled()).toBe(true);
    await screenshot(p, 'proctor-invigilator-exam-info');

    // The tablet's Wi-Fi drops: the indicator says so; what changed meanwhile shows on reconnect.
    await p.context().setOffline(true);
    await p.locator('[data-testid="live-indicator"][data-state="offline"]').waitFor();
    const chief = new HttpProctor(h.appliance.baseUrl);
    await chief.login();
    const changed = await chief.call('POST', '/exams/exam-1/participants/S2/max-downloads', { change: 1 });
    expect(changed.status).toBe(200);
    await p.context().setOffline(false);
    await live(p).waitFor();
    await tab(p, 'Participants').click();
    await expect.poll(() => p.getByLabel('Max downloads for Examinee 2').inputValue()).toBe('3');
    expect(errors).toEqual([]);
  });

  it(
    'filters, searches, keeps column choices across a reload, fits a phone and a tablet, and passes axe on every tab',
    { timeout: 240_000 },
    async () => {
      const h = await hall(10 * MIN);
      // Examinee 2 signs in (logged in); the others have not started.
      const grace = new HttpExaminee(h.appliance.baseUrl, h.files.roster[1]!.studentId, h.files.roster[1]!.accessCode);
      expect((await grace.signIn()).status).toBe(200);

      const p = await page();
      const errors = watchConsole(p);
      await signInProctor(p, h);
      const found: string[] = [];
      found.push(...(await audit(p, 'proctor exam list')));
      await openMonitor(p);
      const count = p.getByTestId('participants-count');
      await count.filter({ hasText: 'Showing 3 of 3 examinees' }).waitFor();

      // Status chips narrow the list, with their counts; a second press shows all again.
      await p.getByTestId('chip-logged-in').filter({ hasText: 'Logged in, not started (1)' }).click();
      await count.filter({ hasText: 'Showing 1 of 3 examinees' }).waitFor();
      expect(
        await p.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-student'))),
      ).toEqual(['S2']);
      expect(await p.getByTestId('chip-logged-in').getAttribute('aria-pressed')).toBe('true');
      await p.getByTestId('chip-not-started').click();
      await count.filter({ hasText: 'Showing 2 of 3 examinees' }).waitFor();
      await p.getByTestId('chip-all').click();
      await count.filter({ hasText: 'Showing 3 of 3 examinees' }).waitFor();

      // Search by name or id, case and accents ignored.
      const search = p.getByLabel('Search by name or student ID');
      await search.fill('ÉXAMINÉE 3');
      await count.filter({ hasText: 'Showing 1 of 3 examinees' }).waitFor();
      await p.locator('tr[data-student="S3"]').waitFor();
      await search.fill('s1');
      await p.locator('tr[data-student="S1"]').waitFor();
      await count.filter({ hasText: 'Showing 1 of 3 examinees' }).waitFor();
      await search.fill('nobody');
      await p.getByText('No examinee matches.', { exact: false }).waitFor();
      await search.fill('');
      await count.filter({ hasText: 'Showing 3 of 3 examinees' }).waitFor();
      found.push(...(await audit(p, 'monitor, participants')));
      await screenshot(p, 'proctor-tab-participants');

      // The row actions dialog.
      await p.getByRole('button', { name: 'Actions for Examinee 2' }).click();
      const dialog = p.getByRole('dialog', { name: 'Examinee 2 (S2)' });
      await dialog.waitFor();
      await dialog.getByRole('heading', { name: 'Remove submission' }).waitFor();
      found.push(...(await audit(p, 'monitor, row actions')));
      await p.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });

      // Column management: add Seat, hide Integrity score, move Status first; saved, kept across a reload.
      const headers = () => p.locator('thead th').allTextContents();
      await p.getByRole('button', { name: 'Columns' }).click();
      const manager = p.getByRole('group', { name: 'Columns to show, in order' });
      await manager.getByRole('checkbox', { name: 'Seat' }).check();
      await manager.getByRole('checkbox', { name: 'Integrity score' }).uncheck();
      await manager.getByRole('button', { name: 'Move Status up' }).click();
      await manager.getByRole('button', { name: 'Move Status up' }).click();
      await manager.getByRole('button', { name: 'Save columns' }).click();
      await manager.getByText('Columns saved.').waitFor();
      const chosen = [
        'Status',
        'Examinee',
        'Student ID',
        'Max downloads',
        'Downloads',
        'Upload',
        'Time extension',
        'Time left',
        'Questions answered',
        'Submission',
        'Seat',
        'Personal information',
        'Actions',
      ];
      await expect.poll(headers).toEqual(chosen);
      await p.reload();
      await live(p).waitFor();
      await tab(p, 'Participants').waitFor();
      expect(await tab(p, 'Participants').getAttribute('aria-selected')).toBe('true');
      await expect.poll(headers).toEqual(chosen);

      // A phone (cards, no sideways scrolling) and a tablet (the table scrolls inside its box).
      await p.setViewportSize({ width: 360, height: 740 });
      await p.getByTestId('participant-cards').waitFor();
      expect(await overflowsHorizontally(p)).toBe(false);
      found.push(...(await audit(p, 'monitor, participants, 360px')));
      await screenshot(p, 'proctor-participants-360px');
      await p.setViewportSize({ width: 800, height: 1000 });
      await p.getByTestId('participants-table').waitFor();
      expect(await overflowsHorizontally(p)).toBe(false);
      await screenshot(p, 'proctor-participants-tablet');
      await p.setViewportSize({ width: 1280, height: 800 });

      // Tabs by keyboard: arrows move the selection and the focus.
      await tab(p, 'Participants').focus();
      await p.keyboard.press('ArrowLeft');
      expect(await tab(p, 'Exam info').getAttribute('aria-selected')).toBe('true');
      await expect.poll(() => focusedId(p)).toBe('monitor-tab-info');

      // Exam info.
      await p.getByRole('heading', { name: 'Tracking totals' }).waitFor();
      await p.getByRole('link', { name: 'Session report (CSV)' }).waitFor();
      await p.getByRole('link', { name: 'Event log (JSON lines)' }).waitFor();
      await p.getByRole('link', { name: 'Safe Exam Browser configuration (.seb)' }).waitFor();
      await p.getByLabel('Time extension for everyone (minutes)').fill('5');
      await p.getByRole('button', { name: 'Save settings' }).click();
      await p.getByText('Settings saved.').waitFor();
      // Everyone's rows show the extension for all (an exam-wide change).
      await tab(p, 'Participants').click();
      for (const id of ['S1', 'S2', 'S3']) await cell(p, id, 'timeExtension', '5 min').waitFor();
      await tab(p, 'Exam info').click();
      found.push(...(await audit(p, 'monitor, exam info')));
      await screenshot(p, 'proctor-tab-info');

      // Messages: an announcement goes out; an examinee's question comes in live.
      await tab(p, 'Messages').click();
      await p.getByLabel('Message', { exact: true }).fill('Calculators away, please.');
      await p.getByRole('button', { name: 'Send', exact: true }).click();
      const list = p.getByTestId('message-list');
      await list.getByText('Calculators away, please.').waitFor();
      const asked = await fetch(`${h.appliance.baseUrl}/api/exam/messages`, {
        method: 'POST',
        headers: grace.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ text: 'May I have scratch paper?' }),
      });
      expect(asked.status, await asked.clone().text()).toBeLessThan(300);
      const thread = p.getByTestId('thread');
      await thread.getByText('May I have scratch paper?').waitFor();
      await thread.getByText('Question from Examinee 2', { exact: false }).waitFor();
      found.push(...(await audit(p, 'monitor, messages')));
      await screenshot(p, 'proctor-tab-messages');

      // Exam preview: every question, read-only.
      await tab(p, 'Exam preview').click();
      await p.getByRole('heading', { name: 'Question 1 (2 points)', exact: false }).waitFor();
      expect(await p.getByRole('radio', { name: 'Na' }).isDisabled()).toBe(true);
      await p.getByRole('heading', { name: 'Question 5', exact: false }).waitFor();
      found.push(...(await audit(p, 'monitor, exam preview')));
      await screenshot(p, 'proctor-tab-preview');

      await tab(p, 'Resume codes').click();
      await p.getByRole('button', { name: 'Get resume code' }).waitFor();
      found.push(...(await audit(p, 'monitor, resume codes')));
      await screenshot(p, 'proctor-tab-resume');

      await tab(p, 'Sync status').click();
      await p.getByText('Sync with the central server is not set up on this appliance.').waitFor();
      await p.getByRole('heading', { name: 'What the states mean' }).waitFor();
      found.push(...(await audit(p, 'monitor, sync status')));
      await screenshot(p, 'proctor-tab-sync');

      expect(found).toEqual([]);
      expect(errors).toEqual([]);
    },
  );
});
