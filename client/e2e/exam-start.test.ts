/**
 * Download and start in real Chromium against a real appliance (a child process serving the built
 * client): an examinee signs in before the start, downloads the encrypted package with a progress
 * bar, and the questions appear at the official start, decrypted in the browser with the key the
 * appliance releases; and the same start with the network cut after the download, opened with
 * the exam password a proctor reads out. Each test has its own appliance and an exam that starts
 * a few seconds after its setup; the tests wait for conditions, never a fixed time.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApplianceProcess,
  applianceEnv,
  HttpExaminee,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  writeExamFiles,
  type ExamOnDisk,
} from '../../tests/support/appliance-process.js';
import { launchChromium, overflowsHorizontally, screenshot, watchConsole, type Browser } from './browser.js';
import type { Page } from 'playwright-core';

/** Enough for a browser start, a page load, sign-in and the download before the exam begins. */
const START_AHEAD_MS = 25_000;
const PROMPT = 'What is the symbol of sodium? SECRET-PROMPT-MARKER';

interface Hall {
  tmp: string;
  files: ExamOnDisk;
  appliance: ApplianceProcess;
  password: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An appliance on a fresh data folder with an exam starting START_AHEAD_MS from now. */
async function hall(): Promise<Hall> {
  const tmp = await makeTempDir('proctor-e2e-start-');
  cleanups.push(() => removeTempDir(tmp));
  const dataDir = path.join(tmp, 'data');
  const files = await writeExamFiles(tmp, { startMs: Date.now() + START_AHEAD_MS, examinees: 3 });
  // Every question type on screen: the test exam plus a multiple-choice and a short-text question.
  files.exam.sections.push({
    id: 's2',
    title: 'Part B',
    instructions: 'Answer briefly.',
    questions: [
      {
        id: 'q6',
        type: 'multiple-choice',
        prompt: 'Which are noble gases?',
        points: 2,
        options: [
          { id: 'a', text: 'Neon' },
          { id: 'b', text: 'Nitrogen' },
          { id: 'c', text: 'Argon' },
        ],
        answerKey: ['a', 'c'],
        scoring: 'all-or-nothing',
      },
      { id: 'q7', type: 'short-text', prompt: 'Name the lightest element.', points: 1, maxLength: 40 },
    ],
  });
  await writeFile(files.examPath, `${JSON.stringify(files.exam, null, 2)}\n`);
  const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], applianceEnv(dataDir));
  expect(imported.code, imported.stderr).toBe(0);
  const password = /Exam password[^:]*: (\S+)/.exec(imported.stdout)?.[1];
  expect(password, imported.stdout).toBeDefined();
  const appliance = await ApplianceProcess.start({ dataDir });
  cleanups.push(() => appliance.kill());
  return { tmp, files, appliance, password: password! };
}

async function browser(): Promise<Browser> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  return b;
}

/** Signs in from the page and downloads the exam; checks the progress bar and downloads left. */
async function signInAndDownload(page: Page, h: Hall): Promise<void> {
  const examinee = h.files.roster[0]!;
  await page.goto(`${h.appliance.baseUrl}/`);
  await page.getByLabel('Student ID').fill(examinee.studentId);
  await page.getByLabel('Access code').fill(examinee.accessCode);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in before the start: the lobby counts down.
  await page.getByRole('timer').waitFor();
  await page.getByText('Downloads left: 2 of 2').waitFor();

  await page.getByRole('button', { name: 'Download exam' }).click();
  const bar = page.getByRole('progressbar', { name: 'Download progress' });
  await bar.waitFor();
  await page
    .getByTestId('download-progress-text')
    .filter({ hasText: /^100 %/ })
    .waitFor();
  const { value, max } = await bar.evaluate((el) => ({
    value: (el as unknown as { value: number }).value,
    max: (el as unknown as { max: number }).max,
  }));
  expect(max).toBeGreaterThan(1_000);
  expect(value).toBe(max);
  await page.getByText('The exam is on this device, locked until the start.').waitFor();
  await page.getByText('Downloads left: 1 of 2').waitFor();
  // Still before the start: the countdown is running, no question is on the page.
  expect(await page.getByRole('timer').count()).toBe(1);
  expect(await page.getByText(PROMPT).count()).toBe(0);
}

