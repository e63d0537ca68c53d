/**
 * The offline start in real Chromium against a real appliance (a child process serving the built
 * client), over plain HTTP on 127.0.0.1 and over HTTPS with the appliance's own CA: an examinee
 * signs in and downloads the exam, the network goes (context.setOffline, which also cuts the
 * service worker's network), and a reload of the lobby before the start opens the offline lobby —
 * what the lobby showed last, the countdown on the last measured clock offset, an "offline"
 * notice and the exam-password form. At the start the examinee types the password the proctor
 * reads out, the exam opens, an answer is typed, and when the network is back the appliance's
 * draft holds exactly the typed text.
 *
 * And the states around it: a device without the package says that the download needs the
 * network (not the sign-in form), the lobby refreshes itself when the network is back, a device
 * that kept nothing of its lobby says what it needs and carries on by itself, and a session the
 * appliance no longer knows goes to sign-in with the appliance's message.
 *
 * Everything a person types is typed key by key (pressSequentially with a delay), never fill().
 * The console of the production page has no errors and no warnings (RxDB's premium notice is
 * removed at build: client/build/no-rxdb-notice.ts). Tests wait for conditions, never a fixed time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HttpExaminee } from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { launchChromium, overflowsHorizontally, screenshot, waitForServiceWorker, watchConsole } from './browser.js';
import { asExaminee, eventually, HttpProctor, openHall, type Hall } from './hall.js';

/**
 * Enough for a browser start, sign-in, the download, the service worker, the offline reload and
 * its checks before the exam begins, on a 2-core machine that runs other tests too.
 */
const START_AHEAD_MS = 40_000;
/** Delay between keys for what the examinee types (sign-in, the exam password). */
const TYPING_MS = 60;
/** Delay between keys for the answer: fast, as a practised typist (typing.test.ts covers the speeds). */
const ANSWER_TYPING_MS = 20;
const ANSWER = 'Entropy counts the ways a system can be arranged.';
const TITLE = 'Chemistry 201 — Final';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function hall(options: { startAheadMs: number; https?: boolean }): Promise<Hall> {
  const h = await openHall(options);
  cleanups.push(() => h.close());
  return h;
}

async function page(extraArgs: string[] = []): Promise<Page> {
  const b = await launchChromium({ extraArgs });
  cleanups.push(() => b.close());
  return b.context.newPage();
}

interface Sheet {
  documents: { counter: number; answers: Record<string, unknown>; flagged: string[] }[];
}

/** Signs in from the sign-in form, typed key by key; waits for the lobby's countdown. */
async function signIn(p: Page, h: Hall): Promise<void> {
  const examinee = h.files.roster[0]!;
  await p.goto(`${h.origin}/`);
  await p.getByLabel('Student ID').pressSequentially(examinee.studentId, { delay: TYPING_MS });
  await p.getByLabel('Access code').pressSequentially(examinee.accessCode, { delay: TYPING_MS });
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('timer').waitFor();
}

/** "mm:ss" or "h:mm:ss" on the countdown, in seconds. */
const countdownSeconds = async (p: Page) =>
  ((await p.getByRole('timer').textContent()) ?? '')
    .trim()
    .split(':')
    .reduce((total, part) => total * 60 + Number(part), 0);

const offlineNotice = (p: Page) => p.getByTestId('offline-notice');
const connection = (p: Page) => p.getByTestId('connection');

