/**
 * Opening the hall store on real disk: the journal is replayed into PouchDB so that documents
 * the database lost (its writes are not fsynced) come back, nothing is written twice, the index
 * checkpoint of a clean shutdown is honoured only for the database and journal it was taken
 * with, and events the journal does not hold are still read from the database.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../domain/clock.js';
import { eventDocId, verifyChain, type ExamEvent, type NewEvent } from '../../../domain/events.js';
import { toExamDoc, toExamineeDoc } from '../../../domain/exam-import.js';
import { TEST_ROSTER, testExam } from '../../../tests/support/appliance.js';
import { hallDbDir, immutableRev, openHallDb, putImmutable } from './database.js';
import { HallStore, submissionDocId } from './hall-store.js';
import { eventRangesOutside } from './replay.js';
import { CHECKPOINT_FILE } from './index-checkpoint.js';

const EXAM_ID = 'exam-1';
let dataDir: string;
let clock: FakeClock;
let logs: string[];

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'hall-store-test-'));
  clock = new FakeClock(Date.parse('2026-06-15T09:00:00Z'));
  logs = [];
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const open = () => HallStore.open({ dataDir, clock, hallId: 'test-hall', log: (l) => logs.push(l) });
const lastLog = () => logs.filter((l) => l.startsWith('store:')).pop() ?? '';
const checkpointPath = () => path.join(dataDir, 'journal', CHECKPOINT_FILE);
const exists = (p: string) =>
  readFile(p).then(
    () => true,
    () => false,
  );

const download = (studentId: string, downloadNo: number): NewEvent => ({
  kind: 'package-downloaded',
  actor: { role: 'examinee', studentId },
  studentId,
  data: { downloadNo, packageVersion: 'v1' },
});

/** Records events one request at a time, as the appliance does, plus one submission document. */
async function recordSome(store: HallStore, studentId: string, count: number, submissionNo?: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    clock.advance(1_000);
    await store.record(EXAM_ID, [download(studentId, i + 1)]).durable;
  }
  if (submissionNo !== undefined) {
    const id = submissionDocId(EXAM_ID, studentId, store.applianceId, submissionNo);
    await store.record(
      EXAM_ID,
      [
        {
          kind: 'submission-accepted',
          actor: { role: 'examinee', studentId },
          studentId,
          data: {
            submissionId: id,
            n: submissionNo,
            sha256: 'a'.repeat(64),
            size: 10,
            submissionType: 'manual',
            late: false,
          },
        },
      ],
      [
        {
          _id: id,
          type: 'submission',
          receipt: { signature: `receipt-${id}` },
          score: { score: 1, maxScore: 2, answered: 1, total: 5 },
        },
      ],
    ).durable;
  }
  await store.flushIndex();
}

async function freshStore(): Promise<HallStore> {
  const store = await open();
  const exam = testExam(clock.now());
  await store.putExam(
    toExamDoc(exam),
    TEST_ROSTER.map((e) => toExamineeDoc(exam.examId, e)),
  );
  return store;
}

/** What kill -9 leaves: journal and database closed by the OS, no clean shutdown, no checkpoint. */
async function crash(store: HallStore): Promise<void> {
  await store.flushIndex();
  await store.closeWithoutCheckpoint();
}

/** Every appliance-owned document in the database: one revision each, the content revision. */
async function ownedDocs(): Promise<Map<string, PouchDB.Doc>> {
  const db = await openHallDb(dataDir);
  try {
    const out = new Map<string, PouchDB.Doc>();
    for (const prefix of ['event:', 'submission:']) {
      const page = await db.allDocs({ startkey: prefix, endkey: `${prefix}\ufff0`, include_docs: true });
      for (const row of page.rows) {
        const doc = await db.get(row.id, { conflicts: true });
        expect(doc._conflicts, row.id).toBeUndefined();
        const { _rev: rev, _id: id, ...rest } = doc;
        expect(rev, row.id).toBe(immutableRev({ _id: id, ...rest }));
        out.set(row.id, doc);
      }
    }
    return out;
  } finally {
    await db.close();
  }
}

