/**
 * Time-up in Chromium against a real appliance (docs/proctoring.md "Time-up"). The exam started
 * almost an hour ago and times up some 40 s after the hall opens (no long sleeps). Examinee 1
 * stays online: the automatic submission at time-up arrives just after the deadline and the
 * receipt says it is on time. Examinee 2's Wi-Fi drops 20 s before the deadline (unseen at it),
 * more is typed, the device seals at time-up and uploads on reconnect: the answers differ from the
 * autosave the appliance held at the deadline, so the submission is kept and flagged "Changed
 * after time-up", and the chief proctor sees both versions and decides.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { asExaminee, CHIEF, eventually, HttpProctor, openHall, type Hall } from './hall.js';

const MIN = 60_000;
/** From the hall's opening to the deadline (the exam lasts 60 minutes). */
const DEADLINE_AHEAD_MS = 40_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function page(): Promise<{ page: Page; close: () => Promise<void> }> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  return { page: await b.context.newPage(), close: () => b.close() };
}

interface Sheet {
  documents: { answers: Record<string, unknown> }[];
}
interface Row {
  studentId: string;
  timing: string | null;
  late: boolean;
  changedAfterTimeUp: boolean;
  timeUp: { differingAnswers: number; decision: string | null } | null;
}

const goTo = (p: Page, n: number) =>
  p
    .getByRole('navigation', { name: 'Questions' })
    .getByRole('button', { name: new RegExp(`^Question ${n},`) })
    .click();

/** Signs in after the start: the download opens the exam at once. */
async function signInAndOpen(p: Page, h: Hall, index: number): Promise<void> {
  const examinee = h.files.roster[index]!;
  await p.goto(`${h.appliance.baseUrl}/`);
  await p.getByLabel('Student ID').pressSequentially(examinee.studentId);
  await p.getByLabel('Access code').pressSequentially(examinee.accessCode);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('button', { name: 'Download exam' }).click();
  await p.getByRole('heading', { name: 'Question 1 of 5' }).waitFor({ timeout: 20_000 });
}

/** Types the essay answer key by key, as a person does. */
async function typeEssay(p: Page, text: string): Promise<void> {
  await goTo(p, 4);
  await p.getByRole('heading', { name: 'Question 4 of 5' }).waitFor();
  await p.getByRole('textbox', { name: 'Your answer' }).click();
  await p.keyboard.press('End');
  await p.keyboard.type(text, { delay: 15 });
}

