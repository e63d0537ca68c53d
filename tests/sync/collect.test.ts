/**
 * `npm run sync -- collect` against the stand-in central server, with documents written as boxes
 * write them (hash-chained events, submissions, blob chunks from blob files) and one exam day
 * recorded and pushed by a real appliance: every submission version of every box exported with
 * which counts and why, conflicts refused, files, photos and snapshots exported SHA-256 checked,
 * chunk revisions chosen by the bytes, colliding ids, and bad input refused with nothing written.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../domain/exam-format.js';
import { chainEvent, GENESIS_HASH, type NewEvent } from '../../domain/events.js';
import { ATTACHMENT_NAME, blobChunkId, CHUNK_BYTES, writeBlobChunks } from '../../sync/blob-chunks.js';
import { openCentralDb } from '../../sync/central-link.js';
import { receiptKeyDoc } from '../../sync/published-docs.js';
import { rawPublicKey, ReceiptSigner } from '../../appliance/src/crypto/receipts.js';
import { collectSubmissions } from '../../sync/central/institution.js';
import { runSyncCli } from '../../sync/cli.js';
import { removeDir } from '../support/appliance.js';
import { startCentralServer, type CentralServer } from '../support/central-server.js';
import { pushExamDay } from '../support/push-day.js';

const T = Date.parse('2026-12-01T10:00:00Z');
const sha256Of = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Row = Record<string, string>;
const readCsv = async (file: string): Promise<Row[]> => parse(await readFile(file, 'utf8'), { columns: true }) as Row[];

/** Every file under `dir`, relative, with '/'. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** A box of the hall writing straight into the central database, as its sync would push. */
class Box {
  private head = { seq: 0, hash: GENESIS_HASH };
  /** Its receipt key, published (receipt-key:<applianceId>) before its first submission, as a box does. */
  private readonly signer = new ReceiptSigner(
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  private published = false;
  constructor(
    private readonly db: PouchDB.Database,
    private readonly tmp: string,
    readonly applianceId: string,
    readonly examId = 'phys-1',
  ) {}

  private get hallId(): string {
    return decodeURIComponent(this.db.name.split('/').pop() ?? '').replace(/^hall-/, '');
  }

  async event(event: NewEvent, at: number): Promise<string> {
    const e = chainEvent(this.head, this.examId, this.applianceId, at, event, SCHEMA_VERSION);
    this.head = e;
    await this.db.put(e as unknown as PouchDB.Doc);
    return e._id;
  }

  /** A blob file's chunk documents, as the box's chunker writes them. */
  async blob(bytes: Buffer, options: { chunks?: boolean } = {}): Promise<{ sha256: string; size: number }> {
    const sha256 = sha256Of(bytes);
    if (options.chunks !== false) {
      const file = path.join(this.tmp, sha256);
      await writeFile(file, bytes);
      await writeBlobChunks(this.db, file, sha256, this.applianceId);
    }
    return { sha256, size: bytes.length };
  }

  /** An accepted submission: answer file, submission document (C1 id unless `legacy`), event. */
  async submit(
    studentId: string,
    n: number,
    receivedAt: number,
    options: { legacy?: boolean; answers?: Buffer; examId?: string } = {},
  ): Promise<{ id: string; bytes: Buffer }> {
    const examId = options.examId ?? this.examId;
    const bytes =
      options.answers ??
      Buffer.from(
        JSON.stringify({ format: 'answers/v1', examId, studentId, answers: { q1: randomBytes(8).toString('hex') } }),
      );
    const file = await this.blob(bytes);
    const id = options.legacy
      ? `submission:${examId}:${studentId}:${n}`
      : `submission:${examId}:${studentId}:${this.applianceId}:${n}`;
    if (!this.published) {
      const key = receiptKeyDoc(this.applianceId, this.hallId, rawPublicKey(this.signer.publicKey), receivedAt);
      await this.db.bulkDocs([key as unknown as PouchDB.Doc], { new_edits: false });
      this.published = true;
    }
    const receipt = this.signer.sign({
      format: 'receipt/v2',
      applianceId: this.applianceId,
      hallId: this.hallId,
      examId,
      studentId,
      submissionId: id,
      n,
      ...file,
      submissionType: 'manual',
      receivedAt: new Date(receivedAt).toISOString(),
      timing: 'on-time',
    });
    await this.db.put({
      _id: id,
      type: 'submission',
      schemaVersion: SCHEMA_VERSION,
      examId,
      studentId,
      n,
      applianceId: this.applianceId,
      ...file,
      submissionType: 'manual',
      receivedAt,
      late: false,
      timing: 'on-time',
      receipt,
      score: { score: 1, maxScore: 2, answered: 1, total: 2 },
    });
    if (examId === this.examId)
      await this.event(
        {
          kind: 'submission-accepted',
          actor: { role: 'examinee', studentId },
          studentId,
          data: { submissionId: id, n, ...file, submissionType: 'manual', late: false },
        },
        receivedAt,
      );
    return { id, bytes };
  }
}

/** Writes one revision of a chunk document with the given bytes (a wrong one, say). */
async function putChunkRevision(
  db: PouchDB.Database,
  blob: { sha256: string; size: number },
  index: number,
  rev: string,
  bytes: Buffer,
): Promise<void> {
  const doc = {
    _id: blobChunkId(blob.sha256, index),
    _rev: rev,
    type: 'blob-chunk',
    schemaVersion: SCHEMA_VERSION,
    sha256: blob.sha256,
    index,
    count: Math.max(1, Math.ceil(blob.size / CHUNK_BYTES)),
    size: blob.size,
    applianceId: 'box-a',
    _attachments: { [ATTACHMENT_NAME]: { content_type: 'application/octet-stream', data: bytes.toString('base64') } },
  };
  const [result] = await db.bulkDocs([doc], { new_edits: false });
  if (result && 'error' in result && result.error) throw new Error(`${doc._id}: ${result.message}`);
}

describe('npm run sync -- collect', () => {
  let server: CentralServer;
  let dir: string;
  let env: Record<string, string>;
  const db = (hall: string) => openCentralDb(server.link(server.admin), hall, { create: true });

  beforeAll(async () => {
    server = await startCentralServer();
    dir = await mkdtemp(path.join(tmpdir(), 'collect-'));
    env = { CENTRAL_URL: server.url, CENTRAL_USER: server.admin.username, CENTRAL_PASSWORD: server.admin.password };
  });
  afterAll(async () => {
    await server.close();
    await removeDir(dir);
  });

  async function collect(hall: string, out: string, ...more: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runSyncCli(['collect', '--hall', hall, '--out', out, ...more], env, {
      out: (t) => (stdout += t),
      err: (t) => (stderr += t),
      readStdin: async () => '',
    });
    return { code, out: stdout, err: stderr };
  }

  it('exports every version two boxes accepted for one examinee and says which counts and why', async () => {
    const central = db('two-boxes');
    const tmp = await mkdtemp(path.join(dir, 'boxes-'));
    const a = new Box(central, tmp, 'box-a');
    const b = new Box(central, tmp, 'box-b');
    const c = new Box(central, tmp, 'box-c');
    // S1: both boxes accepted submission 1, box-b 37 s after box-a by their clocks.
    const s1a = await a.submit('S1', 1, T + 2 * 60_000 + 3_000);
    const s1b = await b.submit('S1', 1, T + 2 * 60_000 + 40_000);
    // S2: a legacy id on box-c, then its submission 2, which a proctor removed; and box-a 10 min earlier.
    const s2legacy = await c.submit('S2', 1, T + 20 * 60_000, { legacy: true });
    const s2removed = await c.submit('S2', 2, T + 25 * 60_000);
    const s2a = await a.submit('S2', 1, T + 10 * 60_000);
    await c.event(
      {
        kind: 'submission-removed',
        actor: { role: 'proctor', username: 'chief' },
        studentId: 'S2',
        data: { submissionId: s2removed.id, reason: 'submitted by mistake' },
      },
      T + 26 * 60_000,
    );
    // S3: box-b's clock was set 90 s back by a proctor after it accepted S3's submission.
    const s3 = await b.submit('S3', 1, T + 30 * 60_000);
    await b.event(
      {
        kind: 'clock-confirmed',
        actor: { role: 'proctor', username: 'chief' },
        data: { action: 'set', offsetMs: -90_000, previousOffsetMs: 0 },
      },
      T + 31 * 60_000,
    );

    const out = path.join(dir, 'two-boxes');
    const r = await collect('two-boxes', out);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('Collected 6 of 6 submissions');
    const rows = await readCsv(path.join(out, 'submissions.csv'));
    const row = (id: string) => rows.find((x) => x.submissionId === id)!;
    expect(rows.map((x) => x.submissionId).sort()).toEqual(
      [s1a.id, s1b.id, s2legacy.id, s2removed.id, s2a.id, s3.id].sort(),
    );

    expect(row(s1b.id)).toMatchObject({ counts: 'true', applianceId: 'box-b', n: '1', fileStatus: 'ok' });
    expect(row(s1b.id).reason).toMatch(
      /^latest accepted \(box-b, 2026-12-01T10:02:40Z\); box-a's submission 1 was 37 s earlier/,
    );
    expect(row(s1b.id).reason).toContain('within a minute');
    expect(row(s1a.id)).toMatchObject({ counts: 'false', removed: 'false' });
    expect(row(s1a.id).reason).toMatch(/^superseded by box-b's submission 1 at 2026-12-01T10:02:40Z \(37 s later/);
    expect(await readFile(path.join(out, 'phys-1', 'S1.answers.json'))).toEqual(s1b.bytes);
    expect(await readFile(path.join(out, row(s1a.id).file!))).toEqual(s1a.bytes);
    expect(row(s1a.id).file).toBe('phys-1/S1/submissions/box-a-1.answers.json');
    expect(row(s1b.id).file).toBe('phys-1/S1/submissions/box-b-1.answers.json');

    expect(row(s2removed.id)).toMatchObject({ counts: 'false', removed: 'true' });
    expect(row(s2removed.id).reason).toBe(
      'removed by proctor chief on box-c at 2026-12-01T10:26:00Z: "submitted by mistake"',
    );
    expect(row(s2legacy.id).counts).toBe('true');
    expect(row(s2legacy.id).reason).toMatch(
      /^latest accepted \(box-c, 2026-12-01T10:20:00Z\); box-a's submission 1 was 10 min earlier by the boxes' clocks$/,
    );
    expect(row(s2a.id).reason).toMatch(/^superseded by box-c's submission 1 at/);
    expect(await readFile(path.join(out, 'phys-1', 'S2.answers.json'))).toEqual(s2legacy.bytes);
    // A removed version is exported all the same.
    expect(await readFile(path.join(out, row(s2removed.id).file!))).toEqual(s2removed.bytes);

    expect(row(s3.id).reason).toContain("box-b's clock was set 1 min 30 s back by a proctor after it accepted this");

    const summary = JSON.parse(await readFile(path.join(out, 'collect.json'), 'utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({
      complete: true,
      database: 'hall-two-boxes',
      submissions: { listed: 6, written: 6 },
    });
    // Nothing but the result beside it (the folder it was written in is gone).
    expect((await readdir(dir)).filter((f) => f.includes('collecting'))).toEqual([]);
  });

  it('exits 1 naming every document with conflicting revisions, and marks a conflicted submission', async () => {
    const central = db('conflicts');
    const tmp = await mkdtemp(path.join(dir, 'conflicts-'));
    const box = new Box(central, tmp, 'box-a');
    const s = await box.submit('S1', 1, T);
    const doc = await central.get(s.id);
    const { _rev: _r, ...content } = doc;
    await central.bulkDocs([{ ...content, _rev: '1-ffffffffffffffffffffffffffffffff', receivedAt: T + 1 }], {
      new_edits: false,
    });
    await central.put({ _id: 'examinee:phys-1:S1', type: 'examinee', examId: 'phys-1', studentId: 'S1', name: 'Ada' });
    await central.bulkDocs(
      [{ _id: 'examinee:phys-1:S1', _rev: '1-00000000000000000000000000000001', type: 'examinee', name: 'Ada L.' }],
      { new_edits: false },
    );
    const out = path.join(dir, 'conflicts-out');
    const r = await collect('conflicts', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`CONFLICTING REVISIONS: ${s.id} (2 revisions)`);
    expect(r.err).toContain('CONFLICTING REVISIONS: examinee:phys-1:S1 (2 revisions)');
    expect(r.err).toContain('INCOMPLETE');
    const [row] = await readCsv(path.join(out, 'submissions.csv'));
    expect(row?.reason).toMatch(/^CONFLICTING REVISIONS \(2; see collect\.json\): /);
    const summary = JSON.parse(await readFile(path.join(out, 'collect.json'), 'utf8')) as {
      complete: boolean;
      conflicts: string[];
    };
    expect(summary.complete).toBe(false);
    expect(summary.conflicts).toHaveLength(2);
  });

  it('exports uploads, photos, snapshots and answers kept at time-up, SHA-256 checked, and names a missing and a wrong chunk', async () => {
    const central = db('files');
    const tmp = await mkdtemp(path.join(dir, 'files-'));
    const box = new Box(central, tmp, 'box-a');
    const actor = { role: 'examinee' as const, studentId: 'S1' };
    const pdf = randomBytes(CHUNK_BYTES + 1000);
    const upload = await box.blob(pdf);
    await box.event(
      {
        kind: 'file-uploaded',
        actor,
        studentId: 'S1',
        data: { questionId: 'q5', name: 'lab report (final).pdf', ...upload },
      },
      T,
    );
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(2000)]);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(500)]);
    await box.event(
      {
        kind: 'verification-photo-submitted',
        actor,
        studentId: 'S1',
        data: { kind: 'face', ...(await box.blob(png)) },
      },
      T + 1,
    );
    await box.event(
      { kind: 'snapshot-taken', actor, studentId: 'S1', data: { source: 'camera', ...(await box.blob(jpeg)) } },
      T + 2,
    );
    const submitted = await box.submit('S1', 1, T + 3);
    const kept = Buffer.from('{"format":"answers/v1","answers":{"q1":"at time-up"}}');
    await box.event(
      {
        kind: 'time-up-answers-kept',
        actor: { role: 'system' },
        studentId: 'S1',
        data: {
          submissionId: submitted.id,
          timeUpDraftId: 'timeup-draft:phys-1:S1:1',
          ...(await box.blob(kept)),
          submittedSha256: sha256Of(submitted.bytes),
          differingQuestions: ['q1'],
          unseenMs: 1000,
        },
      },
      T + 4,
    );
    // S2's upload lacks its second chunk; S3's snapshot has a wrong chunk (same length, other bytes).
    const big = randomBytes(CHUNK_BYTES + 10);
    const partial = { sha256: sha256Of(big), size: big.length };
    await putChunkRevision(central, partial, 0, '1-00000000000000000000000000000000', big.subarray(0, CHUNK_BYTES));
    await box.event(
      {
        kind: 'file-uploaded',
        actor: { role: 'examinee', studentId: 'S2' },
        studentId: 'S2',
        data: { questionId: 'q5', name: '=HYPERLINK("http://x.test","essay").pdf', ...partial },
      },
      T + 5,
    );
    const shot = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(100)]);
    const wrong = { sha256: sha256Of(shot), size: shot.length };
    await putChunkRevision(central, wrong, 0, '1-00000000000000000000000000000000', randomBytes(shot.length));
    await box.event(
      {
        kind: 'snapshot-taken',
        actor: { role: 'examinee', studentId: 'S3' },
        studentId: 'S3',
        data: { source: 'screen', ...wrong },
      },
      T + 6,
    );