/** The whole offline start, from sign-in to the typed answer on the appliance. */
async function offlineStart(h: Hall, p: Page, label: string): Promise<void> {
  const errors = watchConsole(p, { networkCut: true, warnings: true });
  await signIn(p, h);
  await p.getByRole('button', { name: 'Download exam' }).click();
  await p.getByTestId('downloaded').waitFor();
  await p.getByText('Downloads left: 1 of 2').waitFor();
  await waitForServiceWorker(p);

  // The network goes; the lobby is reloaded before the start.
  await p.context().setOffline(true);
  await p.reload();
  await p.getByRole('heading', { name: TITLE, level: 2 }).waitFor();
  await offlineNotice(p).getByText('Offline', { exact: true }).waitFor();
  await offlineNotice(p).getByText('The exam hall appliance cannot be reached.', { exact: false }).waitFor();
  await p.getByText('Signed in as Examinee 1 (S1)').waitFor();
  await p.getByText('Downloads left: 1 of 2').waitFor();
  await p.getByText('The exam is on this device, locked until the start.').waitFor();
  const password = p.getByRole('textbox', { name: 'Exam password' });
  await password.waitFor();
  await p
    .getByTestId('password-intro')
    .filter({ hasText: 'You can start without the network: when a proctor reads out the exam password' })
    .waitFor();
  // Not the sign-in form, and no error.
  expect(await p.getByLabel('Student ID').count()).toBe(0);
  expect(await p.getByRole('alert').filter({ hasText: /./ }).count()).toBe(0);
  // The countdown runs on the appliance's clock as last measured (here the same machine's clock).
  const shown = await countdownSeconds(p);
  expect(Math.abs(shown - (h.startMs - Date.now()) / 1000)).toBeLessThan(3);
  await expect.poll(() => countdownSeconds(p)).toBeLessThan(shown);
  await screenshot(p, `${label}-offline-lobby`);
  const axe = await audit(p, `${label} offline lobby`);
  await p.setViewportSize({ width: 320, height: 640 });
  expect(await overflowsHorizontally(p)).toBe(false);
  await screenshot(p, `${label}-offline-lobby-320px`);
  await p.setViewportSize({ width: 1280, height: 800 });
  expect(axe, 'serious or critical axe violations').toEqual([]);

  // At the start the proctor reads out the exam password; the examinee types it.
  await p.getByText('The exam has started.').waitFor({ timeout: Math.max(0, h.startMs - Date.now()) + 20_000 });
  await p.getByText('The exam key could not be fetched from the appliance.', { exact: false }).waitFor();
  await password.pressSequentially(h.password, { delay: TYPING_MS });
  await screenshot(p, `${label}-offline-password-typed`);
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'Question 1 of 5' }).waitFor();
  await connection(p).filter({ hasText: 'Offline: answers kept on this device' }).waitFor();

  // An answer, typed key by key.
  await p
    .getByRole('navigation', { name: 'Questions' })
    .getByRole('button', { name: /^Question 4,/ })
    .click();
  await p.getByRole('heading', { name: 'Question 4 of 5' }).waitFor();
  const field = p.getByRole('textbox', { name: 'Your answer' });
  await field.click();
  await p.keyboard.type(ANSWER, { delay: ANSWER_TYPING_MS });
  await p.getByText('1 of 5 answered').waitFor();
  expect(await field.inputValue()).toBe(ANSWER);
  await screenshot(p, `${label}-offline-answered`);
  // Nothing reached the appliance yet (asked from outside the cut network).
  expect((await asExaminee<Sheet>(h, p, '/api/exam/answers/pull?counter=0')).body.documents).toEqual([]);

  // The network is back: the answer reaches the appliance, exactly as typed.
  await p.context().setOffline(false);
  await eventually('the typed answer on the appliance', async () => {
    const { body } = await asExaminee<Sheet>(h, p, '/api/exam/answers/pull?counter=0');
    return body.documents[0]?.answers.q4 === ANSWER;
  });
  const stored = (await asExaminee<Sheet>(h, p, '/api/exam/answers/pull?counter=0')).body.documents[0]!;
  expect(stored.answers).toEqual({ q4: ANSWER });
  await connection(p).filter({ hasText: 'Connected: answers saved' }).waitFor();
  expect(errors).toEqual([]);
}

