/**
 * A full exam day's results reach the central server through a link cut at 20 random points:
 * complete, each document once, every blob's SHA-256 equal, and at most one batch re-sent per
 * cut (the stand-in counts every document it receives in `_bulk_docs`).
 *
 * SYNC_TEST_EXAMINEES sets the size (default 1,000), SYNC_TEST_CUTS the cuts (default 20);
 * SYNC_TEST_SEED repeats a run's cut points.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir } from '../support/appliance.js';
import { documentRevisions } from '../../appliance/src/store/database.js';
import { openCentralDb } from '../../sync/central-link.js';
import { collectSubmissions } from '../../sync/central/institution.js';
import { BLOBS_BATCH, checkCentralBlobs, pushExamDay, RECORDS_BATCH, type PushDayRun } from '../support/push-day.js';

const EXAMINEES = Number(process.env.SYNC_TEST_EXAMINEES ?? 1_000);
const SEED = Number(process.env.SYNC_TEST_SEED ?? Date.now() % 1_000_000);
const CUTS = Number(process.env.SYNC_TEST_CUTS ?? 20);

describe(`a full exam day (${EXAMINEES} examinees) pushed through ${CUTS} cuts (seed ${SEED})`, () => {
  let run: PushDayRun;

  beforeAll(async () => {
    run = await pushExamDay({ examinees: EXAMINEES, cuts: CUTS, seed: SEED });
    console.log(
      `recorded ${run.day.events} events, ${run.day.submissions} submissions, ${run.day.blobs.size} blobs ` +
        `(${(run.blobBytes / 1e6).toFixed(1)} MB) in ${Math.round(run.recordMs)} ms; pushed ${run.expected} documents ` +
        `through ${run.cutsDone} cuts in ${Math.round(run.pushMs)} ms; the server received ${run.server.receivedTotal()}`,
    );
  }, 150_000);
  afterAll(async () => {
    const dir = run?.appliance.dataDir;
    await run?.close();
    if (dir) await removeDir(dir);
  });

  it(`cut the link ${CUTS} times while pushing`, () => {
    expect(run.cutsDone).toBe(CUTS);
  });

  it('delivers every appliance document once, with its revision, and nothing else', async () => {
    const local = await documentRevisions(run.appliance.store.db);
    const own = [...local].filter(([id]) => /^(event|submission|blob):/.test(id));
    expect(own.length).toBe(run.expected);
    const central = await documentRevisions(openCentralDb(run.server.link(run.server.admin), 'h1'));
    for (const [id, rev] of own) expect(central.get(id), id).toBe(rev);
    expect([...run.server.received.keys()].sort()).toEqual(own.map(([id]) => id).sort());
    // No conflicts: every document has exactly one leaf.
    const admin = openCentralDb(run.server.link(run.server.admin), 'h1');
    const sample = own.filter((_, i) => i % 50 === 0).map(([id]) => id);
    for (const id of sample) expect((await admin.get(id, { conflicts: true }))._conflicts, id).toBeUndefined();
  });

  it('re-sends at most one batch after each cut', () => {
    let resentRecords = 0;
    let resentChunks = 0;
    for (const [id, times] of run.server.received) {
      if (id.startsWith('blob:')) resentChunks += times - 1;
      else resentRecords += times - 1;
    }
    console.log(`re-sent after ${CUTS} cuts: ${resentRecords} records, ${resentChunks} blob chunks`);
    expect(resentRecords).toBeLessThanOrEqual(CUTS * RECORDS_BATCH);
    expect(resentChunks).toBeLessThanOrEqual(CUTS * BLOBS_BATCH);
  });

  it('resumes after each cut from its checkpoint: at most one batch per push is looked at again', () => {
    // Each document is asked about once in _revs_diff, plus, after a cut, the batch that was in
    // flight (one per push replication). A push that started over would ask about everything again.
    const askedAgain = run.server.revsDiffTotal() - run.expected;
    console.log(`asked about again in _revs_diff after ${CUTS} cuts: ${askedAgain} documents`);
    expect(askedAgain).toBeGreaterThanOrEqual(0);
    expect(askedAgain).toBeLessThanOrEqual(CUTS * (RECORDS_BATCH + BLOBS_BATCH));
  });

  it('has every blob’s SHA-256 equal on the central server', async () => {
    const { checked, mismatches } = await checkCentralBlobs(run);
    expect(checked).toBe(run.day.blobs.size);
    expect(mismatches).toEqual([]);
  });

  it('lets the institution collect every answer file and the CSV', async () => {
    const out = path.join(run.appliance.dataDir, 'collected');
    const report = await collectSubmissions(openCentralDb(run.server.link(run.server.admin), 'h1'), out);
    expect(report).toMatchObject({ submissions: EXAMINEES, written: EXAMINEES, missing: [], mismatched: [] });
    const csv = (await readFile(report.csvPath, 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(EXAMINEES + 1);
    expect(csv[1]).toMatch(/^day-exam,S00001,1,true,false,/);
    const first = JSON.parse(await readFile(path.join(out, 'day-exam', 'S00001.answers.json'), 'utf8')) as {
      studentId: string;
    };
    expect(first.studentId).toBe('S00001');
  });

  it('shows the sync as done: idle, nothing pending, no error', () => {
    expect(run.sync.status()).toMatchObject({ configured: true, state: 'idle', lastError: null });
  });
});