    const out = path.join(dir, 'files-out');
    const r = await collect('files', out);
    expect(r.code).toBe(1);
    expect(r.out).toContain('4 of 6 files');
    expect(r.err).toMatch(
      /missing file \(not synced yet\?\): event:phys-1:box-a:0000000006: upload of S2 in phys-1 \(q5 "=HYPERLINK\(\\"http:\/\/x\.test\\",\\"essay\\"\)\.pdf"\): blob:[0-9a-f]{64}:1 is not there/,
    );
    expect(r.err).toMatch(
      /SHA-256 MISMATCH: event:phys-1:box-a:0000000007: snapshot of S3 in phys-1 \(screen\): reassembled [0-9a-f]{64}/,
    );
    const rows = await readCsv(path.join(out, 'files.csv'));
    expect(rows.map((x) => [x.studentId, x.kind, x.status, x.file])).toEqual([
      ['S1', 'upload', 'ok', 'phys-1/S1/uploads/box-a-1-q5-lab_report__final_.pdf'],
      ['S1', 'verification-photo', 'ok', 'phys-1/S1/photos/box-a-2-face.png'],
      ['S1', 'snapshot', 'ok', 'phys-1/S1/snapshots/box-a-3-camera.jpg'],
      ['S1', 'time-up-answers', 'ok', 'phys-1/S1/time-up/box-a-5.answers-at-time-up.json'],
      ['S2', 'upload', 'missing', ''],
      ['S3', 'snapshot', 'sha-mismatch', ''],
    ]);
    expect(rows[0]).toMatchObject({
      questionId: 'q5',
      name: 'lab report (final).pdf',
      size: String(pdf.length),
      sha256: upload.sha256,
    });
    // An examinee's file name is never run as a spreadsheet formula.
    expect(rows[4]?.name).toBe(`'=HYPERLINK("http://x.test","essay").pdf`);
    expect(rows[3]).toMatchObject({ submissionId: submitted.id, detail: expect.stringContaining('1 question(s): q1') });
    expect(await readFile(path.join(out, rows[0]!.file!))).toEqual(pdf);
    expect(await readFile(path.join(out, rows[1]!.file!))).toEqual(png);
    expect(await readFile(path.join(out, rows[2]!.file!))).toEqual(jpeg);
    expect(await readFile(path.join(out, rows[3]!.file!))).toEqual(kept);
    // No partial file is left where a file was missing or wrong.
    expect(await filesUnder(path.join(out, 'phys-1'))).toEqual(
      [
        'S1.answers.json',
        'S1/submissions/box-a-1.answers.json',
        ...rows.slice(0, 4).map((x) => x.file!.slice('phys-1/'.length)),
      ].sort(),
    );
  });

  it('takes, for each chunk, the revision whose bytes make the blob verify, whichever revision wins', async () => {
    const central = db('chunk-revisions');
    const tmp = await mkdtemp(path.join(dir, 'revs-'));
    const box = new Box(central, tmp, 'box-a');
    const bytes = randomBytes(2 * CHUNK_BYTES + 77);
    const blob = await box.blob(bytes);
    // A wrong revision of chunk 0 that wins (the highest revision id), one of chunk 1 that loses,
    // and two wrong ones of chunk 2, one with the wrong length.
    await putChunkRevision(central, blob, 0, '1-ffffffffffffffffffffffffffffffff', randomBytes(CHUNK_BYTES));
    await putChunkRevision(central, blob, 1, '1-00000000000000000000000000000000', randomBytes(CHUNK_BYTES));
    await putChunkRevision(central, blob, 2, '1-fffffffffffffffffffffffffffffffe', randomBytes(77));
    await putChunkRevision(central, blob, 2, '1-fffffffffffffffffffffffffffffffd', randomBytes(10));
    await box.event(
      {
        kind: 'file-uploaded',
        actor: { role: 'examinee', studentId: 'S1' },
        studentId: 'S1',
        data: { questionId: 'q5', name: 'big.pdf', ...blob },
      },
      T,
    );
    const out = path.join(dir, 'revs-out');
    const r = await collect('chunk-revisions', out);
    // Every file is collected, and the wrong revisions are named (verify): the hall should remove them.
    expect(r.code).toBe(1);
    expect(r.err).toContain(`VERIFY chunk-bad-revision: ${blobChunkId(blob.sha256, 0)}`);
    expect(r.err).toContain(`VERIFY chunk-bad-revision: ${blobChunkId(blob.sha256, 2)}`);
    expect(r.err).not.toMatch(/missing|MISMATCH|CONFLICTING/);
    expect(JSON.parse(await readFile(path.join(out, 'collect.json'), 'utf8'))).toMatchObject({ complete: true });
    const [row] = await readCsv(path.join(out, 'files.csv'));
    expect(row).toMatchObject({ status: 'ok', sha256: blob.sha256 });
    expect(row?.statusDetail).toContain(`${blobChunkId(blob.sha256, 0)} has 2 revisions`);
    expect(row?.statusDetail).toContain(`${blobChunkId(blob.sha256, 2)} has 3 revisions`);
    expect(await readFile(path.join(out, row!.file!))).toEqual(bytes);
  });

  it('gives ids that would share a file name distinct names, all inside the output folder', async () => {
    const central = db('collisions');
    const tmp = await mkdtemp(path.join(dir, 'collide-'));
    const box = new Box(central, tmp, 'box-a');
    const ids = [
      'a/b',
      'a_b',
      'A_B',
      '..',
      '.',
      'S1',
      's1',
      'S1.answers.json',
      'con',
      '../../escape',
      'x'.repeat(300),
      'ok-1',
    ];
    for (const [i, id] of ids.entries()) await box.submit(id, 1, T + i);
    // An exam whose id is one of collect's own file names.
    const other = await box.submit('S1', 1, T, { examId: 'files.csv' });
    const out = path.join(dir, 'collide-out');
    const r = await collect('collisions', out);
    // Every version is collected under a name of its own; verify names the ids no box would accept.
    expect(r.code).toBe(1);
    expect(r.err).toContain('VERIFY malformed: submission:phys-1:../../escape:box-a:1');
    expect(r.err).not.toMatch(/missing|MISMATCH|CONFLICTING/);
    expect(JSON.parse(await readFile(path.join(out, 'collect.json'), 'utf8'))).toMatchObject({ complete: true });
    const rows = await readCsv(path.join(out, 'submissions.csv'));
    expect(rows).toHaveLength(ids.length + 1);
    const files = rows.map((x) => x.file!);
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(files.length);
    for (const row of rows) {
      expect(row.counts).toBe('true');
      expect(row.file!.split('/').every((part) => part !== '' && !part.startsWith('.'))).toBe(true);
      expect(JSON.parse(await readFile(path.join(out, row.file!), 'utf8'))).toMatchObject({ studentId: row.studentId });
    }
    const folderOf = (id: string) =>
      rows.find((x) => x.studentId === id && x.examId === 'phys-1')!.file!.split('/')[1]!;
    expect(folderOf('ok-1')).toBe('ok-1');
    expect(folderOf('a/b')).toMatch(/^a_b~[0-9a-f]{10}$/);
    expect(folderOf('a_b')).toMatch(/^a_b~[0-9a-f]{10}$/);
    expect(folderOf('a_b')).not.toBe(folderOf('A_B'));
    expect(folderOf('S1')).toMatch(/^S1~/);
    expect(folderOf('..')).toMatch(/^__~/);
    expect(folderOf('x'.repeat(300)).length).toBeLessThan(64);
    expect(rows.find((x) => x.submissionId === other.id)!.file).toMatch(/^files\.csv~[0-9a-f]{10}\/S1\//);
    // Every counting copy is there, none overwrote another, nothing was written outside <out>.
    const everything = await filesUnder(out);
    expect(everything.filter((f) => f.endsWith('.answers.json') && f.split('/').length === 2)).toHaveLength(
      ids.length + 1,
    );
    expect((await readdir(dir)).filter((f) => f === 'escape' || f.includes('collecting'))).toEqual([]);
    // The same names again, whatever the order: a second collect gives the same files.
    // (Into a folder that is there and empty, this time: it keeps its mode.)
    const again = path.join(dir, 'collide-again');
    await mkdir(again, { mode: 0o750 });
    expect((await collect('collisions', again)).code).toBe(1); // the same verify findings as above
    expect((await stat(again)).mode & 0o777).toBe(0o750);
    expect((await stat(out)).mode & 0o077).not.toBe(0);
    expect(await filesUnder(again)).toEqual(
      everything
        .filter((f) => f !== 'collect.json')
        .concat('collect.json')
        .sort(),
    );
  });

  describe('refuses bad input with a clear message, a non-zero exit and nothing written', () => {
    const nothingWritten = async (out: string) => {
      const parent = path.dirname(out);
      expect((await readdir(parent)).filter((f) => f.includes('.collecting-'))).toEqual([]);
    };

    it('an unknown hall', async () => {
      const out = path.join(dir, 'no-hall-out');
      const r = await collect('no-such-hall', out);
      expect(r.code).toBe(2);
      expect(r.err).toContain('hall-no-such-hall');
      await expect(readdir(out)).rejects.toThrow();
      await nothingWritten(out);
    });

    it('an unknown exam, naming the exams there', async () => {
      const central = db('exams');
      await central.put({ _id: 'exam:chem-1', type: 'exam', examId: 'chem-1' });
      const out = path.join(dir, 'no-exam-out');
      const r = await collect('exams', out, '--exam', 'phys-9');
      expect(r).toMatchObject({
        code: 2,
        err: expect.stringContaining('hall-exams has no exam "phys-9" (its exams: chem-1)'),
      });
      expect(r.err).toContain('Nothing was written');
      await expect(readdir(out)).rejects.toThrow();
      await nothingWritten(out);
    });

    it('--out naming a file, a folder that is not empty, or a path through a file', async () => {
      await db('bad-out').info();
      const file = path.join(dir, 'a-file.txt');
      await writeFile(file, 'keep me');
      expect(await collect('bad-out', file)).toMatchObject({
        code: 2,
        err: expect.stringContaining('is a file, not a folder'),
      });
      expect(await readFile(file, 'utf8')).toBe('keep me');
      const full = path.join(dir, 'full');
      await mkdir(full);
      await writeFile(path.join(full, 'old.csv'), 'x');
      expect(await collect('bad-out', full)).toMatchObject({ code: 2, err: expect.stringContaining('is not empty') });
      expect(await readdir(full)).toEqual(['old.csv']);
      const through = path.join(file, 'out');
      expect(await collect('bad-out', through)).toMatchObject({
        code: 2,
        err: expect.stringContaining('a part of the path is a file'),
      });
      await nothingWritten(file);
    });

    it.skipIf(process.getuid?.() === 0)('an output folder in a folder it may not write in', async () => {
      await db('read-only').info();
      const locked = path.join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o555);
      try {
        const r = await collect('read-only', path.join(locked, 'out'));
        expect(r).toMatchObject({ code: 2, err: expect.stringContaining('permission denied') });
        expect(await readdir(locked)).toEqual([]);
      } finally {
        await chmod(locked, 0o755);
      }
    });

    it('a collect cut off half-way leaves no folder that could be taken for a result', async () => {
      const central = db('cut-off');
      const tmp = await mkdtemp(path.join(dir, 'cut-'));
      const box = new Box(central, tmp, 'box-a');
      for (const s of ['S1', 'S2', 'S3']) await box.submit(s, 1, T);
      let reads = 0;
      const failing = new Proxy(central, {
        get(target, prop, receiver) {
          if (prop === 'get')
            return async (...args: Parameters<PouchDB.Database['get']>) => {
              if (++reads > 2) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
              return target.get(...args);
            };
          const value: unknown = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const out = path.join(dir, 'cut-out');
      await expect(collectSubmissions(failing, out)).rejects.toThrow('socket hang up');
      await expect(readdir(out)).rejects.toThrow();
      await nothingWritten(out);
    });
  });

  it('collects a day recorded and pushed by a real appliance: answer files and file answers, all verified', async () => {
    const run = await pushExamDay({ examinees: 12, cuts: 0, seed: 7, fileEvery: 4, fileBytes: CHUNK_BYTES + 4096 });
    try {
      const out = path.join(dir, 'day-out');
      const report = await collectSubmissions(openCentralDb(run.server.link(run.server.admin), 'h1'), out);
      expect(report).toMatchObject({
        submissions: 12,
        written: 12,
        files: 3,
        filesWritten: 3,
        missing: [],
        mismatched: [],
        missingFiles: [],
        mismatchedFiles: [],
        conflicts: [],
      });
      const rows = (await readCsv(report.filesCsvPath)).sort((x, y) => (x.studentId! < y.studentId! ? -1 : 1));
      expect(rows.map((x) => [x.studentId, x.kind, x.questionId, x.status])).toEqual([
        ['S00001', 'upload', 'q5', 'ok'],
        ['S00005', 'upload', 'q5', 'ok'],
        ['S00009', 'upload', 'q5', 'ok'],
      ]);
      for (const row of rows) {
        const bytes = await readFile(path.join(out, row.file!));
        expect(sha256Of(bytes)).toBe(row.sha256);
        expect(run.day.blobs.get(row.sha256!)).toBe(bytes.length);
      }
      const subs = await readCsv(report.csvPath);
      expect(subs.every((x) => x.counts === 'true' && x.reason!.startsWith('the only submission ('))).toBe(true);
    } finally {
      await run.close();
    }
  });
});
