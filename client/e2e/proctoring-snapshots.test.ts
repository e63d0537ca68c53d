/**
 * Proctoring snapshots in real Chromium with its fake camera and screen
 * (`--use-fake-device-for-media-stream`, `--use-fake-ui-for-media-stream`), against a real
 * appliance syncing to a CouchDB-protocol stand-in: the exam takes camera and screen snapshots
 * every 5 s. Ada sees in the lobby what will be photographed, her camera starts by itself, she
 * clicks "Share my screen"; her snapshots reach the appliance, show as a strip in her integrity
 * report on the dashboard, and the sync pushes them (the images themselves, reassembled from the
 * central database). Alan's browser refuses the camera (no fake permission prompt: Chromium
 * denies it): he goes on writing, his row says "camera refused", and the dashboard asks for a
 * proctor until the chief changes his proctoring type to screen only. Exam info shows what the
 * snapshots cost in disk. axe on the examinee's page and the dialog.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runSyncCli } from '../../sync/cli.js';
import { reassembleBlob } from '../../sync/blob-chunks.js';
import { openCentralDb } from '../../sync/central-link.js';
import { hallDesignDoc } from '../../sync/central/validate-doc-update.js';
import { startCentralServer, type CentralServer } from '../../tests/support/central-server.js';
import { audit } from './axe.js';
import { launchChromium, screenshot, watchConsole, type Browser } from './browser.js';
import { CHIEF, eventually, HttpProctor, openHall, type Hall } from './hall.js';

const EXAM_TITLE = 'Chemistry 201 — Final';
const CONSENT = 'Pictures are kept with your answers for 30 days and seen only by this exam’s proctors.';
const HALL_PASSWORD = 'hall-secret-snapshots-7';
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

interface Row {
  studentId: string;
  snapshots: number;
  proctoringType: string;
  snapshotProblems: Record<string, string>;
}

let central: CentralServer;
let h: Hall;
let withMedia: Browser;
let refusing: Browser;

beforeAll(async () => {
  central = await startCentralServer();
  const env = {
    CENTRAL_URL: central.url,
    CENTRAL_USER: central.admin.username,
    CENTRAL_PASSWORD: central.admin.password,
  };
  const io = { out: () => undefined, err: () => undefined, readStdin: async () => '' };
  expect(await runSyncCli(['install-design', '--hall', 'test-hall'], env, io)).toBe(0);
  const url = new URL(central.url);
  url.username = 'hall-test-hall';
  [h, withMedia, refusing] = await Promise.all([
    openHall({
      startAheadMs: 12_000,
      settings: { proctoring: { type: 'camera-and-screen', intervalSeconds: 5, consentText: CONSENT } },
      env: { PROCTOR_SYNC_URL: url.toString(), PROCTOR_SYNC_PASSWORD: HALL_PASSWORD },
    }),
    launchChromium({ extraArgs: FAKE_MEDIA }),
    // A fake camera, but no fake permission prompt: headless Chromium refuses the camera.
    launchChromium({ extraArgs: ['--use-fake-device-for-media-stream'] }),
  ]);
  const health = (await (await fetch(`${h.appliance.baseUrl}/api/health`)).json()) as { applianceId: string };
  // The institution registers the box: the hall's user gets its appliance role.
  central.addUser('hall-test-hall', HALL_PASSWORD, [`appliance:${health.applianceId}`]);
});
afterAll(async () => {
  await withMedia?.close();
  await refusing?.close();
  await h?.close();
  await central?.close();
});

/** Signs in key by key; in the lobby, before the download, it says what will be photographed. */
async function signIn(page: Page, index: number): Promise<void> {
  const examinee = h.files.roster[index]!;
  await page.goto(`${h.appliance.baseUrl}/`);
  await page.getByLabel('Student ID').pressSequentially(examinee.studentId, { delay: 15 });
  await page.getByLabel('Access code').pressSequentially(examinee.accessCode, { delay: 15 });
  await page.getByRole('button', { name: 'Sign in' }).click();
  const download = page.getByRole('button', { name: 'Download exam' });
  await download.waitFor();
  const consent = page.getByTestId('snapshot-consent');
  await consent.getByText('This exam takes a small picture of your camera and your screen every 5 seconds').waitFor();
  await consent.getByText(CONSENT).waitFor();
  await download.click();
  await page.getByTestId('downloaded').waitFor();
}

const firstQuestion = (page: Page) =>
  page
    .getByRole('heading', { name: /^Question 1 of / })
    .waitFor({ timeout: Math.max(0, h.startMs - Date.now()) + 20_000 });

