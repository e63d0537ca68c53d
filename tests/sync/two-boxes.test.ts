/**
 * Two appliances of one hall, syncing with the stand-in central server through the real PouchDB
 * replicator, both accept an answer file from the same examinee (the examinee's laptop moved
 * from one box's Wi-Fi to the other's before either had heard of the other's acceptance). Both
 * receipts must stand: both versions reach the central database under ids of their own, every
 * box orders them the same way (the latest accepted counts), and nothing is refused.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { activeSubmission } from '../../domain/examinee-state.js';
import { rosterEntrySchema } from '../../domain/exam-format.js';
import { rawPublicKey, type ReceiptV2 } from '../../appliance/src/crypto/receipts.js';
import { openCentralDb } from '../../sync/central-link.js';
import { runSyncCli } from '../../sync/cli.js';
import { HallSync } from '../../sync/hall-sync.js';
import { ExamineeClient, removeDir, testExam } from '../support/appliance.js';
import { startCentralServer, type CentralServer } from '../support/central-server.js';
import { DAY_START, openSyncTestAppliance, type SyncTestAppliance } from '../support/sync-exam-day.js';

const MIN = 60_000;
const EXAM = 'exam-1';

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Box {
  appliance: SyncTestAppliance;
  clock: FakeClock;
  sync: HallSync;
}

describe('two appliances of one hall accept the same examinee', () => {
  let server: CentralServer;
  const boxes: Box[] = [];
  let tmp: string;
  const cli = async (args: string[]) => {
    let out = '';
    let err = '';
    const code = await runSyncCli(
      args,
      { CENTRAL_URL: server.url, CENTRAL_USER: server.admin.username, CENTRAL_PASSWORD: server.admin.password },
      { out: (t) => (out += t), err: (t) => (err += t), readStdin: async () => '' },
    );
    return { code, out, err };
  };

  beforeAll(async () => {
    server = await startCentralServer();
    expect(
      (await cli(['install-design', '--hall', 'h1', '--member', 'box-user-0', '--member', 'box-user-1'])).code,
    ).toBe(0);
    for (let i = 0; i < 2; i++) {
      const clock = new FakeClock(DAY_START - 50 * MIN);
      const appliance = await openSyncTestAppliance({ clock });
      // One CouchDB user per box, each with its own appliance's role only.
      const user = server.addUser(`box-user-${i}`, `box-pass-${i}`, [`appliance:${appliance.store.applianceId}`]);
      const sync = new HallSync({
        db: appliance.store.db,
        blobPath: (sha) => appliance.store.blobs.pathOf(sha),
        applianceId: appliance.store.applianceId,
        hallId: 'h1',
        link: server.link(user),
        clock,
        onPulled: (docs) => {
          for (const examId of appliance.store.applyPulled(docs)) void appliance.store.loadRoster(examId);
        },
        backOff: { initialMs: 50, maxMs: 400 },
        pendingIntervalMs: 50,
        receiptPublicKey: rawPublicKey(appliance.store.receiptSigner.publicKey),
      });
      boxes.push({ appliance, clock, sync });
    }
    tmp = boxes[0]!.appliance.dataDir;
    const examFile = path.join(tmp, 'exam.json');
    const rosterFile = path.join(tmp, 'roster.json');
    await writeFile(examFile, JSON.stringify(testExam(DAY_START), null, 2));
    const roster = [{ studentId: 'S1', name: 'Ada Lovelace', accessCode: 'AAAA1111BBBB' }].map((e) =>
      rosterEntrySchema.parse(e),
    );
    await writeFile(rosterFile, JSON.stringify({ examinees: roster }, null, 2));
    expect((await cli(['publish', examFile, rosterFile, '--hall', 'h1'])).code).toBe(0);
    for (const b of boxes) void b.sync.start();
    await until('both boxes have the exam', () =>
      boxes.every((b) => b.appliance.store.projection.examinee(EXAM, 'S1') !== undefined),
    );
  });
  afterAll(async () => {
    for (const b of boxes) {
      await b.sync.stop();
      await b.appliance.store.close();
      await removeDir(b.appliance.dataDir);
    }
    await server?.close();
  });

  it('keeps both versions, centrally and on each box, and every box agrees which counts', async () => {
    // The links are cut (the boxes cannot hear of each other) while the examinee's laptop, bound
    // to box 0, moves to box 1's Wi-Fi; box 1 has never seen that device's sign-in.
    for (const b of boxes) await b.sync.stop();
    const receipts: ReceiptV2[] = [];
    for (const [i, b] of boxes.entries()) {
      const ada = new ExamineeClient(b.appliance.app, 'S1', 'AAAA1111BBBB', `laptop-of-ada-${i}-0123456789`);
      b.clock.set(DAY_START - 20 * MIN);
      expect((await ada.signIn()).status).toBe(200);
      expect((await ada.get('/api/exam/package')).status).toBe(200);
      b.clock.set(DAY_START + 1_000);
      expect((await ada.get('/api/exam/key')).status).toBe(200);
      // Box 1 accepts two seconds after box 0.
      b.clock.set(DAY_START + 40 * MIN + i * 2_000);
      const res = await ada.submit(ada.answerFile({ q1: i === 0 ? 'a' : 'b', q4: `version ${i}` }));
      expect(res.status).toBe(201);
      receipts.push(((await res.json()) as { receipt: ReceiptV2 }).receipt);
    }
    const [first, second] = receipts;
    // Both boxes numbered it 1, and yet the ids differ: the appliance is in the id.
    expect(first!.payload.n).toBe(1);
    expect(second!.payload.n).toBe(1);
    expect(first!.payload.submissionId).not.toBe(second!.payload.submissionId);
    expect(first!.payload.sha256).not.toBe(second!.payload.sha256);

    // The links come back (new syncs over the same databases, from their checkpoints).
    for (const [i, b] of boxes.entries()) {
      const user = { username: `box-user-${i}`, password: `box-pass-${i}` };
      b.sync = new HallSync({
        db: b.appliance.store.db,
        blobPath: (sha) => b.appliance.store.blobs.pathOf(sha),
        applianceId: b.appliance.store.applianceId,
        hallId: 'h1',
        link: server.link(user),
        clock: b.clock,
        onPulled: (docs) => void b.appliance.store.applyPulled(docs),
        backOff: { initialMs: 50, maxMs: 400 },
        pendingIntervalMs: 50,
        receiptPublicKey: rawPublicKey(b.appliance.store.receiptSigner.publicKey),
      });
      void b.sync.start();
    }
    const central = openCentralDb(server.link(server.admin), 'h1');
    const ids = receipts.map((r) => r.payload.submissionId);
    await until('both versions central', async () => {
      const found = await central.allDocs({ keys: ids });
      return found.rows.every((r) => 'value' in r && r.value && !r.value.deleted);
    });
    // Nothing was refused, and both boxes say so.
    await until('both boxes up to date', () =>
      boxes.every((b) => b.sync.status().state === 'idle' && b.sync.status().pending?.docs === 0),
    );
    for (const b of boxes) expect(b.sync.status()).toMatchObject({ refusedCount: 0, lastError: null });
    // Each box hears of the other's acceptance and orders the two the same way: the latest counts.
    await until('each box knows both', () =>
      boxes.every((b) => b.appliance.store.projection.examinee(EXAM, 'S1')!.state.submissions.length === 2),
    );
    // The pull leaves the other box's blob chunks (answer files) on the central server.
    for (const b of boxes) {
      const chunks = await b.appliance.store.db.allDocs({
        startkey: 'blob:',
        endkey: 'blob:\ufff0',
        include_docs: true,
      });
      expect(chunks.rows.length).toBeGreaterThan(0);
      expect(chunks.rows.every((r) => r.doc?.applianceId === b.appliance.store.applianceId)).toBe(true);
    }
    for (const b of boxes) {
      const state = b.appliance.store.projection.examinee(EXAM, 'S1')!.state;
      expect(state.submissions.map((s) => s.submissionId)).toEqual(ids);
      expect(activeSubmission(state)?.submissionId).toBe(second!.payload.submissionId);
    }

    // The institution collects both versions and is told which counts and why; verify finds the
    // hall's records sound (both boxes' receipts against their published keys).
    const out = path.join(tmp, 'collected');
    const collected = await cli(['collect', '--hall', 'h1', '--out', out]);
    expect(collected, collected.err).toMatchObject({ code: 0 });
    const rows = parse(await readFile(path.join(out, 'submissions.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    const byId = new Map(rows.map((r) => [r.submissionId, r]));
    expect(byId.get(ids[1]!)).toMatchObject({ counts: 'true', reason: expect.stringMatching(/^latest accepted/) });
    expect(byId.get(ids[0]!)).toMatchObject({ counts: 'false', reason: expect.stringMatching(/^superseded by/) });
    expect(JSON.parse(await readFile(path.join(out, 'verify.json'), 'utf8'))).toMatchObject({ ok: true });
  });
});
