/**
 * Max downloads changed centrally in the portal reaches a running appliance: the portal writes a
 * new revision of the examinee document, the box's live pull hands it to HallStore.applyPulled
 * (setExaminee), and the download limit the box applies is the new one.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { effectiveMaxDownloads } from '../../appliance/src/store/projection.js';
import { rosterEntrySchema } from '../../domain/exam-format.js';
import { buildPortalApp } from '../../portal/server/app.js';
import { Couch } from '../../portal/server/couch.js';
import { runSyncCli } from '../../sync/cli.js';
import { HallSync } from '../../sync/hall-sync.js';
import { removeDir, testExam } from '../support/appliance.js';
import { startCentralServer, type CentralServer } from '../support/central-server.js';
import { portalConfig } from '../support/portal-halls.js';
import { DAY_START, openSyncTestAppliance, type SyncTestAppliance } from '../support/sync-exam-day.js';

const ORIGIN = 'http://portal.test';
const quiet = { out: () => undefined, err: () => undefined, readStdin: async () => '' };

let server: CentralServer;
let appliance: SyncTestAppliance;
let sync: HallSync | undefined;

beforeEach(async () => {
  server = await startCentralServer();
  appliance = await openSyncTestAppliance();
});
afterEach(async () => {
  await sync?.stop();
  await appliance.store.close();
  await server.close();
  await removeDir(appliance.dataDir);
});

async function until<T>(what: string, check: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('a central change of max downloads reaches the running box through its pull', async () => {
  const env = { CENTRAL_URL: server.url, CENTRAL_USER: server.admin.username, CENTRAL_PASSWORD: server.admin.password };
  expect(await runSyncCli(['install-design', '--hall', 'h1'], env, quiet)).toBe(0);
  const exam = path.join(appliance.dataDir, 'exam.json');
  const roster = path.join(appliance.dataDir, 'roster.json');
  await writeFile(exam, JSON.stringify(testExam(DAY_START, { examId: 'chem-201' }), null, 2));
  const entries = [{ studentId: 'S1', name: 'Ada Lovelace', accessCode: 'AAAA1111BBBB', maxDownloads: 1 }];
  await writeFile(roster, JSON.stringify({ examinees: entries.map((e) => rosterEntrySchema.parse(e)) }));
  expect(await runSyncCli(['publish', exam, roster, '--hall', 'h1'], env, quiet)).toBe(0);

  const user = server.addUser('hall-h1', 'hall-pass', [`appliance:${appliance.store.applianceId}`]);
  sync = new HallSync({
    db: appliance.store.db,
    blobPath: (sha) => appliance.store.blobs.pathOf(sha),
    applianceId: appliance.store.applianceId,
    hallId: 'h1',
    link: server.link(user),
    clock: appliance.store.clock,
    onPulled: (docs) => {
      for (const examId of appliance.store.applyPulled(docs)) void appliance.store.loadRoster(examId);
    },
    backOff: { initialMs: 50, maxMs: 400 },
    pendingIntervalMs: 50,
  });
  void sync.start();
  await until(
    'the roster on the box',
    () => appliance.store.projection.examinee('chem-201', 'S1')?.doc.maxDownloads === 1,
  );

  const { app } = buildPortalApp({
    config: portalConfig(server.url),
    couch: new Couch(server.url),
    log: () => undefined,
  });
  const signIn = await app.request(`${ORIGIN}/api/session`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    body: JSON.stringify({ name: server.admin.username, password: server.admin.password }),
  });
  const cookie = /portal_session=[^;]+/.exec(signIn.headers.get('set-cookie') ?? '')![0];
  const res = await app.request(`${ORIGIN}/api/halls/h1/exams/chem-201/max-downloads`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', cookie },
    body: JSON.stringify({ maxDownloads: 4, studentIds: ['S1'] }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ updated: 1, unchanged: 0 });
  const entry = await until('the new max downloads on the box', () => {
    const e = appliance.store.projection.examinee('chem-201', 'S1');
    return e?.doc.maxDownloads === 4 && e;
  });
  // What the download rule applies (no proctor has set one on the box).
  expect(effectiveMaxDownloads(entry)).toBe(4);
});
