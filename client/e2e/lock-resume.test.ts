/**
 * The locked exam and the examinee's side of proctoring in real Chromium against a real appliance:
 * - a reload during the exam locks it (lockOnReload, the default); with the network cut, the lock
 *   screen shows a continuation code, counts a wrong resume code, and opens with the right one (a
 *   proctor's, from the appliance's HTTP API outside the cut network) with every answer there; the
 *   report reaches the appliance on reconnect, and the next reload shows the next code;
 * - messages: a proctor's announcement arrives live with an unread count and a live-region
 *   announcement; a question asked offline reaches the proctors after reconnect;
 * - a bathroom break requested, approved by a proctor (seen live), and ended;
 * - integrity: a copy and a paste reach the examinee's events;
 * - an exam that requires full screen: the full-screen step, and leaving full screen locks.
 * axe-core checks the lock screen and the messages panel at 1280 and 320 px.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { audit } from './axe.js';
import { launchChromium, overflowsHorizontally, screenshot, watchConsole } from './browser.js';
import { asExaminee, CHIEF, eventually, HttpProctor, openHall, signInAndOpen, type Hall } from './hall.js';

const START_AHEAD_MS = 20_000;
const EXAM = '/exams/exam-1';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function page(): Promise<Page> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  return b.context.newPage();
}

interface Sheet {
  documents: { answers: Record<string, unknown> }[];
}
interface StoredEvent {
  kind: string;
  studentId?: string;
  data: Record<string, unknown>;
}
interface ProctorMessage {
  text: string;
  audience: string;
  studentId: string | null;
  questionId: string | null;
}

/** The exam's event log as a proctor downloads it (GET .../events.jsonl). */
async function eventLog(h: Hall): Promise<StoredEvent[]> {
  const base = h.appliance.baseUrl;
  const login = await fetch(`${base}/api/proctor/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify(CHIEF),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const res = await fetch(`${base}/api/proctor${EXAM}/events.jsonl`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return (await res.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StoredEvent);
}

const connection = (p: Page) => p.getByTestId('connection');
const goTo = (p: Page, n: number) =>
  p
    .getByRole('navigation', { name: 'Questions' })
    .getByRole('button', { name: new RegExp(`^Question ${n},`) })
    .click();
/** The continuation code on the lock screen, as shown ("K7QH-3M9P"). */
const shownChallenge = async (p: Page) =>
  ((await p.locator('.lock-code [aria-hidden="true"]').textContent()) ?? '').trim();

/** The resume code a proctor gets for a challenge (POST .../resume-code, as the dashboard does). */
async function resumeCodeFor(proctor: HttpProctor, studentId: string, challenge: string): Promise<string> {
  const issued = await proctor.call<{ resumeCode: string }>('POST', `${EXAM}/participants/${studentId}/resume-code`, {
    challenge,
  });
  expect(issued.status).toBe(200);
  return issued.body.resumeCode;
}

describe('lock screen, messages, bathroom break and integrity (Chromium, built client, appliance)', () => {
  let h: Hall;
  let proctor: HttpProctor;

  beforeAll(async () => {
    h = await openHall({ startAheadMs: START_AHEAD_MS });
    proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a reload locks the exam; offline, the proctor’s resume code opens it with every answer; the use reaches the appliance', async () => {
    const p = await page();
    const errors = watchConsole(p, { networkCut: true });
    await signInAndOpen(p, h, 0);
    await p.getByRole('radio', { name: 'Na' }).check();
    await p.getByRole('button', { name: 'Next' }).click();
    await p.getByRole('radio', { name: 'True' }).check();
    await connection(p).filter({ hasText: 'Connected: answers saved' }).waitFor();

    // The Wi-Fi drops; one more answer, then the page is reloaded.
    await p.context().setOffline(true);
    await connection(p).filter({ hasText: 'Offline: answers kept on this device' }).waitFor();
    await goTo(p, 3);
    await p.getByRole('textbox', { name: 'Your answer' }).fill('6.02');
    await p.getByText('3 of 5 answered').waitFor();
    await p.reload();

    await p.getByRole('heading', { name: 'Your exam is locked' }).waitFor();
    await p.getByText('The exam page was reloaded or opened again.').waitFor();
    // The questions are not on screen while locked.
    expect(await p.getByRole('navigation', { name: 'Questions' }).count()).toBe(0);
    await p.getByText('Code 1 of 8').waitFor();
    const challenge = await shownChallenge(p);
    expect(challenge).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await screenshot(p, 'lock-screen');
    const found = await audit(p, 'lock screen, desktop');

    // A wrong code (well-formed): counted, with the tries left said.
    const input = p.getByLabel('Resume code from the proctor');
    await input.fill('00000-00000');
    await input.press('Enter');
    await p
      .getByRole('alert')
      .filter({ hasText: 'That resume code is not right. 4 tries left for this continuation code.' })
      .waitFor();
    // Right under the field (above the Unlock button), where the examinee is looking.
    const fieldBox = (await input.boundingBox())!;
    const errorBox = (await p.locator('#resume-code-error').boundingBox())!;
    const unlockBox = (await p.getByRole('button', { name: 'Unlock the exam' }).boundingBox())!;
    expect(errorBox.y).toBeGreaterThanOrEqual(fieldBox.y + fieldBox.height);
    expect(errorBox.y).toBeLessThan(fieldBox.y + fieldBox.height + 20);
    expect(errorBox.y + errorBox.height).toBeLessThanOrEqual(unlockBox.y);
    // Text that cannot be a code is not counted.
    await input.fill('12345');
    await p.getByRole('button', { name: 'Unlock the exam' }).click();
    await p.getByText('A resume code has 10 letters and digits.', { exact: false }).waitFor();
    await screenshot(p, 'lock-wrong-code');
    await p.setViewportSize({ width: 320, height: 640 });
    expect(await overflowsHorizontally(p)).toBe(false);
    found.push(...(await audit(p, 'lock screen, 320px')));
    await screenshot(p, 'lock-screen-320px');
    await p.setViewportSize({ width: 1280, height: 800 });
    expect(found).toEqual([]);

    // The proctor reads out the resume code; the device checks it with the network still cut.
    const resumeCode = await resumeCodeFor(proctor, 'S1', challenge);
    await input.fill(resumeCode.toLowerCase());
    await input.press('Enter');
    await p.getByRole('heading', { name: 'Question 3 of 5' }).waitFor();
    await connection(p).filter({ hasText: 'Offline: answers kept on this device' }).waitFor();
    await p.getByText('3 of 5 answered').waitFor();
    expect(await p.getByRole('textbox', { name: 'Your answer' }).inputValue()).toBe('6.02');
    await goTo(p, 2);
    expect(await p.getByRole('radio', { name: 'True' }).isChecked()).toBe(true);
    await goTo(p, 1);
    expect(await p.getByRole('radio', { name: 'Na' }).isChecked()).toBe(true);
    await screenshot(p, 'lock-unlocked-offline');
    // Nothing of it reached the appliance yet (asked from outside the cut network).
    const before = await asExaminee<{ spent: string[] }>(h, p, '/api/exam/resume-challenges');
    expect(before.body.spent).toEqual([]);

    // Back online: the resume report and the offline answer reach the appliance.
    await p.context().setOffline(false);
    const normalised = challenge.replace('-', '');
    await eventually('the resume code recorded as used', async () => {
      const { body } = await asExaminee<{ spent: string[] }>(h, p, '/api/exam/resume-challenges');
      return body.spent.includes(normalised);
    });
    const log = await eventLog(h);
    const used = log.filter((e) => e.kind === 'resume-code-used' && e.studentId === 'S1');
    expect(used.map((e) => e.data.challenge)).toEqual([normalised]);
    // The reload itself was reported as an integrity event (queued offline, sent on reconnect).
    await eventually('the reload in the examinee’s events', async () =>
      (await eventLog(h)).some((e) => e.kind === 'integrity-event' && e.studentId === 'S1' && e.data.type === 'reload'),
    );
    await eventually('the offline answer on the appliance', async () => {
      const { body } = await asExaminee<Sheet>(h, p, '/api/exam/answers/pull?counter=0');
      return body.documents[0]?.answers.q3 === 6.02;
    });

    // Unlocked, it stays unlocked; a new reload locks again, with the next continuation code.
    await connection(p).filter({ hasText: 'Connected: answers saved' }).waitFor();
    await p.reload();
    await p.getByRole('heading', { name: 'Your exam is locked' }).waitFor();
    await p.getByText('Code 2 of 8').waitFor();
    expect(await shownChallenge(p)).not.toBe(challenge);
    // The one error is the browser's note of the appliance refusing the reported wrong code.
    expect(errors).toEqual([expect.stringMatching(/status of 403 .*\/api\/exam\/resume/)]);
  });

  it('messages live and offline, a bathroom break from request to return, and integrity events', async () => {
    const p = await page();
    const errors = watchConsole(p, { networkCut: true });
    await signInAndOpen(p, h, 1);
    await p.getByTestId('integrity-notice').filter({ hasText: 'copy or paste' }).waitFor();
    await connection(p).filter({ hasText: 'Connected: answers saved' }).waitFor();

    // A proctor's announcement arrives live: unread count on the closed panel, read out politely.
    const announce = await proctor.call('POST', `${EXAM}/messages`, { text: 'Twenty minutes left.' });
    expect(announce.status).toBe(201);
    await p.getByRole('button', { name: 'Messages 1 unread' }).waitFor();
    await p
      .getByTestId('messages-announcement')
      .filter({ hasText: 'New message from the proctors: Twenty minutes left.' })
      .waitFor();
    await p.getByRole('button', { name: 'Messages 1 unread' }).click();
    const list = p.getByRole('list', { name: 'Messages, newest first' });
    await list.getByText('Twenty minutes left.').waitFor();
    await list.getByText('Announcement to everyone').waitFor();
    // Seen now.
    await p.getByRole('button', { name: 'Messages', exact: true }).waitFor();
    await screenshot(p, 'lock-messages-panel');

    // A question asked with the network cut waits on the device, then reaches the proctors.
    await p.context().setOffline(true);
    await connection(p).filter({ hasText: 'Offline: answers kept on this device' }).waitFor();
    await p.getByText('No connection now', { exact: false }).waitFor();
    await p.getByLabel('Your question').fill('Is a calculator allowed?');
    await p.getByRole('checkbox', { name: 'It is about question 1' }).check();
    await p.getByRole('button', { name: 'Send' }).click();
    await list.getByText('Is a calculator allowed?').waitFor();
    await list.getByText('Waiting for the connection').waitFor();
    await list.getByText('About question 1').waitFor();
    await screenshot(p, 'lock-messages-queued-offline');
    const asked = (m: ProctorMessage) => m.text === 'Is a calculator allowed?';
    const offline = await proctor.call<{ messages: ProctorMessage[] }>('GET', `${EXAM}/messages`);
    expect(offline.body.messages.filter(asked)).toEqual([]);
    await p.context().setOffline(false);
    await eventually('the question with the proctors', async () => {
      const { body } = await proctor.call<{ messages: ProctorMessage[] }>('GET', `${EXAM}/messages`);
      return body.messages.some(asked);
    });
    const { body } = await proctor.call<{ messages: ProctorMessage[] }>('GET', `${EXAM}/messages`);
    expect(body.messages.filter(asked)).toEqual([
      expect.objectContaining({ audience: 'proctors', studentId: 'S2', questionId: 'q1' }),
    ]);
    await list.getByText('Sent').waitFor();
    expect(await list.getByText('Is a calculator allowed?').count()).toBe(1);

    // axe on the open messages panel, at both widths.
    const found = await audit(p, 'messages panel, desktop');
    await p.setViewportSize({ width: 320, height: 640 });
    expect(await overflowsHorizontally(p)).toBe(false);
    found.push(...(await audit(p, 'messages panel, 320px')));
    await screenshot(p, 'lock-messages-panel-320px');
    await p.setViewportSize({ width: 1280, height: 800 });
    expect(found).toEqual([]);

    // Integrity: copying and pasting in the exam is reported.
    const field = p.getByLabel('Your question');
    await field.fill('copied text');
    await field.press('ControlOrMeta+A');
    await field.press('ControlOrMeta+C');
    await field.press('ControlOrMeta+V');
    await eventually('the copy and the paste in the examinee’s events', async () => {
      const types = (await eventLog(h))
        .filter((e) => e.kind === 'integrity-event' && e.studentId === 'S2')
        .map((e) => e.data.type);
      return types.includes('paste') && types.includes('copy');
    });

    // Bathroom break: asked, approved by a proctor (seen live), back.
    await p.getByRole('button', { name: 'Bathroom break' }).click();
    await p.getByRole('button', { name: 'Request a bathroom break' }).click();
    const bathroom = p.getByTestId('bathroom-status');
    await bathroom.filter({ hasText: 'You asked for a bathroom break.' }).waitFor();
    await screenshot(p, 'lock-bathroom-requested');
    const decided = await proctor.call('POST', `${EXAM}/participants/S2/bathroom-break`, { decision: 'approved' });
    expect(decided.status).toBe(200);
    await bathroom.filter({ hasText: 'A proctor approved your break.' }).waitFor();
    await screenshot(p, 'lock-bathroom-approved');
    await p.getByRole('button', { name: 'I am back from the break' }).click();
    await bathroom.filter({ hasText: 'Welcome back.' }).waitFor();
    const row = await proctor.call<{ row: { bathroom: string } }>('GET', `${EXAM}/participants/S2`);
    expect(row.body.row.bathroom).toBe('returned');
    expect(errors).toEqual([]);
  });
});

describe('an exam taken in full screen (Chromium, built client, appliance)', () => {
  it('asks for full screen before the questions; leaving it locks the exam and is reported', async () => {
    const h = await openHall({ startAheadMs: START_AHEAD_MS, settings: { requireFullscreen: true } });
    cleanups.push(() => h.close());
    const proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
    const p = await page();
    const errors = watchConsole(p);
    const examinee = h.files.roster[0]!;
    await p.goto(`${h.appliance.baseUrl}/`);
    await p.getByLabel('Student ID').fill(examinee.studentId);
    await p.getByLabel('Access code').fill(examinee.accessCode);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Download exam' }).click();
    await p.getByTestId('downloaded').waitFor();
    await p
      .getByRole('heading', { name: 'This exam is taken in full screen.' })
      .waitFor({ timeout: Math.max(0, h.startMs - Date.now()) + 20_000 });
    expect(await p.getByRole('navigation', { name: 'Questions' }).count()).toBe(0);
    await screenshot(p, 'lock-fullscreen-step');

    await p.getByRole('button', { name: 'Go to full screen' }).click();
    await p.getByRole('heading', { name: 'Question 1 of 5' }).waitFor();
    await p.getByRole('radio', { name: 'Na' }).check();

    // Leaving full screen (Esc) locks the exam.
    await p.evaluate('document.exitFullscreen()');
    await p.getByRole('heading', { name: 'Your exam is locked' }).waitFor();
    await p.getByText('You left full screen.').waitFor();
    await screenshot(p, 'lock-fullscreen-left');
    await eventually('the full-screen exit in the examinee’s events', async () =>
      (await eventLog(h)).some(
        (e) => e.kind === 'integrity-event' && e.studentId === 'S1' && e.data.type === 'fullscreen-exit',
      ),
    );

    // The proctor's code opens it again, back in full screen.
    const resumeCode = await resumeCodeFor(proctor, 'S1', await shownChallenge(p));
    await p.getByLabel('Resume code from the proctor').fill(resumeCode);
    await p.getByRole('button', { name: 'Unlock the exam' }).click();
    await p.getByRole('heading', { name: 'Question 1 of 5' }).waitFor();
    expect(await p.getByRole('radio', { name: 'Na' }).isChecked()).toBe(true);
    expect(await p.evaluate('document.fullscreenElement !== null')).toBe(true);
    expect(errors).toEqual([]);
  });
});