describe('the offline start in Chromium (built client, appliance as a child process)', () => {
  // Both at once: each waits START_AHEAD_MS for its exam to begin, so side by side they wait once.
  it('over HTTP on 127.0.0.1 and, at the same time, over HTTPS with the appliance’s own CA: the lobby reloaded offline, the exam opened with the password, the answer on the appliance after reconnect', async () => {
    const [plain, tls] = await Promise.all([
      hall({ startAheadMs: START_AHEAD_MS }),
      hall({ startAheadMs: START_AHEAD_MS, https: true }),
    ]);
    expect(tls.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const [plainPage, tlsPage] = await Promise.all([page(), page(['--ignore-certificate-errors'])]);
    await Promise.all([offlineStart(plain, plainPage, 'http'), offlineStart(tls, tlsPage, 'https')]);
  });

  it('without the package offline: says the download needs the network; refreshes itself when it is back; a gone session goes to sign-in', async () => {
    const h = await hall({ startAheadMs: 10 * 60_000 });
    const p = await page();
    const errors = watchConsole(p, { networkCut: true, warnings: true });
    await signIn(p, h);
    await p.getByRole('button', { name: 'Download exam' }).waitFor();
    await waitForServiceWorker(p);

    // Offline reload with no package: the lobby as it was, and what is needed.
    await p.context().setOffline(true);
    await p.reload();
    await p.getByRole('heading', { name: TITLE, level: 2 }).waitFor();
    await offlineNotice(p).getByText('Offline', { exact: true }).waitFor();
    await p
      .getByTestId('download-needs-network')
      .getByText('downloading it needs the exam hall’s network', { exact: false })
      .waitFor();
    await p.getByRole('timer').waitFor();
    expect(await p.getByRole('button', { name: 'Download exam' }).count()).toBe(0);
    expect(await p.getByRole('textbox', { name: 'Exam password' }).count()).toBe(0);
    expect(await p.getByLabel('Student ID').count()).toBe(0);
    await screenshot(p, 'offline-lobby-no-package');
    expect(await audit(p, 'offline lobby without the package'), 'serious or critical axe violations').toEqual([]);

    // The network is back: the lobby asks the appliance by itself; the download is offered.
    await p.context().setOffline(false);
    await p.getByRole('button', { name: 'Download exam' }).waitFor();
    expect(await offlineNotice(p).textContent()).toBe('');

    // A device that kept nothing of its lobby (signed in with an older version, say).
    await p.context().setOffline(true);
    await p.evaluate(() =>
      (globalThis as unknown as { localStorage: { removeItem(k: string): void } }).localStorage.removeItem(
        'exam-hall.lobby',
      ),
    );
    await p.reload();
    await p.getByRole('heading', { name: 'No connection to the exam hall' }).waitFor();
    await p.getByText('Seeing and downloading the exam needs the exam hall’s network.', { exact: false }).waitFor();
    expect(await p.getByLabel('Student ID').count()).toBe(0);
    await screenshot(p, 'offline-no-connection');
    await p.context().setOffline(false);
    await p.getByRole('button', { name: 'Download exam' }).waitFor();

    // Offline again, and meanwhile the examinee is moved to another device by a proctor.
    await p.context().setOffline(true);
    await p.reload();
    await offlineNotice(p).getByText('Offline', { exact: true }).waitFor();
    const examinee = h.files.roster[0]!;
    const other = new HttpExaminee(h.appliance.baseUrl, examinee.studentId, examinee.accessCode);
    expect((await other.signIn()).status).toBe(202);
    const proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
    const approved = await proctor.call('POST', `/exams/exam-1/participants/${examinee.studentId}/relogin`, {
      decision: 'approve',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await p.context().setOffline(false);
    await p.getByRole('heading', { name: 'Sign in to your exam' }).waitFor();
    await p.getByText('Your exam continues on another device: a proctor approved your sign-in there.').waitFor();
    await screenshot(p, 'offline-session-gone');
    // Nothing of that session is kept for an offline lobby.
    expect(
      await p.evaluate(() =>
        (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem(
          'exam-hall.lobby',
        ),
      ),
    ).toBeNull();

    // Signing in offline says that it needs the network.
    await p.context().setOffline(true);
    await offlineNotice(p)
      .getByText('No network: signing in needs the exam hall’s network.', { exact: false })
      .waitFor();
    await p.context().setOffline(false);
    // The appliance's 409 for the moved session is the one console error: an answer, not a failure.
    expect(errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });
});