/** The exam is on screen, one question at a time: every question reached with "Next", with its "x of y" heading. */
async function expectQuestions(page: Page, h: Hall): Promise<void> {
  const questions = h.files.exam.sections.flatMap((s) => s.questions);
  const total = questions.length;
  await page.getByRole('heading', { name: `Question 1 of ${total}` }).waitFor({ timeout: START_AHEAD_MS + 20_000 });
  await page.getByRole('heading', { name: 'Chemistry 201 — Final', level: 2 }).waitFor();
  await page.getByText(PROMPT).waitFor();
  await page.getByRole('radio', { name: 'Na' }).waitFor();
  expect(await page.getByRole('navigation', { name: 'Questions' }).getByRole('button').count()).toBe(total);
  for (const [i, q] of questions.entries()) {
    await page.getByRole('heading', { name: `Question ${i + 1} of ${total}` }).waitFor();
    expect(await page.getByText(q.prompt, { exact: true }).count(), q.prompt).toBe(1);
    if (q.id === 'q2') await page.getByRole('radio', { name: 'True' }).waitFor();
    if (q.id === 'q6') await page.getByRole('checkbox', { name: 'Argon' }).waitFor();
    if (i < total - 1) await page.getByRole('button', { name: 'Next' }).click();
  }
  // The answer keys never reach the examinee's page.
  expect(await page.content()).not.toContain('answerKey');
  await page.getByRole('button', { name: 'Question 1, not answered' }).click();
}

/** Downloads before the start with a progress bar and opens the exam at the start with the released key. */
async function startOnline(): Promise<void> {
  const h = await hall();
  const { context } = await browser();
  const page = await context.newPage();
  const errors = watchConsole(page);

  await signInAndDownload(page, h);
  await screenshot(page, 'exam-downloaded');

  // What travels and what this device keeps is ciphertext: no prompt in the package's bytes.
  const other = new HttpExaminee(h.appliance.baseUrl, h.files.roster[1]!.studentId, h.files.roster[1]!.accessCode);
  expect((await other.signIn()).status).toBe(200);
  const res = await other.get('/api/exam/package');
  expect(res.status).toBe(200);
  const bytes = await res.text();
  expect(JSON.parse(bytes)).toMatchObject({ format: 'exam-package/v1', examId: 'exam-1' });
  expect(bytes).not.toContain('SECRET-PROMPT-MARKER');
  expect(bytes).not.toContain('symbol of sodium');

  await expectQuestions(page, h);
  await screenshot(page, 'exam-started');
  await page.setViewportSize({ width: 320, height: 640 });
  expect(await overflowsHorizontally(page)).toBe(false);
  await screenshot(page, 'exam-started-320px');
  expect(errors).toEqual([]);
}

/** Opens the exam with the exam password when the network is cut after the download. */
async function startWithPassword(): Promise<void> {
  const h = await hall();
  const { context } = await browser();
  const page = await context.newPage();
  const errors = watchConsole(page);

  await signInAndDownload(page, h);
  await context.setOffline(true);

  // At the start the key cannot come: the app asks for the password the proctor reads out.
  const field = page.getByRole('textbox', { name: 'Exam password' });
  await field.waitFor({ timeout: START_AHEAD_MS + 20_000 });
  await page.getByText('The exam key could not be fetched from the appliance.', { exact: false }).waitFor();
  await field.fill('AAAA-BBBB-CCCC');
  await page.getByRole('button', { name: 'Start the exam' }).click();
  await page.getByText('That password does not open this exam. Check it and try again.').waitFor();
  await screenshot(page, 'exam-password-wrong');

  // Typed the way people type it: lower case, spaces instead of dashes.
  await field.fill(h.password.toLowerCase().replace(/-/g, ' '));
  await page.getByRole('button', { name: 'Start the exam' }).click();
  await expectQuestions(page, h);
  await screenshot(page, 'exam-started-with-password-offline');
  await context.setOffline(false);
  expect(errors).toEqual([]);
}

describe('exam download and start in Chromium (built client, appliance as a child process)', () => {
  // Side by side, each with its own appliance and browser: both wait START_AHEAD_MS for the start once.
  it('downloads before the start with a progress bar and opens the exam at the start with the released key; at the same time, opens it with the exam password when the network is cut after the download', async () => {
    await Promise.all([startOnline(), startWithPassword()]);
  });
});
