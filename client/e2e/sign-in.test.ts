/**
 * The PWA's foundation in real Chromium against a real appliance (a child process on a temp data
 * folder with an imported exam) serving the built client: an examinee signs in with the keyboard
 * alone and waits in the lobby, a proctor signs in and sees the exam's totals, neither page logs
 * an error, and both pages reload from the service worker with the network cut.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import {
  focusedId,
  launchChromium,
  overflowsHorizontally,
  screenshot,
  waitForServiceWorker,
  watchConsole,
  type Browser,
} from './browser.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const PROCTOR = { username: 'chief', password: 'chief-e2e-password', name: 'Chief Proctor' };

describe('the PWA in Chromium (built client, appliance as a child process)', () => {
  let tmp: string;
  let files: ExamOnDisk;
  let appliance: ApplianceProcess;
  const browsers: Browser[] = [];

  const browser = async () => {
    const b = await launchChromium();
    browsers.push(b);
    return b;
  };

  beforeAll(async () => {
    tmp = await makeTempDir('proctor-e2e-');
    const dataDir = path.join(tmp, 'data');
    // The exam starts in 10 minutes: sign-in and downloads are open, the lobby counts down.
    files = await writeExamFiles(tmp, { startMs: Date.now() + 10 * MIN, examinees: 4 });
    const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], applianceEnv(dataDir));
    expect(imported.code, imported.stderr).toBe(0);
    const added = await runApplianceCli(
      ['proctor', 'add', PROCTOR.username, '--role', 'chief', '--name', PROCTOR.name, '--password-stdin'],
      applianceEnv(dataDir),
      `${PROCTOR.password}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    appliance = await ApplianceProcess.start({ dataDir });
    expect(appliance.stdout, 'the appliance serves the built client, not the placeholder').not.toContain(
      'npm run build',
    );
  });

  afterAll(async () => {
    for (const b of browsers.splice(0)) await b.close();
    await appliance?.kill();
    if (tmp) await removeTempDir(tmp);
  });

  it('an examinee signs in with the keyboard alone and sees the lobby counting down on the appliance clock', async () => {
    const { context } = await browser();
    // This device's clock is three hours fast: the countdown must follow the appliance anyway.
    await context.clock.install({ time: Date.now() + 3 * HOUR });
    const page = await context.newPage();
    const errors = watchConsole(page);
    const examinee = files.roster[0]!;

    await page.goto(`${appliance.baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    expect(await overflowsHorizontally(page)).toBe(false);

    // Keyboard only: the sign-in heading has the focus, Tab leads through the labelled fields.
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('sign-in-studentId');
    await page.keyboard.type(examinee.studentId);
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('sign-in-accessCode');
    await page.keyboard.type('WRONG0000000');
    await page.keyboard.press('Enter');
    // The appliance's refusal, from its error body.
    await page.getByRole('alert').filter({ hasText: 'Student ID or access code is wrong.' }).waitFor();
    await screenshot(page, 'examinee-sign-in-refused');

    await page.keyboard.press('Control+A');
    await page.keyboard.type(examinee.accessCode);
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Chemistry 201 — Final' }).waitFor();
    await page.getByText(`Signed in as ${examinee.name} (${examinee.studentId})`).waitFor();
    const timer = page.getByRole('timer');
    const first = (await timer.textContent()) ?? '';
    // 10 minutes from the start on the appliance's clock; the device's clock would say it began.
    expect(first).toMatch(/^(?:10:00|09:[0-5]\d)$/);
    await expect.poll(() => timer.textContent(), { timeout: 5_000, interval: 200 }).not.toBe(first);
    await screenshot(page, 'examinee-lobby');

    // 320 px wide (a small phone): nothing sticks out sideways.
    await page.setViewportSize({ width: 320, height: 640 });
    expect(await overflowsHorizontally(page)).toBe(false);
    await screenshot(page, 'examinee-lobby-320px');

    // The one error is the browser's note of the wrong access code's 401.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/status of 401 .*\/api\/session/);
  });

  it('a proctor signs in and sees the exam with its tracking totals', async () => {
    // One examinee has downloaded the exam: the totals must say so.
    const downloader = new HttpExaminee(appliance.baseUrl, files.roster[1]!.studentId, files.roster[1]!.accessCode);
    expect((await downloader.signIn()).status).toBe(200);
    expect((await downloader.get('/api/exam/package')).status).toBe(200);

    const { context } = await browser();
    const page = await context.newPage();
    const errors = watchConsole(page);
    await page.goto(`${appliance.baseUrl}/proctor`);
    expect(new URL(page.url()).pathname).toBe('/proctor/');
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();
    await page.getByLabel('Username').fill(PROCTOR.username);
    await page.getByLabel('Password').fill(PROCTOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Exams on this appliance' }).waitFor();
    await page.getByText(`Signed in as ${PROCTOR.name} (chief proctor)`).waitFor();
    const exam = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: 'Chemistry 201 — Final' }) });
    await exam.waitFor();
    const totals = Object.fromEntries(
      await exam
        .locator('.totals > div')
        .evaluateAll((cells) =>
          cells.map((cell) => [cell.querySelector('dt')?.textContent, Number(cell.querySelector('dd')?.textContent)]),
        ),
    );
    expect(totals).toEqual({ Posted: 4, Downloaded: 1, Uploaded: 0 });
    await screenshot(page, 'proctor-exams');

    await page.setViewportSize({ width: 320, height: 640 });
    expect(await overflowsHorizontally(page)).toBe(false);
    await screenshot(page, 'proctor-exams-320px');
    expect(errors).toEqual([]);
  });

  it('logs no console error on either page, from first load through sign-in', async () => {
    const { context } = await browser();
    const examineePage = await context.newPage();
    const proctorPage = await context.newPage();
    const examineeErrors = watchConsole(examineePage);
    const proctorErrors = watchConsole(proctorPage);
    const examinee = files.roster[2]!;

    await examineePage.goto(`${appliance.baseUrl}/`);
    await waitForServiceWorker(examineePage);
    await examineePage.getByLabel('Student ID').fill(examinee.studentId);
    await examineePage.getByLabel('Access code').fill(examinee.accessCode);
    await examineePage.getByRole('button', { name: 'Sign in' }).click();
    await examineePage.getByRole('timer').waitFor();

    await proctorPage.goto(`${appliance.baseUrl}/proctor/`);
    await waitForServiceWorker(proctorPage);
    await proctorPage.getByLabel('Username').fill(PROCTOR.username);
    await proctorPage.getByLabel('Password').fill(PROCTOR.password);
    await proctorPage.getByRole('button', { name: 'Sign in' }).click();
    await proctorPage.getByRole('heading', { name: 'Chemistry 201 — Final' }).waitFor();

    // A reload of each (signed in now) is clean too.
    await examineePage.reload();
    await examineePage.getByRole('timer').waitFor();
    await proctorPage.reload();
    await proctorPage.getByRole('heading', { name: 'Chemistry 201 — Final' }).waitFor();

    expect(examineeErrors).toEqual([]);
    expect(proctorErrors).toEqual([]);
  });

  it('reloads both apps from the service worker with the network cut, with the manifest and icons cached', async () => {
    const { context } = await browser();
    const page = await context.newPage();
    const errors = watchConsole(page);
    await page.goto(`${appliance.baseUrl}/`);
    await waitForServiceWorker(page);
    await page.goto(`${appliance.baseUrl}/proctor/`);
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();

    await context.setOffline(true);
    await page.goto(`${appliance.baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    await page.goto(`${appliance.baseUrl}/proctor/`);
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();
    const manifest = await page.evaluate(async () => {
      const res = await fetch('/manifest.webmanifest');
      return (await res.json()) as { name: string; icons: { src: string }[] };
    });
    expect(manifest.name).toBe('Exam hall');
    for (const icon of manifest.icons) {
      const status = await page.evaluate(async (src) => (await fetch(src)).status, icon.src);
      expect(status, icon.src).toBe(200);
    }
    await context.setOffline(false);
    expect(errors).toEqual([]);
  });
});
