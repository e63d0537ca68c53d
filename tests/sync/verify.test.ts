/**
 * `npm run sync -- verify` against the stand-in central server holding a hall that a real
 * appliance pushed (tests/support/sync-exam-day.ts): the clean hall passes; a wrong chunk
 * written first is kept next to the right one the box pushes, and the blob verifies; then each
 * document an admin forges (forged hashes, a gap, a fork, a submission for a student on no
 * roster, receipts signed by another key or by a box that published none, a payload edited, a
 * chunk replaced, a conflict, a heartbeat reporting refused documents) is flagged, each exactly
 * once; bad input to the command gets a clear message and exit 2.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../support/appliance.js';
import { startCentralServer, type CentralServer, type CentralUser } from '../support/central-server.js';
import { until } from '../support/push-day.js';
import { DAY_START, openSyncTestAppliance, recordExamDay, type SyncTestAppliance } from '../support/sync-exam-day.js';
import { eventHash, type ExamEvent } from '../../domain/events.js';
import { ReceiptSigner, rawPublicKey, type ReceiptPayload } from '../../appliance/src/crypto/receipts.js';
import { blobChunkId, CHUNK_BYTES, chunkRev } from '../../sync/blob-chunks.js';
import { openCentralDb } from '../../sync/central-link.js';
import { installDesign } from '../../sync/central/institution.js';
import { resolveBlob, verifyHall, type VerifyReport } from '../../sync/central/verify.js';
import { HallSync } from '../../sync/hall-sync.js';
import { runSyncCli } from '../../sync/cli.js';

type Doc = PouchDB.Doc & Record<string, unknown>;

describe('verify a hall database', () => {
  let server: CentralServer;
  let appliance: SyncTestAppliance;
  let sync: HallSync;
  let admin: PouchDB.Database;
  let boxUser: CentralUser;
  let box: string;
  let env: Record<string, string>;
  const examId = 'day-exam';

  async function cli(args: string[], runEnv = env) {
    let out = '';
    let err = '';
    const code = await runSyncCli(args, runEnv, {
      out: (t) => (out += t),
      err: (t) => (err += t),
      readStdin: async () => '',
    });
    return { code, out, err };
  }

  /** The box's own documents are all on the server and the sync has nothing left to do. */
  async function pushed(): Promise<void> {
    await until('the box to push everything', async () => {
      if (sync.status().state !== 'idle') return false;
      const local = await appliance.store.db.allDocs({ include_docs: true });
      const own = local.rows.filter((r) => /^(event|submission|blob):/.test(r.id) && r.doc?.applianceId === box);
      const central = await admin.allDocs({ keys: own.map((r) => r.id) });
      return central.rows.every((r) => r.value && !r.value.deleted);
    });
  }

  const eventId = (seq: number) => `event:${examId}:${box}:${String(seq).padStart(10, '0')}`;
  const codes = (report: VerifyReport) => report.problems.map((p) => `${p.code} ${p.id}`).sort();

  /** A submission as the box writes it, receipt signed by `signer`. */
  function forgedSubmission(studentId: string, applianceId: string, n: number, signer: ReceiptSigner): Doc {
    const submissionId = `submission:${examId}:${studentId}:${applianceId}:${n}`;
    const sha256 = 'd'.repeat(64);
    const receivedAt = DAY_START + 90 * 60_000;
    const payload: ReceiptPayload = {
      format: 'receipt/v2',
      applianceId,
      hallId: 'h1',
      examId,
      studentId,
      submissionId,
      n,
      sha256,
      size: 10,
      submissionType: 'manual',
      receivedAt: new Date(receivedAt).toISOString(),
      timing: 'on-time',
    };
    return {
      _id: submissionId,
      type: 'submission',
      schemaVersion: 1,
      examId,
      studentId,
      n,
      applianceId,
      sha256,
      size: 10,
      submissionType: 'manual',
      receivedAt,
      late: false,
      timing: 'on-time',
      receipt: signer.sign(payload),
      score: { score: 0, maxScore: 14, answered: 0, total: 5 },
    };
  }
  const freshSigner = () =>
    new ReceiptSigner(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

  beforeAll(async () => {
    server = await startCentralServer();
    admin = openCentralDb(server.link(server.admin), 'h1', { create: true });
    await installDesign(admin, 'h1');
    env = { CENTRAL_URL: server.url, CENTRAL_USER: server.admin.username, CENTRAL_PASSWORD: server.admin.password };
    appliance = await openSyncTestAppliance();
    box = appliance.store.applianceId;
    boxUser = server.addUser(`box-${box}`, 'box-pass', [`appliance:${box}`]);
    await recordExamDay(appliance.store, { examinees: 6, fileEvery: 3, fileBytes: 600 * 1024, concurrency: 1 });
    // The institution published this exam and roster; the box published its receipt key (C2).
    const local = await appliance.store.db.allDocs({ include_docs: true });
    const published = local.rows.flatMap((r) => {
      if (!r.doc || !/^(exam|examinee):/.test(r.id)) return [];
      const { _rev: _ignored, ...doc } = r.doc;
      return [doc as PouchDB.Doc];
    });
    await admin.bulkDocs(published);
    const asBox = openCentralDb(server.link(boxUser), 'h1');
    await asBox.put({
      _id: `receipt-key:${box}`,
      type: 'receipt-key',
      applianceId: box,
      hallId: 'h1',
      algorithm: 'Ed25519',
      publicKey: rawPublicKey(appliance.store.receiptSigner.publicKey),
      createdAt: new Date(DAY_START).toISOString(),
    });
    await asBox.put({
      _id: `appliance-status:${box}`,
      type: 'appliance-status',
      applianceId: box,
      hallId: 'h1',
      version: '0.1.0',
      at: new Date(DAY_START + 3_600_000).toISOString(),
      clockTrusted: true,
      state: 'idle',
      lastContactAt: new Date(DAY_START + 3_600_000).toISOString(),
      lastSuccessAt: new Date(DAY_START + 3_600_000).toISOString(),
      pending: { docs: 0, bytes: 0 },
      refused: 0,
      startedAt: new Date(DAY_START - 3_600_000).toISOString(),
    });
    sync = new HallSync({
      db: appliance.store.db,
      blobPath: (sha) => appliance.store.blobs.pathOf(sha),
      applianceId: box,
      hallId: 'h1',
      link: server.link(boxUser),
      clock: appliance.store.clock,
      onPulled: (docs) => void appliance.store.applyPulled(docs),
      backOff: { initialMs: 50, maxMs: 400 },
      pendingIntervalMs: 200,
    });
    void sync.start();
    await pushed();
  }, 60_000);
  afterAll(async () => {
    await sync?.stop();
    await appliance?.store.close();
    await server?.close();
    if (appliance) await removeDir(appliance.dataDir);
  });

  it('passes the hall the box pushed: every chain, receipt and blob verifies', async () => {
    const report = await verifyHall(admin, 'h1');
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      counts: {
        chains: 1,
        submissions: 6,
        receiptsVerified: 6,
        receiptKeys: 1,
        rosterEntries: 6,
        blobs: 8,
        blobsVerified: 8,
        chunks: 10,
        heartbeats: 1,
      },
    });
    expect(report.counts.events).toBeGreaterThanOrEqual(50);
    const r = await cli(['verify', '--hall', 'h1']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^Verified hall-h1 on 127\.0\.0\.1:\d+: \d+ events in 1 chain, 6 submissions/);
    expect(r.out).toContain('All checks passed.');
  });

  it('keeps a wrong chunk written first next to the right one the box pushes, and takes the right one', async () => {
    // Another box of the hall writes a wrong second chunk for a file before this box sends it.
    const bytes = randomBytes(CHUNK_BYTES + 70_000);
    const received = await appliance.store.blobs.receive(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(bytes));
          c.close();
        },
      }),
      bytes.length + 1,
    );
    if (!received.ok) throw new Error(received.code);
    await appliance.store.blobs.commit(received.blob);
    const { sha256 } = received.blob;
    const other = server.addUser('box-other', 'other-pass', ['appliance:box-other']);
    const wrong = randomBytes(70_000);
    const wrongRev = chunkRev(wrong);
    const rows = await openCentralDb(server.link(other), 'h1').bulkDocs(
      [
        {
          _id: blobChunkId(sha256, 1),
          _rev: wrongRev,
          type: 'blob-chunk',
          schemaVersion: 1,
          sha256,
          index: 1,
          count: 2,
          size: bytes.length,
          applianceId: 'box-other',
          _attachments: { chunk: { content_type: 'application/octet-stream', data: wrong.toString('base64') } },
        },
      ],
      { new_edits: false },
    );
    expect(rows).toEqual([]);
    // Now the file is uploaded on this box, and its chunks go up.
    await appliance.store.record(examId, [
      {
        kind: 'file-uploaded',
        actor: { role: 'examinee', studentId: 'S00002' },
        studentId: 'S00002',
        data: { questionId: 'q5', sha256, size: bytes.length, name: 'late.pdf' },
      },
    ]).durable;
    await appliance.store.flushIndex();
    await pushed();
    const doc = await admin.get(blobChunkId(sha256, 1), { conflicts: true });
    const revs = [doc._rev, ...((doc._conflicts as string[] | undefined) ?? [])].sort();
    expect(revs).toEqual([wrongRev, chunkRev(bytes.subarray(CHUNK_BYTES))].sort());
    const resolved = await resolveBlob(admin, sha256);
    expect(resolved).toMatchObject({
      ok: true,
      size: bytes.length,
      revs: [chunkRev(bytes.subarray(0, CHUNK_BYTES)), chunkRev(bytes.subarray(CHUNK_BYTES))],
      badRevisions: [{ id: blobChunkId(sha256, 1), rev: wrongRev }],
    });
    const report = await verifyHall(admin, 'h1');
    expect(report.problems).toEqual([
      {
        code: 'chunk-bad-revision',
        id: blobChunkId(sha256, 1),
        rev: wrongRev,
        message: expect.stringContaining('its bytes do not make the blob verify'),
      },
    ]);
    expect(report.counts).toMatchObject({ blobs: 9, blobsVerified: 9 });
    // The wrong revision is reported until the institution removes it; then the hall is clean again.
    await admin.bulkDocs([{ _id: blobChunkId(sha256, 1), _rev: wrongRev, _deleted: true }]);
    expect((await verifyHall(admin, 'h1')).problems).toEqual([]);
  });

  it('flags each document an admin forges, and nothing else', async () => {
    await sync.stop();
    const get = async (id: string) => (await admin.get(id)) as Doc;
    const update = async (doc: Doc) => void (await admin.put(doc));
    const expected: string[] = [];

    // An event changed after it was written (hash left as it was).
    const e5 = await get(eventId(5));
    await update({ ...e5, at: (e5.at as number) + 1 });
    expected.push(`event-hash ${eventId(5)}`);
    // An event changed with its hash made again: the next event's prevHash gives it away.
    const e10 = await get(eventId(10));
    const changed = { ...e10, data: { type: 'copy' } };
    await update({ ...changed, hash: eventHash(changed as unknown as ExamEvent) });
    expected.push(`event-prev-hash ${eventId(11)}`);
    // An event removed: a gap.
    await admin.bulkDocs([{ ...(await get(eventId(20))), _deleted: true }]);
    expected.push(`chain-gap ${eventId(21)}`);
    // A second version of an event (a fork), written as a replicated generation-1 branch.
    const e30 = await get(eventId(30));
    const forkBody = { ...e30, data: { type: 'paste' } };
    delete (forkBody as Partial<Doc>)._rev;
    await admin.bulkDocs(
      [{ ...forkBody, hash: eventHash(forkBody as unknown as ExamEvent), _rev: '1-f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0' }],
      { new_edits: false },
    );
    expected.push(`chain-fork ${eventId(30)}`);

    // A submission for a student on no roster, properly signed by the box's own key.
    await admin.put(forgedSubmission('S09999', box, 1, appliance.store.receiptSigner));
    expected.push(`not-on-roster submission:${examId}:S09999:${box}:1`);
    // A receipt signed by another key than the box published.
    await admin.put(forgedSubmission('S00002', box, 2, freshSigner()));
    expected.push(`receipt-other-key submission:${examId}:S00002:${box}:2`);
    // A receipt by a box that published no key.
    await admin.put(forgedSubmission('S00003', 'box-ghost', 1, freshSigner()));
    expected.push(`receipt-key-missing submission:${examId}:S00003:box-ghost:1`);
    // A submission edited after signing: its payload no longer matches, nor its blob's size.
    const s4 = await get(`submission:${examId}:S00004:${box}:1`);
    await update({ ...s4, size: (s4.size as number) + 1 });
    expected.push(
      `receipt-payload submission:${examId}:S00004:${box}:1`,
      `blob-size submission:${examId}:S00004:${box}:1`,
    );
    // The forged submissions name a blob nobody sent.
    expected.push(`blob-missing blob:${'d'.repeat(64)}:0`);

    // An answer file's only chunk replaced by other bytes: the blob does not verify.
    const s5 = await get(`submission:${examId}:S00005:${box}:1`);
    const chunk5 = (await admin.get(blobChunkId(s5.sha256 as string, 0), { attachments: true })) as Doc;
    const size5 = s5.size as number;
    await update({
      ...chunk5,
      _attachments: {
        chunk: { content_type: 'application/octet-stream', data: randomBytes(size5).toString('base64') },
      },
    });
    expected.push(`blob-mismatch blob:${String(s5.sha256)}:0`);
    // A second version of another answer file's chunk, with wrong bytes: reported, the blob still verifies.
    const s6 = await get(`submission:${examId}:S00006:${box}:1`);
    const chunk6 = (await admin.get(blobChunkId(s6.sha256 as string, 0))) as Doc;
    const wrong6 = randomBytes(s6.size as number);
    await admin.bulkDocs(
      [
        {
          ...chunk6,
          _rev: chunkRev(wrong6),
          _attachments: { chunk: { content_type: 'application/octet-stream', data: wrong6.toString('base64') } },
        },
      ],
      { new_edits: false },
    );
    expected.push(`chunk-bad-revision ${blobChunkId(s6.sha256 as string, 0)}`);

    // A roster entry with two versions.
    const roster1 = await get(`examinee:${examId}:S00001`);
    await admin.bulkDocs([{ ...roster1, name: 'Someone Else', _rev: '1-e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0' }], {
      new_edits: false,
    });
    expected.push(`conflict examinee:${examId}:S00001`);
    // The box says the server refused some of its documents.
    const status = await get(`appliance-status:${box}`);
    await openCentralDb(server.link(boxUser), 'h1').put({ ...status, refused: 2 });
    expected.push(`refused-documents appliance-status:${box}`);

    const report = await verifyHall(admin, 'h1');
    expect(codes(report)).toEqual(expected.sort());
    expect(report.ok).toBe(false);
    const messages = new Map(report.problems.map((p) => [`${p.code} ${p.id}`, p.message]));
    expect(messages.get(`event-prev-hash ${eventId(11)}`)).toMatch(/is not the hash of seq 10/);
    expect(messages.get(`chain-gap ${eventId(21)}`)).toMatch(/seq 20 is missing/);
    expect(messages.get(`chain-fork ${eventId(30)}`)).toMatch(/has 2 versions/);
    expect(messages.get(`receipt-payload submission:${examId}:S00004:${box}:1`)).toMatch(/: size$/);

    // The command says the same, readable or as JSON, with exit 1.
    const r = await cli(['verify', '--hall', 'h1']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${expected.length} problems:`);
    expect(r.out).toMatch(/ not-on-roster +submission:day-exam:S09999:/);
    const json = await cli(['verify', '--hall', 'h1', '--json']);
    expect(json.code).toBe(1);
    expect(codes(JSON.parse(json.out) as VerifyReport)).toEqual(expected.sort());
  });

  it('refuses bad input with a clear message and exit 2, and changes nothing', async () => {
    const before = (await admin.info()).update_seq;
    expect(await cli(['verify'])).toMatchObject({ code: 2, err: expect.stringContaining('--hall <id> is required') });
    expect(await cli(['verify', '--hall', 'Bad Hall'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('lower-case letters, digits and - only'),
    });
    expect(await cli(['verify', '--hall', 'h1', '--frobnicate'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown option --frobnicate'),
    });
    expect(await cli(['verify', '--hall', 'h1', 'extra'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('unexpected argument "extra"'),
    });
    expect(await cli(['verify', '--hall', 'nowhere'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(
        /There is no hall database hall-nowhere on 127\.0\.0\.1:\d+ \(404\): is --hall nowhere right\?/,
      ),
    });
    const wrong = await cli(['verify', '--hall', 'h1'], { ...env, CENTRAL_PASSWORD: 'wrong-pw-123' });
    expect(wrong).toMatchObject({ code: 2, err: expect.stringContaining('(401)') });
    expect(wrong.err + wrong.out).not.toContain('wrong-pw-123');
    expect(await cli(['verify', '--hall', 'h1'], {})).toMatchObject({
      code: 2,
      err: expect.stringContaining('CENTRAL_URL'),
    });
    const closed = await cli(['verify', '--hall', 'h1'], { ...env, CENTRAL_URL: 'http://127.0.0.1:9' });
    expect(closed).toMatchObject({ code: 2, err: expect.stringContaining('refuses connections') });
    expect((await admin.info()).update_seq).toBe(before);
  });
});
