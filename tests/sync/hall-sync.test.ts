/**
 * The sync against the stand-in central server (express-pouchdb on 127.0.0.1) with the real
 * PouchDB replicator: an exam published centrally reaches a running appliance and its dashboard
 * without a restart, a new roster version is picked up, results go up, and problems show in
 * plain words.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addTestProctors, ProctorClient, removeDir, testExam, type TestAppliance } from '../support/appliance.js';
import { rosterEntrySchema } from '../../domain/exam-format.js';
import { runSyncCli } from '../../sync/cli.js';
import { HallSync, type HallSyncOptions } from '../../sync/hall-sync.js';
import { openCentralDb } from '../../sync/central-link.js';
import { rawPublicKey } from '../../appliance/src/crypto/receipts.js';
import { createHallSync } from '../../appliance/src/hall-sync-wiring.js';
import { SYNC_NOT_CONFIGURED, type SyncStatus } from '../../sync/index.js';
import { startCentralServer, type CentralServer } from '../support/central-server.js';
import { DAY_START, openSyncTestAppliance, recordExamDay, type SyncTestAppliance } from '../support/sync-exam-day.js';

/** Waits for a condition, polling; never a fixed sleep. */
async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const quiet = { out: () => undefined, err: () => undefined, readStdin: async () => '' };

