/**
 * The README's screenshots, reproducible: `npm run screenshots` starts the appliance with the demo
 * exam on a temporary data folder (the built client; built first when missing or stale), opens
 * Debian's Chromium through playwright-core with the browser tests' flags (client/e2e/browser.ts),
 * signs in the demo examinee S1001 and the demo chief proctor, and writes
 *   docs/screenshots/examinee-lobby.png    (the examinee's lobby, counting down to the start)
 *   docs/screenshots/proctor-exams.png     (the proctor dashboard's exam list with its totals)
 *   docs/screenshots/examinee-exam.png     (the exam in progress: timer, palette, a question)
 *   docs/screenshots/proctor-monitor.png   (the live monitor's Participants tab, progress picture)
 *   docs/screenshots/examinee-receipt.png  (the signed receipt with its QR code)
 * at 1000 × 640 CSS pixels (the monitor 1000 × 900). The demo exam starts a minute or two after
 * the appliance does (PROCTOR_DEMO_START_MINUTES=1), so the script waits for it.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ApplianceProcess, makeTempDir, removeTempDir, REPO_ROOT } from '../tests/support/appliance-process.js';
import { launchChromium, type Browser } from '../client/e2e/browser.js';
import { buildClient, clientBuildState } from './client-build.js';

const OUT_DIR = path.join(REPO_ROOT, 'docs', 'screenshots');
const VIEWPORT = { width: 1000, height: 640 };
/** From examples/roster-demo.csv and the demo proctors the appliance adds on its first start. */
const EXAMINEE = { studentId: 'S1001', accessCode: 'Q4YDRXBK9QYM' };
const PROCTOR = { username: 'chief', password: 'chief-demo-pass' };

async function main(): Promise<void> {
  const state = clientBuildState();
  if (state.state !== 'fresh') {
    process.stdout.write('Building the client first...\n');
    await buildClient({ quiet: true });
  }
  await mkdir(OUT_DIR, { recursive: true });
  const tmp = await makeTempDir('proctor-screenshots-');
  let appliance: ApplianceProcess | undefined;
  const browsers: Browser[] = [];
  try {
    appliance = await ApplianceProcess.start({
      dataDir: path.join(tmp, 'data'),
      env: { PROCTOR_DEMO: 'true', PROCTOR_HALL_ID: 'demo-hall', PROCTOR_DEMO_START_MINUTES: '1' },
    });
    const base = appliance.baseUrl;

    // Each app in its own fresh profile, as on two different devices.
    const examinee = await launchChromium();
    browsers.push(examinee);
    const lobby = await examinee.context.newPage();
    await lobby.setViewportSize(VIEWPORT);
    await lobby.goto(`${base}/`);
    await lobby.getByLabel('Student ID').fill(EXAMINEE.studentId);
    await lobby.getByLabel('Access code').fill(EXAMINEE.accessCode);
    await lobby.getByRole('button', { name: 'Sign in' }).click();
    await lobby.getByRole('timer').waitFor();
    await shoot(lobby, 'examinee-lobby.png');

    const proctor = await launchChromium();
    browsers.push(proctor);
    const exams = await proctor.context.newPage();
    await exams.setViewportSize(VIEWPORT);
    await exams.goto(`${base}/proctor/`);
    await exams.getByLabel('Username').fill(PROCTOR.username);
    await exams.getByLabel('Password').fill(PROCTOR.password);
    await exams.getByRole('button', { name: 'Sign in' }).click();
    await exams.getByRole('heading', { name: 'Exams on this appliance' }).waitFor();
    await exams.getByRole('heading', { name: 'Physics 101 — Midterm' }).waitFor();
    await shoot(exams, 'proctor-exams.png');

    // The exam: downloaded in the lobby, opened by the appliance at the official start.
    await lobby.getByRole('button', { name: 'Download exam' }).click();
    await lobby.getByTestId('downloaded').waitFor();
    process.stdout.write('Waiting for the demo exam to start (at most two minutes)...\n');
    await lobby.getByRole('heading', { name: /^Question 1 of \d+$/ }).waitFor({ timeout: 150_000 });
    await lobby.getByRole('radio', { name: 'newton' }).check();
    await lobby.getByRole('button', { name: 'Next' }).click();
    await lobby
      .getByRole('radio', { name: /^Its velocity is zero and its acceleration is 9.81 m\/s² downwards/ })
      .check();
    await lobby.getByRole('button', { name: 'Next' }).click();
    await lobby.getByRole('checkbox', { name: 'velocity', exact: true }).check();

    // The proctor sees the three answers arrive (the examinee's row, live).
    await exams.setViewportSize({ width: VIEWPORT.width, height: 900 });
    await exams.getByRole('button', { name: 'Open monitor of Physics 101 — Midterm' }).click();
    await exams.getByRole('tab', { name: 'Participants' }).click();
    await exams.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
    await exams.getByText('(3 of 11)', { exact: false }).first().waitFor();
    await shoot(exams, 'proctor-monitor.png');

    await lobby.getByTestId('connection').filter({ hasText: 'Connected: answers saved' }).waitFor();
    await lobby.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await shoot(lobby, 'examinee-exam.png');

    await lobby.getByRole('button', { name: 'Review and submit' }).first().click();
    await lobby.getByRole('button', { name: 'Submit my answers' }).click();
    await lobby.getByRole('button', { name: 'Yes, submit' }).click();
    await lobby.getByRole('heading', { name: 'Submission received' }).waitFor();
    await shoot(lobby, 'examinee-receipt.png');
  } finally {
    for (const b of browsers) await b.close();
    await appliance?.kill();
    await removeTempDir(tmp);
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  const file = path.join(OUT_DIR, name);
  // Web fonts (if any) loaded before the picture is taken.
  await page.evaluate(
    () => (globalThis as { document?: { fonts: { ready: Promise<unknown> } } }).document?.fonts.ready,
  );
  await page.screenshot({ path: file, type: 'png' });
  const { size } = await stat(file);
  process.stdout.write(`${path.relative(REPO_ROOT, file)}: ${(size / 1024).toFixed(1)} kB\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