describe('HallStore.open: journal replay', () => {
  it('restores documents the database lost in a power cut, and writes nothing twice', async () => {
    const first = await freshStore();
    await recordSome(first, 'S1', 3, 1);
    await first.close();
    // The database as it was on disk before the next writes...
    const snapshot = path.join(dataDir, 'db-before');
    await cp(hallDbDir(dataDir), snapshot, { recursive: true });

    const second = await open();
    await recordSome(second, 'S2', 4, 1);
    await recordSome(second, 'S1', 0, 2);
    const everything = await second.examEvents(EXAM_ID);
    expect(everything).toHaveLength(3 + 1 + 4 + 1 + 1);
    await second.close();
    // ...and after a power cut that lost every database write since: the journal has them all.
    await rm(hallDbDir(dataDir), { recursive: true });
    await cp(snapshot, hallDbDir(dataDir), { recursive: true });
    expect((await ownedDocs()).size).toBe(4 + 1);

    const third = await open();
    // The clean shutdown's checkpoint belongs to the database that was lost: not trusted.
    expect(lastLog()).toContain('every document checked: 8 of 13 documents written');
    expect(await exists(checkpointPath())).toBe(false);
    const events = await third.examEvents(EXAM_ID);
    expect(events.map((e) => e._id)).toEqual(everything.map((e) => e._id));
    expect(verifyChain(events)).toBeUndefined();
    // The projection counts each event once.
    expect(third.projection.examinee(EXAM_ID, 'S1')?.state.downloads).toHaveLength(3);
    expect(third.projection.examinee(EXAM_ID, 'S2')?.state.downloads).toHaveLength(4);
    expect(third.projection.examinee(EXAM_ID, 'S1')?.state.submissions.map((s) => s.n)).toEqual([1, 2]);
    expect(third.projection.receipts.get(submissionDocId(EXAM_ID, 'S2', third.applianceId, 1))).toEqual({
      signature: `receipt-${submissionDocId(EXAM_ID, 'S2', third.applianceId, 1)}`,
    });
    await crash(third);

    // The next start (after a crash: no checkpoint) finds everything in place and writes nothing.
    const owned = await ownedDocs();
    expect(owned.size).toBe(everything.length + 3);
    const fourth = await open();
    expect(lastLog()).toContain('every document checked: 0 of 13 documents written');
    expect(fourth.projection.head(EXAM_ID).seq).toBe(everything.length);
    // The chain goes on where it stopped.
    const { events: next } = fourth.record(EXAM_ID, [download('S3', 1)]);
    expect(next[0]?._id).toBe(eventDocId(EXAM_ID, fourth.applianceId, everything.length + 1));
    await fourth.close();
  });

  it('after a clean shutdown replays nothing, and removes the checkpoint at start', async () => {
    const first = await freshStore();
    await recordSome(first, 'S1', 5, 1);
    await first.close();
    expect(await exists(checkpointPath())).toBe(true);

    const second = await open();
    expect(lastLog()).toContain('after a clean shutdown: 0 of 7 documents written');
    expect(await exists(checkpointPath())).toBe(false);
    expect(second.projection.examinee(EXAM_ID, 'S1')?.state.downloads).toHaveLength(5);
    await crash(second);
    // A crash leaves no checkpoint: the next start checks every document.
    const third = await open();
    expect(lastLog()).toContain('every document checked: 0 of 7 documents written');
    await third.close();
  });

  it('writes what was journaled after the checkpoint, when the checkpoint is still valid', async () => {
    const first = await freshStore();
    await recordSome(first, 'S1', 2);
    await first.close();
    const savedCheckpoint = await readFile(checkpointPath());
    const snapshot = path.join(dataDir, 'db-before');
    await cp(hallDbDir(dataDir), snapshot, { recursive: true });

    const second = await open();
    await recordSome(second, 'S2', 3);
    await crash(second);
    // The database lost the last writes, and the checkpoint's removal did not reach the disk.
    await rm(hallDbDir(dataDir), { recursive: true });
    await cp(snapshot, hallDbDir(dataDir), { recursive: true });
    await writeFile(checkpointPath(), savedCheckpoint);

    const third = await open();
    expect(lastLog()).toContain('after a clean shutdown: 3 of 5 documents written');
    expect(third.projection.examinee(EXAM_ID, 'S2')?.state.downloads).toHaveLength(3);
    await third.close();
    expect([...(await ownedDocs()).keys()].filter((id) => id.startsWith('event:'))).toHaveLength(5);
  });

  it('does not trust a checkpoint that does not match the journal', async () => {
    const first = await freshStore();
    await recordSome(first, 'S1', 3);
    await first.close();
    const checkpoint = JSON.parse(await readFile(checkpointPath(), 'utf8')) as { journalBytes: number };
    await writeFile(checkpointPath(), JSON.stringify({ ...checkpoint, journalBytes: checkpoint.journalBytes + 1 }));
    const second = await open();
    expect(lastLog()).toContain('every document checked: 0 of 3 documents written');
    await second.close();
  });

  it('applies events the journal does not hold: other appliances\u2019 and ours when the journal lost them', async () => {
    const first = await freshStore();
    await recordSome(first, 'S1', 2);
    const applianceId = first.applianceId;
    await first.close();
    // Another appliance's event, as sync would bring it.
    const db = await openHallDb(dataDir);
    const foreign = {
      _id: eventDocId(EXAM_ID, 'box-other', 1),
      type: 'event',
      schemaVersion: 1,
      examId: EXAM_ID,
      applianceId: 'box-other',
      seq: 1,
      at: clock.now(),
      kind: 'package-downloaded',
      actor: { role: 'examinee', studentId: 'S2' },
      studentId: 'S2',
      data: { downloadNo: 1, packageVersion: 'v1' },
      prevHash: '0'.repeat(64),
      hash: 'f'.repeat(64),
    };
    await putImmutable(db, [foreign]);
    await db.close();

    const second = await open();
    expect(second.projection.examinee(EXAM_ID, 'S2')?.state.downloads).toHaveLength(1);
    expect(second.projection.examinee(EXAM_ID, 'S1')?.state.downloads).toHaveLength(2);
    await second.close();

    // Without the journal, our events are still read from the database and the chain continues.
    await rm(path.join(dataDir, 'journal'), { recursive: true });
    const third = await open();
    expect(third.projection.examinee(EXAM_ID, 'S1')?.state.downloads).toHaveLength(2);
    expect(third.projection.head(EXAM_ID)).toEqual({ seq: 2, hash: expect.any(String) as string });
    const { events } = third.record(EXAM_ID, [download('S3', 1)]);
    expect((events[0] as ExamEvent).seq).toBe(3);
    expect(events[0]?.applianceId).toBe(applianceId);
    await third.close();
  });
});