describe('sync with the central server', () => {
  let server: CentralServer;
  let appliance: SyncTestAppliance;
  let sync: HallSync | undefined;
  let tmp: string;
  let cli: (args: string[]) => Promise<{ code: number; out: string; err: string }>;

  beforeEach(async () => {
    server = await startCentralServer();
    appliance = await openSyncTestAppliance();
    tmp = appliance.dataDir;
    const env = {
      CENTRAL_URL: server.url,
      CENTRAL_USER: server.admin.username,
      CENTRAL_PASSWORD: server.admin.password,
    };
    cli = async (args) => {
      let out = '';
      let err = '';
      const code = await runSyncCli(args, env, {
        out: (t) => (out += t),
        err: (t) => (err += t),
        readStdin: quiet.readStdin,
      });
      return { code, out, err };
    };
    expect((await cli(['install-design', '--hall', 'h1'])).code).toBe(0);
  });
  afterEach(async () => {
    await sync?.stop();
    sync = undefined;
    await appliance.store.close();
    await server.close();
    await removeDir(tmp);
  });

  const startSync = (
    user = server.addUser('hall-h1', 'hall-pass', [`appliance:${appliance.store.applianceId}`]),
    backOff = { initialMs: 50, maxMs: 400 },
    more: Partial<HallSyncOptions> = {},
  ) => {
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
      backOff,
      pendingIntervalMs: 50,
      // As the appliance's wiring does (appliance/src/hall-sync-wiring.ts).
      receiptPublicKey: rawPublicKey(appliance.store.receiptSigner.publicKey),
      ...more,
    });
    void sync.start();
    return sync;
  };

  async function writeExamFiles(roster: object[]): Promise<{ exam: string; roster: string }> {
    const exam = path.join(tmp, 'exam.json');
    const rosterFile = path.join(tmp, 'roster.json');
    await writeFile(exam, JSON.stringify(testExam(DAY_START, { examId: 'chem-201' }), null, 2));
    await writeFile(rosterFile, JSON.stringify({ examinees: roster }, null, 2));
    return { exam, roster: rosterFile };
  }

  it('says "not set up" when no central server is configured', () => {
    const none = createHallSync(
      appliance.store,
      { syncUrl: '', syncUser: '', syncPassword: '' },
      { clock: appliance.store.clock },
    );
    expect(none.status()).toEqual(SYNC_NOT_CONFIGURED);
    expect(appliance.services.sync.status()).toEqual({
      configured: false,
      state: 'off',
      lastSuccessAt: null,
      lastContactAt: null,
      pending: null,
      lastError: null,
      refused: [],
      refusedCount: 0,
    });
  });

  it('brings a published exam to the running appliance’s dashboard, then a new roster version', async () => {
    await addTestProctors(appliance as unknown as TestAppliance);
    const proctor = new ProctorClient(appliance.app);
    expect((await proctor.login('chief', 'chief-password-1')).status).toBe(200);
    const exams = async () =>
      (
        (await (await proctor.request('GET', '/api/proctor/exams')).json()) as {
          exams: { examId: string; totals: { posted: number } }[];
        }
      ).exams;
    expect(await exams()).toEqual([]);
    startSync();
    await until('the first sync', () => sync?.status().state === 'idle');

    const roster = [
      { studentId: 'S1', name: 'Ada Lovelace', accessCode: 'AAAA1111BBBB' },
      { studentId: 'S2', name: 'Alan Turing', accessCode: 'CCCC2222DDDD' },
    ].map((e) => rosterEntrySchema.parse(e));
    const files = await writeExamFiles(roster);
    const published = await cli(['publish', files.exam, files.roster, '--hall', 'h1']);
    expect(published).toMatchObject({ code: 0, out: expect.stringContaining('examinees 2 new') });

    const seen = await until('the exam and its roster on the dashboard', async () =>
      (await exams()).find((e) => e.examId === 'chem-201' && e.totals.posted === 2),
    );
    expect(seen).toMatchObject({ examId: 'chem-201', title: 'Chemistry 201 — Final' });

    // A new roster version: one more examinee, one renamed.
    const v2 = [
      ...roster,
      rosterEntrySchema.parse({ studentId: 'S3', name: 'Grace Hopper', accessCode: 'EEEE3333FFFF' }),
    ];
    v2[0] = { ...v2[0]!, name: 'Ada King' };
    const files2 = await writeExamFiles(v2);
    expect((await cli(['publish', files2.exam, files2.roster, '--hall', 'h1'])).out).toContain(
      '1 new, 1 updated, 1 unchanged',
    );
    await until(
      'the new roster',
      async () => (await exams()).find((e) => e.examId === 'chem-201')?.totals.posted === 3,
    );
    expect(appliance.store.projection.examinee('chem-201', 'S1')?.doc.name).toBe('Ada King');
    // The examinee can sign in with the access code from the central roster.
    const signIn = await appliance.app.request('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client-version': '0.1.0' },
      body: JSON.stringify({ studentId: 'S3', accessCode: 'EEEE3333FFFF', deviceId: 'device-S3-0123456789' }),
    });
    expect(signIn.status).toBe(200);
  });

  it('pushes results and reports the sync: pending, progress, last success', async () => {
    const day = await recordExamDay(appliance.store, { examinees: 20, fileEvery: 10, fileBytes: 700 * 1024 });
    startSync();
    const statuses: SyncStatus[] = [];
    const done = await until('everything pushed', () => {
      const s = sync!.status();
      statuses.push(s);
      return s.state === 'idle' && s.pending?.docs === 0 ? s : undefined;
    });
    expect(done).toMatchObject({ configured: true, state: 'idle', lastError: null, pending: { docs: 0, bytes: 0 } });
    expect(Date.parse(done.lastSuccessAt ?? '')).toBeGreaterThan(0);
    expect(statuses.some((s) => s.state === 'syncing')).toBe(true);
    // While pushing: progress of this round, against what was pending.
    const during = statuses.filter((s) => s.progress !== undefined);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((s) => s.progress!.done <= s.progress!.total)).toBe(true);
    expect(statuses.some((s) => (s.pending?.docs ?? 0) > 0)).toBe(true);
    // Collect: every answer file, SHA-256 checked, and the CSV.
    const out = path.join(tmp, 'collected');
    const collected = await cli(['collect', '--hall', 'h1', '--out', out]);
    expect(collected).toMatchObject({
      code: 0,
      out: expect.stringContaining(`Collected ${day.submissions} of ${day.submissions}`),
    });
  });

  it('says in plain words when the central server refuses the hall’s credentials, and recovers', async () => {
    const user = server.addUser('hall-h1', 'old-pass', [`appliance:${appliance.store.applianceId}`]);
    startSync({ username: 'hall-h1', password: 'wrong-pass' });
    const s = await until('an error', () => (sync!.status().state === 'error' ? sync!.status() : undefined));
    expect(s.lastError).toBe("The central server refused the hall's credentials (401).");
    await sync!.stop();
    startSync(user);
    await until('a sync', () => sync!.status().state === 'idle');
    expect(sync!.status().lastError).toBeNull();
  });

  it('"Sync now" tries the central server at once instead of at the next retry, and says when it last answered', async () => {
    // The hall's user is not there yet: refused, and the next try is a minute away.
    const user = { username: 'hall-h1', password: 'hall-pass' };
    startSync(user, { initialMs: 60_000, maxMs: 60_000 });
    await until('an error', () => sync!.status().state === 'error');
    expect(sync!.status().lastContactAt).toBeNull();
    server.addUser(user.username, user.password, [`appliance:${appliance.store.applianceId}`]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sync!.status().state).toBe('error');
    const asked = Date.now();
    sync!.syncNow();
    await until('a sync', () => sync!.status().state === 'idle');
    expect(Date.now() - asked).toBeLessThan(10_000);
    const contact = sync!.status().lastContactAt;
    expect(contact).not.toBeNull();
    expect(Date.parse(contact!)).toBeGreaterThanOrEqual(appliance.store.clock.now() - 60_000);
    expect(sync!.status().lastError).toBeNull();
    // Asking again while all is well changes nothing but the contact time.
    sync!.syncNow();
    await until('idle again', () => sync!.status().state === 'idle');
  });

  it('tells the institution which role the hall’s user lacks, pushes nothing, and pushes once it is granted', async () => {
    await recordExamDay(appliance.store, { examinees: 2 });
    startSync(server.addUser('hall-h1', 'hall-pass', ['appliance:some-other-box']));
    const s = await until('an error', () => (sync!.status().state === 'error' ? sync!.status() : undefined));
    expect(s.lastError).toContain(`give it the role appliance:${appliance.store.applianceId}`);
    expect(server.receivedTotal()).toBe(0);
    // The institution grants the role while the box runs: the results go up.
    server.addUser('hall-h1', 'hall-pass', [`appliance:${appliance.store.applianceId}`]);
    await until('the push', () => sync!.status().state === 'idle' && server.receivedTotal() > 0);
    expect(sync!.status().lastError).toBeNull();
  });

  it('publishes the receipt key once and keeps a heartbeat of the box on the central server', async () => {
    await recordExamDay(appliance.store, { examinees: 2 });
    let trusted = false;
    const identity = { version: '9.8.7', startedAt: '2026-12-01T08:00:00.000Z', clockTrusted: () => trusted };
    startSync(undefined, undefined, {
      identity,
      heartbeatIntervalMs: 100,
      receiptPublicKey: rawPublicKey(appliance.store.receiptSigner.publicKey),
    });
    await until('the push', () => sync!.status().state === 'idle' && sync!.status().pending?.docs === 0);
    const central = openCentralDb(server.link(server.admin), 'h1');
    const id = appliance.store.applianceId;
    expect(await central.get(`receipt-key:${id}`)).toMatchObject({
      type: 'receipt-key',
      applianceId: id,
      hallId: 'h1',
      algorithm: 'Ed25519',
      publicKey: rawPublicKey(appliance.store.receiptSigner.publicKey),
    });
    const beat = await until('a heartbeat saying idle', async () => {
      const doc = await central.get(`appliance-status:${id}`).catch(() => undefined);
      return doc?.state === 'idle' ? doc : undefined;
    });
    expect(beat).toMatchObject({
      type: 'appliance-status',
      applianceId: id,
      hallId: 'h1',
      version: '9.8.7',
      clockTrusted: false,
      refused: 0,
      pending: { docs: 0, bytes: 0 },
      startedAt: identity.startedAt,
    });
    // It is updated in place while the link is up: the clock becomes trusted.
    trusted = true;
    const later = await until('a later heartbeat', async () => {
      const doc = await central.get(`appliance-status:${id}`);
      return doc.clockTrusted === true ? doc : undefined;
    });
    expect(Number(String(later._rev).split('-')[0])).toBeGreaterThan(1);
    // A restart of the sync writes the key again as the same revision: one revision, no conflict.
    await sync!.stop();
    startSync(undefined, undefined, { receiptPublicKey: rawPublicKey(appliance.store.receiptSigner.publicKey) });
    await until('idle again', () => sync!.status().state === 'idle');
    const key = await central.get(`receipt-key:${id}`, { conflicts: true });
    expect(key._conflicts ?? []).toEqual([]);
    expect(key._rev?.startsWith('1-')).toBe(true);
  });

  it('keeps a document the central server refused visible, offers it again, and clears it once taken', async () => {
    await recordExamDay(appliance.store, { examinees: 2 });
    // A document of this box the central rules refuse (its id names another exam than its field).
    const id = appliance.store.applianceId;
    const bad = { _id: `event:other-exam:${id}:0000000001`, type: 'event', examId: 'exam-x', applianceId: id, seq: 1 };
    await appliance.store.db.put(bad);
    startSync();
    const refused = await until('the refusal', () => {
      const s = sync!.status();
      return s.refusedCount === 1 && s.pending?.docs === 0 ? s : undefined;
    });
    expect(refused.state).toBe('error');
    expect(refused.refused).toEqual([
      { id: bad._id, reason: expect.stringContaining(bad._id), at: expect.any(String) },
    ]);
    expect(refused.lastError).toContain(`The central server refused ${bad._id}`);
    // Still there after the sync restarts (kept in _local/sync-state), and refused again.
    await sync!.stop();
    startSync();
    await until(
      'the refusal after a restart',
      () => sync!.status().refusedCount === 1 && sync!.status().state === 'error',
    );
    expect(sync!.status().refused[0]?.id).toBe(bad._id);
    // The institution relaxes its rules (here: removes the design document); "Sync now" offers it again.
    const central = openCentralDb(server.link(server.admin), 'h1');
    const design = await central.get('_design/hall');
    await central.bulkDocs([{ ...design, _deleted: true }]);
    sync!.syncNow();
    await until('taken', () => sync!.status().refusedCount === 0 && sync!.status().state === 'idle');
    expect(await central.get(bad._id)).toMatchObject({ examId: 'exam-x' });
    expect(sync!.status()).toMatchObject({ refused: [], lastError: null });
  });
});
