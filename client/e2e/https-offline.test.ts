/**
 * The box itself in Chromium: HTTPS with the appliance's own CA (PROCTOR_HTTPS_MODE=local-ca) on
 * 127.0.0.1 — the service worker takes over and the app reloads with the network cut; the HTTP
 * onboarding page offers the CA and sends the rest to HTTPS; a chief proctor confirms an
 * untrusted clock on the dashboard. And with HTTPS off, a page at an address that is not a
 * secure context shows the banner that offline reload is not available.
 *
 * Chromium cannot be told to trust a CA headless without a NSS database tool, so it runs with
 * `--ignore-certificate-errors` (DESIGN.md: Playwright's ignoreHTTPSErrors alone does not let the
 * service worker script load); the certificate itself is checked against the CA by OpenSSL in
 * appliance/src/tls/local-ca.test.ts.
 */
import { get } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  ApplianceProcess,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  writeExamFiles,
} from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { launchChromium, screenshot, waitForServiceWorker, watchConsole } from './browser.js';
import { CHIEF, HttpProctor, openHall } from './hall.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Box {
  appliance: ApplianceProcess;
  /** https://127.0.0.1:<port> (or http:// with HTTPS off). */
  origin: string;
  /** The onboarding page's port (HTTPS on only). */
  httpPort: number | undefined;
}

/** An appliance with an exam an hour ahead and a chief proctor, started with `env`. */
async function startBox(env: Record<string, string>): Promise<Box> {
  const tmp = await makeTempDir('proctor-e2e-https-');
  const dataDir = path.join(tmp, 'data');
  const files = await writeExamFiles(tmp, { startMs: Date.now() + 60 * 60_000, examinees: 1 });
  const cliEnv = applianceEnv(dataDir);
  expect((await runApplianceCli(['import', files.examPath, files.rosterPath], cliEnv)).code).toBe(0);
  const added = await runApplianceCli(
    ['proctor', 'add', CHIEF.username, '--role', 'chief', '--password-stdin'],
    cliEnv,
    `${CHIEF.password}\n`,
  );
  expect(added.code, added.stderr).toBe(0);
  const appliance = await ApplianceProcess.start({ dataDir, env });
  cleanups.push(async () => {
    await appliance.kill();
    await removeTempDir(tmp);
  });
  const httpPort = /^HTTP port=(\d+)$/m.exec(appliance.stdout)?.[1];
  const https = env.PROCTOR_HTTPS_MODE !== undefined && env.PROCTOR_HTTPS_MODE !== 'off';
  return {
    appliance,
    origin: `${https ? 'https' : 'http'}://127.0.0.1:${appliance.port}`,
    httpPort: httpPort === undefined ? undefined : Number(httpPort),
  };
}

async function browser(extraArgs: string[]): Promise<Page> {
  const b = await launchChromium({ extraArgs });
  cleanups.push(() => b.close());
  return b.context.newPage();
}