describe('HallStore: indexing into PouchDB waits for a quiet hall', () => {
  it('keeps journaled documents out of the database while busy, indexes them once quiet; flushIndex never waits', async () => {
    const store = await freshStore();
    let quiet = false;
    store.setIndexGate(() => quiet);
    await recordSome(store, 'S1', 2);
    const { events, durable } = store.record(EXAM_ID, [download('S1', 3)]);
    await durable;
    const id = events[0]!._id;
    const inDb = () =>
      store.db.get(id).then(
        () => true,
        () => false,
      );
    // Well past the 300 ms without new records (and the journal has them): still busy, so waiting.
    await new Promise((r) => setTimeout(r, 700));
    expect(await inDb()).toBe(false);
    quiet = true;
    await expect.poll(inDb, { timeout: 2_000, interval: 50 }).toBe(true);
    // Busy again: a reader still gets everything recorded, at once.
    quiet = false;
    await recordSome(store, 'S2', 2);
    const all = await store.examEvents(EXAM_ID);
    expect(all.map((e) => e.kind).filter((k) => k === 'package-downloaded')).toHaveLength(5);
    await store.close();
  });
});

describe('eventRangesOutside', () => {
  it('leaves out exactly the ids of each chain up to its last journaled seq', () => {
    expect(
      eventRangesOutside([
        { examId: 'b', applianceId: 'box-1', seq: 7 },
        { examId: 'a', applianceId: 'box-1', seq: 2 },
      ]),
    ).toEqual([
      { start: 'event:', end: 'event:a:box-1:', startExclusive: false, endExclusive: true },
      { start: eventDocId('a', 'box-1', 2), end: 'event:b:box-1:', startExclusive: true, endExclusive: true },
      { start: eventDocId('b', 'box-1', 7), end: 'event:\ufff0', startExclusive: true },
    ]);
    expect(eventRangesOutside([])).toEqual([{ start: 'event:', end: 'event:\ufff0', startExclusive: false }]);
  });
});