describe('proctoring snapshots (built client, fake camera and screen, appliance syncing to a central server)', () => {
  it('takes camera and screen snapshots, shows them to the proctor, pushes them; a refused camera is reported, not locked out', async () => {
    const proctor = new HttpProctor(h.appliance.baseUrl);
    await proctor.login();
    const row = async (studentId: string) =>
      (await proctor.call<{ row: Row }>('GET', `/exams/exam-1/participants/${studentId}`)).body.row;

    const ada = await withMedia.context.newPage();
    const alan = await refusing.context.newPage();
    const consoles = [watchConsole(ada), watchConsole(alan)];
    await Promise.all([signIn(ada, 0), signIn(alan, 1)]);
    await Promise.all([firstQuestion(ada), firstQuestion(alan)]);

    // Ada: the camera starts by itself; the screen from her click.
    const notice = ada.getByTestId('snapshot-notice');
    await notice.getByText('Camera: on').waitFor();
    await notice.getByText('Screen: not started').waitFor();
    await notice.getByRole('button', { name: 'Share my screen' }).click();
    await notice.getByText('Screen: on').waitFor();
    await notice.getByText(/^Last picture at /).waitFor();
    // She answers meanwhile, and the answer reaches the appliance as ever.
    await ada.getByRole('radio', { name: 'Na' }).click();
    await ada.getByText('1 of 5 answered').waitFor();

    // Alan: the camera is refused; he is told the proctors know, and writes on.
    const alanNotice = alan.getByTestId('snapshot-notice');
    await alanNotice.getByText('Camera: refused').waitFor();
    await alanNotice.getByText('The proctors have been told. You may go on writing.').waitFor();
    expect(await alan.getByTestId('camera-step').count()).toBe(0);
    await alan.getByRole('heading', { name: /^Question 1 of / }).waitFor();

    // Two of each from Ada (one a second after each start, then every 5 s).
    await eventually('four snapshots of Ada on the appliance', async () => (await row('S1')).snapshots >= 4, 30_000);
    expect(await row('S2')).toMatchObject({
      snapshotProblems: { camera: 'denied' },
      proctoringType: 'camera-and-screen',
    });

    const violations = await audit(ada, 'exam with proctoring snapshots');
    await screenshot(ada, 'snapshots-examinee');
    await screenshot(alan, 'snapshots-examinee-camera-refused');

    // The dashboard: Alan's row says so and asks for a proctor.
    const p = await withMedia.context.newPage();
    consoles.push(watchConsole(p));
    await p.goto(`${h.origin}/proctor/`);
    await p.getByLabel('Username').pressSequentially(CHIEF.username, { delay: 10 });
    await p.getByLabel('Password').pressSequentially(CHIEF.password, { delay: 10 });
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: `Open monitor of ${EXAM_TITLE}` }).click();
    await p
      .locator('tr[data-student="S2"] [data-testid="snapshot-problem"]')
      .filter({ hasText: 'camera refused' })
      .waitFor();
    // Waiting since before the dashboard opened: counted on the tab and listed, oldest first.
    await p.getByRole('tab', { name: 'Participants (1 waiting)' }).waitFor();
    await p.getByTestId('chip-attention').filter({ hasText: 'Needs attention (1)' }).waitFor();

    // Ada's integrity report: her snapshots as pictures, in time order.
    await p.getByRole('button', { name: `Actions for ${h.files.roster[0]!.name}`, exact: true }).click();
    const dialog = p.getByTestId('row-actions');
    await dialog
      .getByTestId('proctoring-now')
      .filter({ hasText: /Camera and screen snapshots; \d+ snapshots so far/ })
      .waitFor();
    await dialog.getByRole('button', { name: 'Show the integrity report' }).click();
    const strip = dialog.getByTestId('snapshot-strip').first();
    await strip.waitFor();
    const images = strip.locator('img');
    await expect.poll(() => images.count()).toBeGreaterThanOrEqual(2);
    await images.first().scrollIntoViewIfNeeded();
    await expect
      .poll(() => images.first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    expect(await strip.getByRole('img', { name: /^Camera snapshot at / }).count()).toBeGreaterThanOrEqual(1);
    expect(await strip.getByRole('img', { name: /^Screen snapshot at / }).count()).toBeGreaterThanOrEqual(1);
    violations.push(...(await audit(p, 'integrity report with snapshots')));
    await screenshot(p, 'snapshots-integrity-report');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The chief takes Alan to screen only: he is no longer waited for.
    await p.getByRole('button', { name: `Actions for ${h.files.roster[1]!.name}`, exact: true }).click();
    const alanDialog = p.getByTestId('row-actions');
    await alanDialog.getByTestId('proctoring-problems').filter({ hasText: 'camera refused' }).waitFor();
    await alanDialog.getByLabel('Proctoring type').selectOption('screen');
    await alanDialog.getByRole('button', { name: 'Change proctoring' }).click();
    await alanDialog.getByTestId('proctoring-now').filter({ hasText: 'Screen snapshots' }).waitFor();
    await alanDialog.getByRole('button', { name: 'Close' }).click();
    await p.getByTestId('chip-attention').filter({ hasText: 'Needs attention (0)' }).waitFor();
    // His device hears of it: no camera any more, the screen waits for his click.
    await alanNotice.getByText('Screen: not started').waitFor();
    expect(await alanNotice.getByText(/^Camera:/).count()).toBe(0);

    // Exam info: what the snapshots cost in disk.
    await p.getByRole('tab', { name: 'Exam info' }).click();
    await p
      .getByTestId('snapshot-cost')
      .filter({ hasText: /about [\d.]+ (kB|MB|GB)\. Taken so far: \d+/ })
      .waitFor();
    violations.push(...(await audit(p, 'exam info with proctoring')));
    expect(violations).toEqual([]);

    // The sync pushes the snapshots with the results: the events and the images themselves.
    const db = openCentralDb(central.link(central.admin), 'test-hall');
    const taken = await eventually(
      'Ada’s snapshot events on the central server',
      async () => {
        const rows = (
          await db.allDocs({ startkey: 'event:exam-1:', endkey: 'event:exam-1:\ufff0', include_docs: true })
        ).rows;
        return rows.filter((r) => (r.doc as { kind?: string } | undefined)?.kind === 'snapshot-taken').length >= 4;
      },
      60_000,
    ).then(async () =>
      (await db.allDocs({ startkey: 'event:exam-1:', endkey: 'event:exam-1:\ufff0', include_docs: true })).rows
        .map((r) => r.doc as unknown as { kind: string; studentId: string; data: { sha256: string; source: string } })
        .filter((d) => d.kind === 'snapshot-taken' && d.studentId === 'S1'),
    );
    expect(new Set(taken.map((d) => d.data.source))).toEqual(new Set(['camera', 'screen']));
    for (const { data } of taken.slice(0, 4)) {
      let image = Buffer.alloc(0);
      await eventually(
        `snapshot ${data.sha256.slice(0, 12)} reassembled from the central server`,
        async () => {
          const parts: Buffer[] = [];
          const result = await reassembleBlob(db, data.sha256, (bytes) => void parts.push(bytes));
          image = Buffer.concat(parts);
          return result.ok;
        },
        60_000,
      );
      expect(createHash('sha256').update(image).digest('hex')).toBe(data.sha256);
      expect([...image.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    }

    // The Sync status tab: the last contact beside the last sync, and Sync now, clicked.
    await p.getByRole('tab', { name: 'Sync status' }).click();
    const contact = p.getByTestId('sync-last-contact');
    await contact.filter({ hasNotText: 'Never' }).waitFor();
    const syncNow = p.getByRole('button', { name: 'Sync now' });
    await syncNow.click();
    await p.getByRole('button', { name: 'Sync now', disabled: false }).waitFor({ timeout: 15_000 });
    await p.locator('dl.facts .sync-badge[data-state="idle"]').waitFor({ timeout: 30_000 });
    await screenshot(p, 'sync-status-configured');
    expect(await audit(p, 'sync status, configured')).toEqual([]);

    // The institution's rules refuse what the box writes next (here: a design document that
    // takes no more events): the refused record shows in red on the tab, and stays until taken.
    const design = await db.get('_design/hall');
    await db.bulkDocs([
      {
        ...design,
        validate_doc_update: `function (newDoc, oldDoc, userCtx) {
          if (userCtx.roles.indexOf('_admin') !== -1) return;
          if (String(newDoc._id).indexOf('event:') === 0) throw { forbidden: 'The hall is closed for new events.' };
        }`,
      },
    ]);
    const sent = await proctor.call('POST', '/exams/exam-1/messages', { text: 'Ten minutes left.', audience: 'all' });
    expect(sent.status).toBe(201);
    const refused = p.getByTestId('sync-refused');
    await refused.waitFor({ timeout: 30_000 });
    await expect.poll(() => refused.textContent()).toContain('The hall is closed for new events.');
    expect(await p.locator('dl.facts .sync-badge').getAttribute('data-state')).toBe('error');
    await screenshot(p, 'sync-status-refused');
    expect(await audit(p, 'sync status, a record refused')).toEqual([]);
    // The institution puts its rules back; Sync now offers the record again and it is taken.
    await db.bulkDocs([{ ...hallDesignDoc('test-hall'), _rev: (await db.get('_design/hall'))._rev }]);
    await p.getByRole('button', { name: 'Sync now' }).click();
    await refused.waitFor({ state: 'detached', timeout: 30_000 });
    await p.locator('dl.facts .sync-badge[data-state="idle"]').waitFor({ timeout: 30_000 });
    expect(consoles.flat()).toEqual([]);
  });
});