describe('time-up in Chromium', () => {
  it('online: an on-time receipt; offline and edited: kept, flagged for the chief, who decides', async () => {
    const [h, online, offline] = await Promise.all([
      openHall({
        startAheadMs: -(60 * MIN - DEADLINE_AHEAD_MS),
        settings: { lockOnReload: false },
        exam: (exam, startMs) => ({
          ...exam,
          lateLoginMinutes: 120,
          downloadWindow: {
            opens: new Date(startMs - 60 * MIN).toISOString(),
            closes: new Date(startMs + 120 * MIN).toISOString(),
          },
          uploadDeadline: new Date(startMs + 180 * MIN).toISOString(),
        }),
      }),
      page(),
      page(),
    ]);
    cleanups.push(() => h.close());
    const deadline = h.startMs + 60 * MIN;
    const a = online.page;
    const b = offline.page;
    const errorsA = watchConsole(a);
    const errorsB = watchConsole(b, { networkCut: true });
    await Promise.all([signInAndOpen(a, h, 0), signInAndOpen(b, h, 1)]);

    await typeEssay(a, 'Entropy grows.');
    await typeEssay(b, 'Entropy grows.');
    await eventually('examinee 2’s essay on the appliance', async () => {
      const { body } = await asExaminee<Sheet>(h, b, '/api/exam/answers/pull?counter=0');
      return body.documents[0]?.answers.q4 === 'Entropy grows.';
    });
    // Examinee 2's Wi-Fi drops well before the deadline: unseen at it. More is typed, offline.
    const cutAt = deadline - 20_000;
    expect(Date.now(), 'the test reached the cut too late (slow machine?)').toBeLessThan(cutAt);
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt - Date.now())));
    await b.context().setOffline(true);
    await b.getByTestId('connection').filter({ hasText: 'Offline: answers kept on this device' }).waitFor();
    await typeEssay(b, ' It never decreases.');
    await goTo(b, 1);
    await b.getByRole('radio', { name: 'Na' }).check();

    // Time-up: examinee 1's device submits automatically, online, just after the deadline.
    await a.getByRole('heading', { name: 'Submission received' }).waitFor({ timeout: DEADLINE_AHEAD_MS + 20_000 });
    const timingA = a.getByTestId('receipt-timing');
    expect(await timingA.getAttribute('data-timing')).toBe('sealed-at-time-up');
    expect(await timingA.textContent()).toContain('On time');
    await screenshot(a, 'time-up-online-receipt');
    const submittedA = await asExaminee<{ receipt: { payload: { timing: string; submissionType: string } } }>(
      h,
      a,
      '/api/exam/submission',
    );
    expect(submittedA.body.receipt.payload).toMatchObject({ timing: 'sealed-at-time-up', submissionType: 'automatic' });
    expect(errorsA).toEqual([]);
    await online.close();

    // Examinee 2's device sealed its answers at time-up, offline; they go up on reconnect.
    await b.getByText('Your answers are sealed on this device', { exact: false }).waitFor();
    await b.context().setOffline(false);
    await b.getByRole('heading', { name: 'Submission received' }).waitFor({ timeout: 30_000 });
    expect(await b.getByTestId('receipt-timing').getAttribute('data-timing')).toBe('changed-after-time-up');
    await screenshot(b, 'time-up-changed-receipt');

    // What reached the appliance: the row is flagged, both versions kept.
    const http = new HttpProctor(h.appliance.baseUrl);
    await http.login();
    const rowOf = async (id: string) =>
      (await http.call<{ row: Row }>('GET', `/exams/exam-1/participants/${id}`)).body.row;
    expect(await rowOf('S1')).toMatchObject({ timing: 'sealed-at-time-up', late: false, changedAfterTimeUp: false });
    expect(await rowOf('S2')).toMatchObject({
      timing: 'changed-after-time-up',
      late: false,
      changedAfterTimeUp: true,
      timeUp: { differingAnswers: 2, decision: null },
    });
    expect(errorsB).toEqual([]);
    await offline.close();

    // The chief proctor sees the flag on the row, both versions in the dialog, and decides.
    const chief = (await page()).page;
    await chief.goto(`${h.appliance.baseUrl}/proctor/`);
    await chief.getByLabel('Username').pressSequentially(CHIEF.username);
    await chief.getByLabel('Password').pressSequentially(CHIEF.password);
    await chief.getByRole('button', { name: 'Sign in' }).click();
    await chief.getByRole('button', { name: /^Open monitor of / }).click();
    await chief
      .locator('tr[data-student="S2"] [data-testid="flag-changed-after-time-up"]', { hasText: 'Changed after time-up' })
      .waitFor();
    expect(await chief.locator('tr[data-student="S1"] [data-testid="flag-changed-after-time-up"]').count()).toBe(0);
    await chief.getByRole('button', { name: 'Actions for Examinee 2' }).click();
    const section = chief.getByTestId('time-up');
    await section.getByText('2 answers differ', { exact: false }).waitFor();
    await section.getByRole('button', { name: 'Show both versions' }).click();
    const versions = section.getByTestId('time-up-versions');
    await versions.getByText('Entropy grows. It never decreases.').waitFor();
    await versions.getByRole('cell', { name: 'Entropy grows.', exact: true }).waitFor();
    await section.getByRole('radio', { name: 'The answers at time-up count' }).check();
    await section.getByLabel('Note (optional)').pressSequentially('typed while offline');
    await section.getByRole('button', { name: 'Record the decision' }).click();
    await section.getByTestId('time-up-decision').filter({ hasText: 'The answers at time-up count' }).waitFor();
    await screenshot(chief, 'time-up-chief-decision');
    expect((await rowOf('S2')).timeUp).toMatchObject({ decision: 'answers-at-time-up' });
  });
});