describe('HTTPS with the appliance’s own CA, in Chromium', () => {
  it('serves the app over HTTPS; the service worker takes over and the app reloads with the network cut', async () => {
    const box = await startBox({ PROCTOR_HTTPS_MODE: 'local-ca', PROCTOR_HTTP_PORT: '0' });
    const page = await browser(['--ignore-certificate-errors']);
    const errors = watchConsole(page, { networkCut: true });
    await page.goto(`${box.origin}/`);
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { isSecureContext: boolean }).isSecureContext)).toBe(
      true,
    );
    expect(await page.getByTestId('secure-context-banner').count()).toBe(0);
    await waitForServiceWorker(page);

    await page.context().setOffline(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    await page.getByLabel('Student ID').waitFor();
    await screenshot(page, 'https-offline-reload');

    // The proctor dashboard too, once visited.
    await page.context().setOffline(false);
    await page.goto(`${box.origin}/proctor/`);
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();
    await waitForServiceWorker(page);
    await page.context().setOffline(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();
    await page.context().setOffline(false);
    expect(errors).toEqual([]);
  });

  it('offers the CA on the HTTP onboarding page, and sends app addresses to HTTPS', async () => {
    const box = await startBox({ PROCTOR_HTTPS_MODE: 'local-ca', PROCTOR_HTTP_PORT: '0' });
    expect(box.httpPort).toBeDefined();
    const fingerprint = /CA SHA-256 fingerprint: (\S+)/.exec(box.appliance.stdout)?.[1];
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const page = await browser(['--ignore-certificate-errors']);
    const errors = watchConsole(page);
    const onboarding = `http://127.0.0.1:${box.httpPort}`;

    await page.goto(`${onboarding}/?stay`);
    await page.getByRole('heading', { name: 'Connect to exam-hall securely', level: 1 }).waitFor();
    const download = page.getByRole('link', { name: 'Download the certificate (.crt)' });
    expect(await download.getAttribute('href')).toBe('/ca.crt');
    expect((await page.getByTestId('fingerprint').textContent())?.trim()).toBe(fingerprint);
    for (const platform of [
      'Windows',
      'macOS',
      'iPhone and iPad',
      'Android',
      'Chromebook (ChromeOS)',
      'Linux (Debian, Ubuntu, Raspberry Pi OS)',
      'Firefox (any computer)',
    ])
      await page.getByText(platform, { exact: true }).waitFor();
    await page.getByText('Android', { exact: true }).click();
    await page.getByText('Install a certificate', { exact: false }).waitFor();
    await page.getByText('Linux (Debian, Ubuntu, Raspberry Pi OS)', { exact: true }).click();
    await page.getByText('sudo update-ca-certificates', { exact: false }).waitFor();
    const ca = await page.context().request.get(`${onboarding}/ca.crt`);
    expect(ca.status()).toBe(200);
    expect(ca.headers()['content-type']).toBe('application/x-x509-ca-cert');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, 'https-onboarding-phone');
    expect(await audit(page, 'onboarding page, 360px'), 'serious or critical axe violations').toEqual([]);

    // A request naming another host (a spoofed Host header, DNS rebinding) goes to the box's own name.
    const elsewhere = await new Promise<{ status: number | undefined; location: string | undefined }>(
      (resolve, reject) => {
        get({ host: '127.0.0.1', port: box.httpPort, path: '/proctor/', headers: { host: 'intranet.school.internal' } })
          .on('response', (res) => {
            res.resume();
            resolve({ status: res.statusCode, location: res.headers.location });
          })
          .on('error', reject);
      },
    );
    expect(elsewhere).toEqual({ status: 307, location: `https://exam-hall.local:${box.appliance.port}/proctor/` });

    // App addresses on plain HTTP go to HTTPS.
    await page.goto(`${onboarding}/proctor/`);
    expect(page.url()).toBe(`${box.origin}/proctor/`);
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();

    // A device that trusts the CA (here: ignores certificate errors) goes on from the page by itself.
    await page.goto(`${onboarding}/`);
    await page.waitForURL(`${box.origin}/`);
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('lets a chief proctor confirm an untrusted clock over HTTPS (Secure cookie, Origin check)', async () => {
    const box = await startBox({
      PROCTOR_HTTPS_MODE: 'local-ca',
      PROCTOR_HTTP_PORT: '0',
      PROCTOR_CLOCK_TRUST: 'untrusted',
    });
    const page = await browser(['--ignore-certificate-errors']);
    const errors = watchConsole(page);
    await page.goto(`${box.origin}/proctor/`);
    await page.getByLabel('Username').fill(CHIEF.username);
    await page.getByLabel('Password').fill(CHIEF.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Exams on this appliance' }).waitFor();
    const panel = page.getByTestId('clock-panel');
    await panel.getByRole('heading', { name: 'Confirm the appliance’s time' }).waitFor();
    await screenshot(page, 'https-clock-panel');
    expect(await audit(page, 'clock panel'), 'serious or critical axe violations').toEqual([]);
    await panel.getByRole('button', { name: 'The appliance’s time is right' }).click();
    await page.getByText('The appliance’s time is confirmed. Exams can open.').waitFor();
    // Asked from the page (the test's own HTTP client does not know the test CA).
    const time = await page.evaluate(async () => {
      const res = await (globalThis as unknown as { fetch: typeof fetch }).fetch('/api/time');
      return (await res.json()) as { trusted: boolean; source: string };
    });
    expect(time).toMatchObject({ trusted: true, source: 'proctor-confirmed' });
    expect(errors).toEqual([]);
  });
});

describe('HTTPS off', () => {
  it('shows the banner that offline reload is not available where the page is not a secure context', async () => {
    const box = await startBox({});
    expect(box.httpPort).toBeUndefined();
    // A name for 127.0.0.1 that is not "localhost": a plain-HTTP page there is not a secure context.
    const page = await browser(['--host-resolver-rules=MAP exam-hall.test 127.0.0.1']);
    const errors = watchConsole(page);
    await page.goto(`http://exam-hall.test:${box.appliance.port}/`);
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    const banner = page.getByTestId('secure-context-banner');
    await banner.getByText('Offline reload is not available.').waitFor();
    await screenshot(page, 'https-off-banner-examinee');
    await page.goto(`http://exam-hall.test:${box.appliance.port}/proctor/`);
    await page.getByRole('heading', { name: 'Proctor sign-in' }).waitFor();
    await page.getByTestId('secure-context-banner').getByText('Offline reload is not available.').waitFor();
    await screenshot(page, 'https-off-banner-proctor');
    // On the box itself (127.0.0.1) the page is a secure context: no banner.
    await page.goto(`${box.origin}/`);
    await page.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    expect(await page.getByTestId('secure-context-banner').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe('an untrusted clock, for the examinee', () => {
  it('says the hall’s clock is not confirmed at the start, and opens the exam once a chief confirms it', async () => {
    const hall = await openHall({ startAheadMs: 15_000, env: { PROCTOR_CLOCK_TRUST: 'untrusted' } });
    cleanups.push(() => hall.close());
    const page = await browser([]);
    const errors = watchConsole(page);
    const examinee = hall.files.roster[0]!;
    await page.goto(`${hall.appliance.baseUrl}/`);
    await page.getByLabel('Student ID').fill(examinee.studentId);
    await page.getByLabel('Access code').fill(examinee.accessCode);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Download exam' }).click();
    await page.getByTestId('downloaded').waitFor();
    await page
      .getByText('The exam hall’s clock has not been confirmed yet; a proctor is on it.', { exact: false })
      .waitFor({ timeout: Math.max(0, hall.startMs - Date.now()) + 20_000 });
    await screenshot(page, 'https-clock-not-confirmed-examinee');
    const chief = new HttpProctor(hall.appliance.baseUrl);
    await chief.login();
    expect((await chief.call('POST', '/clock', { action: 'confirm' })).status).toBe(200);
    await page.getByRole('heading', { name: /^Question 1 of / }).waitFor({ timeout: 20_000 });
    // The refusals the page received were answers, not errors.
    expect(errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });
});
