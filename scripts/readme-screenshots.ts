/**
 * The README's screenshots, reproducible: `npm run screenshots` starts the appliance with the demo
 * exam on a temporary data folder (the built client; built first when missing or stale), opens
 * Debian's Chromium through playwright-core with the browser tests' flags (client/e2e/browser.ts),
 * signs in the demo examinee S1001 and the demo chief proctor, and writes
 *   docs/screenshots/examinee-lobby.png  (the examinee's lobby, counting down to the start)
 *   docs/screenshots/proctor-exams.png   (the proctor dashboard's exam list with its totals)
 * at 1000 × 640 CSS pixels.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ApplianceProcess, makeTempDir, removeTempDir, REPO_ROOT } from '../appliance/src/process-test-support.js';
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
      env: { PROCTOR_DEMO: 'true', PROCTOR_HALL_ID: 'demo-hall' },
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
