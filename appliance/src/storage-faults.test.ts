/**
 * Storage faults the appliance survives without saying the wrong thing, over app.request() with
 * the store on real disk: a retried upload whose blob went missing or was damaged stores it again
 * from the bytes just received (they were hashed on receipt) and answers as before; an index batch
 * that PouchDB refuses is retried, reads wait for it (503 `index-unavailable` while it fails, never
 * a stale answer), and /api/health says `degraded` while it lasts. The refused batch is injected
 * with the store's test hook (a LevelDB write error cannot be caused on purpose in-process); the
 * failing fsync of a blob is a real one, injected by strace into a real process
 * (durability.test.ts).
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import {
  addTestProctors,
  ExamineeClient,
  openTestAppliance,
  ProctorClient,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';
import type { StorageProblem } from './store/storage-problems.js';

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
const EXAM = '/api/proctor/exams/exam-1';
const sha256Of = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let appliance: TestAppliance;
let clock: FakeClock;
let ada: ExamineeClient;
let chief: ProctorClient;

interface Health {
  status: string;
  problems: StorageProblem[];
}
const health = async (): Promise<{ http: number } & Health> => {
  const res = await appliance.app.request('/api/health');
  return { http: res.status, ...((await res.json()) as Health) };
};
const codeOf = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

beforeEach(async () => {
  clock = new FakeClock(START - 20 * MIN);
  const exam = testExam(START, { settings: { proctoring: { type: 'camera', intervalSeconds: 30 } } });
  appliance = await openTestAppliance(clock, { exam });
  await addTestProctors(appliance);
  chief = new ProctorClient(appliance.app);
  expect((await chief.login('chief', 'chief-password-1')).status).toBe(200);
  ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
  expect((await ada.signIn()).status).toBe(200);
  expect((await ada.get('/api/exam/package')).status).toBe(200);
  clock.set(START + MIN);
  expect((await ada.get('/api/exam/key')).status).toBe(200);
});
afterEach(async () => {
  await appliance.close();
  await removeDir(appliance.dataDir);
});

describe('a retried upload whose blob is gone or damaged', () => {
  it('submission: the deleted answer file is stored again and the same receipt goes out', async () => {
    const body = ada.answerFile({ q1: 'a', q2: true });
    const first = await ada.submit(body);
    expect(first.status).toBe(201);
    const { receipt } = (await first.json()) as { receipt: unknown };
    const file = appliance.store.blobs.pathOf(sha256Of(body));
    await rm(file);

    const retry = await ada.submit(body);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ receipt, replay: true });
    expect(await readFile(file, 'utf8')).toBe(body);
    expect((await health()).status).toBe('ok');
  });

  it('file answer: a damaged file (same size, other bytes) is replaced by the bytes received', async () => {
    const pdf = `%PDF-1.4 lab report ${'x'.repeat(2_000)}`;
    const first = await ada.uploadFile(pdf);
    expect(first.status).toBe(201);
    const file = appliance.store.blobs.pathOf(sha256Of(pdf));
    await writeFile(file, pdf.replace('lab', 'LAB'));

    const retry = await ada.uploadFile(pdf);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ sha256: sha256Of(pdf), size: pdf.length, name: 'report.pdf' });
    expect(await readFile(file, 'utf8')).toBe(pdf);
    // And a deleted one too.
    await rm(file);
    expect((await ada.uploadFile(pdf)).status).toBe(200);
    expect(await readFile(file, 'utf8')).toBe(pdf);
  });

  it('snapshot: the same picture again restores a deleted one; an intact one is left as it is', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('camera 1')]);
    const send = () =>
      appliance.app.request('/api/exam/snapshots?source=camera', {
        method: 'POST',
        headers: ada.headers({ 'content-type': 'image/jpeg', 'x-content-sha256': sha256Of(jpeg) }),
        body: new Uint8Array(jpeg),
      });
    expect((await send()).status).toBe(201);
    const file = appliance.store.blobs.pathOf(sha256Of(jpeg));
    await rm(file);
    expect((await send()).status).toBe(201);
    expect((await readFile(file)).equals(jpeg)).toBe(true);
    // Intact: checked and kept, the copy received thrown away (the same file, not a new one).
    const { ino } = await stat(file);
    expect((await send()).status).toBe(201);
    expect((await stat(file)).ino).toBe(ino);
  });
});

describe('a retry cannot be used to put other bytes under a hash', () => {
  it('another examinee sending other bytes with the SHA-256 of a deleted file gets 422; nothing is stored', async () => {
    const pdf = '%PDF-1.4 Ada’s lab report';
    expect((await ada.uploadFile(pdf)).status).toBe(201);
    const file = appliance.store.blobs.pathOf(sha256Of(pdf));
    await rm(file);
    const alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
    expect((await alan.signIn()).status).toBe(200);
    expect((await alan.get('/api/exam/package')).status).toBe(200);
    expect((await alan.get('/api/exam/key')).status).toBe(200);

    const forged = await alan.uploadFile('%PDF-1.4 written by Alan', 'report.pdf', 'q5', sha256Of(pdf));
    expect(forged.status).toBe(422);
    expect(await codeOf(forged)).toBe('checksum-mismatch');
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    // The same with Ada's own token: the bytes are what count, not who sends them.
    const again = await ada.uploadFile('%PDF-1.4 other bytes', 'report.pdf', 'q5', sha256Of(pdf));
    expect(await codeOf(again)).toBe('checksum-mismatch');
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    // Only the right bytes bring it back.
    expect((await ada.uploadFile(pdf)).status).toBe(200);
    expect(await readFile(file, 'utf8')).toBe(pdf);
  });
});

describe('an index batch the database refuses', () => {
  const simulated = () => new Error('IO error: simulated LevelDB write failure');

  it('is retried: reads wait for it, answer 503 while it fails, and health is degraded until it is in', async () => {
    await appliance.store.flushIndex();
    // The next two batches fail: the first one tried, and the retry a proctor's read starts.
    appliance.store.failNextIndexBatches(simulated(), 2);
    const draft = await ada.putDraft(1, { q1: 'a' });
    expect(draft.status).toBe(200);
    expect((await ada.uploadFile('%PDF-1.4 report')).status).toBe(201);
    await expect(appliance.store.flushIndex()).rejects.toMatchObject({ code: 'index-unavailable' });

    const degraded = await health();
    expect(degraded).toMatchObject({ http: 200, status: 'degraded' });
    expect(degraded.problems).toEqual([
      {
        code: 'index-failing',
        since: expect.any(String),
        detail: expect.stringContaining('simulated LevelDB write failure'),
      },
    ]);

    const refused = await chief.request('GET', `${EXAM}/events.jsonl`);
    expect(refused.status).toBe(503);
    expect(await codeOf(refused)).toBe('index-unavailable');

    // The next good batch: the read gets every event, and health is ok again.
    const events = await chief.request('GET', `${EXAM}/events.jsonl`);
    expect(events.status).toBe(200);
    expect(await events.text()).toContain('"kind":"file-uploaded"');
    expect(await health()).toMatchObject({ http: 200, status: 'ok', problems: [] });
  });

  it('is retried without a reader, and what was recorded meanwhile is indexed with it', async () => {
    await appliance.store.flushIndex();
    appliance.store.failNextIndexBatches(simulated());
    expect((await ada.uploadFile('%PDF-1.4 first')).status).toBe(201);
    await expect.poll(async () => (await health()).status, { timeout: 5_000, interval: 50 }).toBe('degraded');
    expect((await ada.uploadFile('%PDF-1.4 second')).status).toBe(201);
    await expect.poll(async () => (await health()).status, { timeout: 10_000, interval: 100 }).toBe('ok');
    // In the database without any reader's flush.
    const docs = await appliance.store.db.allDocs({ startkey: 'event:', endkey: 'event:\ufff0', include_docs: true });
    const uploaded = docs.rows.filter((r) => (r.doc as { kind?: string } | undefined)?.kind === 'file-uploaded');
    expect(uploaded).toHaveLength(2);
  });
});
