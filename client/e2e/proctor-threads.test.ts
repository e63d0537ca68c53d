/**
 * The Messages tab's conversations in Chromium (built client, appliance as a child process): an
 * examinee (over HTTP) asks about question 2; the chief sees their conversation labelled "About
 * question 2", types a reply with real key presses, and the examinee receives it; a staff message
 * from the chief reaches an invigilator's dashboard (a second browser context) and never the
 * examinee; the integrity report shows a paste's detail in words. axe on the Messages tab.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { applianceEnv, HttpExaminee, runApplianceCli } from '../../tests/support/appliance-process.js';
import { audit } from './axe.js';
import { launchChromiumForDevices, screenshot, watchConsole } from './browser.js';
import { CHIEF, eventually, openHall } from './hall.js';

const MIN = 60_000;
const EXAM_TITLE = 'Chemistry 201 — Final';
const INVIGILATOR = { username: 'invi', password: 'invigilator-test-password' };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openMonitor(p: Page, baseUrl: string, who: { username: string; password: string }): Promise<void> {
  await p.goto(`${baseUrl}/proctor/`);
  await p.getByLabel('Username').fill(who.username);
  await p.getByLabel('Password').fill(who.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
  await p.getByRole('heading', { name: EXAM_TITLE, level: 2 }).waitFor();
  await p.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
}

interface ExamineeMessage {
  text: string;
  audience: string;
}

describe('conversations and staff messages in the proctor’s Messages tab (Chromium)', () => {
  it(
    'threads an examinee’s question, replies in it, keeps staff messages from examinees, shows integrity detail',
    { timeout: 60_000 },
    async () => {
      const h = await openHall({ startAheadMs: 10 * MIN });
      cleanups.push(() => h.close());
      const added = await runApplianceCli(
        ['proctor', 'add', INVIGILATOR.username, '--role', 'invigilator', '--password-stdin'],
        applianceEnv(path.join(h.tmp, 'data')),
        `${INVIGILATOR.password}\n`,
      );
      expect(added.code, added.stderr).toBe(0);
      const base = h.appliance.baseUrl;
      const ada = new HttpExaminee(base, h.files.roster[0]!.studentId, h.files.roster[0]!.accessCode);
      expect((await ada.signIn()).status).toBe(200);
      const post = (p: string, body: unknown) =>
        fetch(`${base}${p}`, {
          method: 'POST',
          headers: ada.headers({ 'content-type': 'application/json' }),
          body: JSON.stringify(body),
        });

      const devices = await launchChromiumForDevices();
      cleanups.push(() => devices.close());
      const chief = await (await devices.newContext()).newPage();
      const invi = await (await devices.newContext()).newPage();
      const errors = [...[chief, invi].map((p) => watchConsole(p))];
      await openMonitor(chief, base, CHIEF);
      await openMonitor(invi, base, INVIGILATOR);

      // The examinee asks about question 2; the chief sees a conversation, unanswered, labelled.
      const asked = await post('/api/exam/messages', { text: 'Is it at sea level exactly?', questionId: 'q2' });
      expect(asked.status, await asked.clone().text()).toBe(201);
      await chief.getByRole('tab', { name: 'Messages' }).click();
      const threads = chief.getByRole('list', { name: 'Conversations, newest activity first' });
      await threads.getByRole('button', { name: /Examinee 1.*Unanswered/ }).click();
      const thread = chief.getByTestId('thread');
      await thread.getByText('Is it at sea level exactly?').waitFor();
      await thread.getByText('About question 2').waitFor();
      await thread.getByText('Question from Examinee 1', { exact: false }).waitFor();

      // The reply, typed key by key, lands in the thread and reaches the examinee.
      const field = chief.getByLabel('Reply to Examinee 1');
      await field.pressSequentially('Yes, at sea level.');
      await chief.getByRole('button', { name: 'Send reply' }).click();
      await thread.getByText('Yes, at sea level.').waitFor();
      await thread.getByText('Answer from chief', { exact: false }).waitFor();
      await threads.getByRole('button', { name: /Examinee 1.*Answered/ }).waitFor();
      await eventually('the examinee has the reply', async () => {
        const res = await ada.get('/api/exam/messages');
        const { messages } = (await res.json()) as { messages: ExamineeMessage[] };
        return messages.some((m) => m.text === 'Yes, at sea level.' && m.audience === 'examinee');
      });

      // A staff message from the chief: the invigilator sees it, the examinee never does.
      await chief.getByLabel('Invigilators and the chief only', { exact: false }).check();
      await chief.getByLabel('Message', { exact: true }).pressSequentially('Seat B2 needs a look.');
      await chief.getByRole('button', { name: 'Send', exact: true }).click();
      await chief.getByTestId('staff-list').getByText('Seat B2 needs a look.').waitFor();
      await invi.getByRole('tab', { name: 'Messages' }).click();
      await invi.getByTestId('staff-list').getByText('Seat B2 needs a look.').waitFor();
      // The announcement sent after it reaches the examinee's stream; the staff message never did.
      const stream = await ada.get('/api/exam/events');
      const reader = stream.body!.getReader();
      let heard = '';
      await chief.getByLabel('Everyone (announcement)').check();
      await chief.getByLabel('Message', { exact: true }).fill('Ten minutes left.');
      await chief.getByRole('button', { name: 'Send', exact: true }).click();
      while (!heard.includes('Ten minutes left.')) heard += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      expect(heard).not.toContain('Seat B2');
      expect(JSON.stringify(await (await ada.get('/api/exam/messages')).json())).not.toContain('Seat B2');

      expect(await audit(chief, 'messages tab, conversations')).toEqual([]);
      await screenshot(chief, 'proctor-threads');

      // The integrity report shows the paste's detail in words.
      const reported = await post('/api/exam/integrity', { type: 'paste', detail: '312 characters pasted' });
      expect(reported.status, await reported.clone().text()).toBe(201);
      await chief.getByRole('tab', { name: 'Participants' }).click();
      await chief.getByRole('button', { name: 'Actions for Examinee 1' }).click();
      const dialog = chief.getByRole('dialog', { name: 'Examinee 1 (S1)' });
      await dialog.getByRole('button', { name: 'Show the integrity report' }).click();
      await dialog.getByText('312 characters pasted', { exact: false }).waitFor();
      await screenshot(chief, 'proctor-threads-integrity');
      expect(errors.flat()).toEqual([]);
    },
  );
});
