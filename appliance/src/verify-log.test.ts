import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { eventHash, type ExamEvent } from '../../domain/events.js';
import { runCli } from './cli.js';
import { ApplianceProcess } from '../../tests/support/appliance-process.js';
import type { JournalDoc } from './store/journal.js';
import { journalRecordLine, readJournal } from './store/journal-reader.js';
import { ExamineeClient, openTestAppliance, testExam } from '../../tests/support/appliance.js';
import type { EventFinding } from './verify-log-chains.js';
import type { VerifyLogReport } from './verify-log.js';

const MIN = 60_000;
const T0 = Date.parse('2026-06-01T08:00:00Z');

let tmp: string;
/** The data folder of a stopped appliance after a short exam day; never changed by a test. */
let original: string;
/** Its events in chain order, and its journal records' documents. */
let events: ExamEvent[];
let out: string;
let err: string;

async function cli(...args: string[]): Promise<number> {
  out = '';
  err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return await runCli(args);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** Runs verify-log --json and returns its exit code and report. */
async function verifyJson(): Promise<{ code: number; report: VerifyLogReport }> {
  const code = await cli('verify-log', '--json');
  return { code, report: JSON.parse(out) as VerifyLogReport };
}

let copies = 0;
/** A fresh copy of the data folder, which verify-log will read (PROCTOR_DATA_DIR). */
async function dataCopy(): Promise<string> {
  const dir = path.join(tmp, `copy-${++copies}`);
  await cp(original, dir, { recursive: true });
  vi.stubEnv('PROCTOR_DATA_DIR', dir);
  return dir;
}

/** Opens the copy's PouchDB directly, as someone with access to the box could. */
async function withDb(dataDir: string, edit: (db: PouchDB.Database) => Promise<void>): Promise<void> {
  const db = new PouchDB(path.join(dataDir, 'db', 'hall'));
  try {
    await edit(db);
  } finally {
    await db.close();
  }
}

/** Rewrites the copy's journal record by record, with valid line checksums. */
async function rewriteJournal(dataDir: string, edit: (records: JournalDoc[][]) => JournalDoc[][]): Promise<void> {
  const { records } = await readJournal(path.join(dataDir, 'journal'));
  const edited = edit(records.map((r) => r.docs));
  await writeFile(path.join(dataDir, 'journal', 'journal.log'), edited.map((docs) => journalRecordLine(docs)).join(''));
}

const eventAt = (seq: number): ExamEvent => {
  const e = events.find((x) => x.seq === seq);
  if (!e) throw new Error(`no event with seq ${seq}`);
  return e;
};

const firstBadOf = (report: VerifyLogReport): EventFinding | undefined => report.chains[0]?.firstBad;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'verify-log-test-'));
  original = path.join(tmp, 'original');
  const clock = new FakeClock(T0);
  const start = T0 + 30 * MIN;
  const appliance = await openTestAppliance(clock, { exam: testExam(start), dataDir: original });
  const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
  const alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
  expect((await ada.signIn()).status).toBe(200);
  expect((await ada.get('/api/exam/package')).status).toBe(200);
  expect((await alan.signIn()).status).toBe(200);
  expect((await alan.get('/api/exam/package')).status).toBe(200);
  clock.set(start);
  expect((await ada.get('/api/exam/key')).status).toBe(200);
  expect((await alan.get('/api/exam/key')).status).toBe(200);
  clock.advance(20 * MIN);
  expect((await ada.submit(ada.answerFile({ q1: 'a', q2: true }))).status).toBe(201);
  await appliance.store.flushIndex();
  events = (await appliance.store.examEvents('exam-1')).sort((a, b) => a.seq - b.seq);
  await appliance.close();
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('verify-log on an untouched data folder', () => {
  it('verifies both copies and prints each chain’s events, head seq and hash', async () => {
    expect(events.map((e) => e.kind)).toEqual([
      'examinee-signed-in',
      'package-downloaded',
      'examinee-signed-in',
      'package-downloaded',
      'exam-started',
      'exam-started',
      'submission-accepted',
    ]);
    const dir = await dataCopy();
    const head = eventAt(7);
    const before = await readFile(path.join(dir, 'journal', 'journal.log'));

    expect(await cli('verify-log')).toBe(0);
    expect(err).toBe('');
    expect(out).toContain(`OK   exam-1 / ${head.applianceId}: 7 events, head seq 7 hash ${head.hash} in both copies`);
    expect(out).toMatch(/^Result: OK, 1 chain verified in both copies\.$/m);
    expect(out).toMatch(/^Note: A hash chain cannot show that its last events were removed/m);

    const { code, report } = await verifyJson();
    expect(code).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      database: { events: 7 },
      journal: { exists: true, events: 7, tornBytes: 0, damaged: [] },
      chains: [
        {
          examId: 'exam-1',
          applianceId: head.applianceId,
          ok: true,
          headsAgree: true,
          database: { events: 7, head: { seq: 7, hash: head.hash } },
          journal: { events: 7, head: { seq: 7, hash: head.hash } },
          findings: [],
        },
      ],
    });
    expect(report.chains[0]?.firstBad).toBeUndefined();

    expect(await cli('verify-log', '--exam', 'exam-1')).toBe(0);
    // Reading changed nothing.
    expect(await readFile(path.join(dir, 'journal', 'journal.log'))).toEqual(before);
  });

  it('refuses bad arguments, an unknown exam and a missing data folder with exit 2', async () => {
    await dataCopy();
    expect(await cli('verify-log', '--exam')).toBe(2);
    expect(err).toMatch(/--exam needs an exam id/);
    expect(await cli('verify-log', 'exam-1')).toBe(2);
    expect(err).toMatch(/unexpected argument "exam-1"/);
    expect(await cli('verify-log', '--exam', 'no-such-exam')).toBe(2);
    expect(err).toMatch(/there is no exam "no-such-exam"/);
    vi.stubEnv('PROCTOR_DATA_DIR', path.join(tmp, 'nowhere'));
    expect(await cli('verify-log')).toBe(2);
    expect(err).toMatch(/there is no data folder at .*nowhere/);
  });
});

describe('verify-log names the first bad event of a tampered copy', () => {
  it('an event’s data edited in PouchDB: hash-mismatch in the database', async () => {
    const dir = await dataCopy();
    const target = eventAt(2);
    await withDb(dir, async (db) => {
      const doc = await db.get(target._id);
      await db.put({ ...doc, data: { ...(doc.data as object), downloadNo: 2 } }); // rev 2-…
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(firstBadOf(report)).toMatchObject({
      seq: 2,
      id: target._id,
      kind: 'package-downloaded',
      reason: 'hash-mismatch',
      copy: 'database',
    });
    const findings = report.chains[0]?.findings ?? [];
    expect(findings.map((f) => [f.seq, f.reason, f.copy])).toEqual([
      [2, 'hash-mismatch', 'database'],
      [2, 'revision-mismatch', 'database'],
      [2, 'differs-from-journal', 'database'],
    ]);
    expect(findings[1]?.detail).toMatch(/^revision 2-\w+, expected 1-\w+ \(it was written to after it was stored\)$/);
    expect(findings[2]?.detail).toMatch(/in data$/);

    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(
      `BAD  exam-1 / ${target.applianceId}: first bad event: seq 2 ${target._id} (package-downloaded): ` +
        'hash-mismatch in the database: its hash is not the SHA-256 of its content',
    );
    expect(out).toMatch(/^Result: FAILED, 1 of 1 chain bad\.$/m);
  });

  it('an event’s time edited in PouchDB with its hash recomputed: caught by its revision', async () => {
    const dir = await dataCopy();
    const target = eventAt(5);
    await withDb(dir, async (db) => {
      const doc = (await db.get(target._id)) as unknown as ExamEvent;
      const forged = { ...doc, at: doc.at - 10 * MIN };
      await db.put({ ...forged, hash: eventHash(forged) } as unknown as PouchDB.Doc);
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(firstBadOf(report)).toMatchObject({
      seq: 5,
      id: target._id,
      kind: 'exam-started',
      reason: 'revision-mismatch',
      copy: 'database',
    });
    // The forged hash then breaks the link from the next event.
    expect(report.chains[0]?.findings).toContainEqual(
      expect.objectContaining({ seq: 6, id: eventAt(6)._id, reason: 'prev-hash-mismatch', copy: 'database' }),
    );
  });

  it('a forged version of an event added beside the original in PouchDB: revision-mismatch (conflict)', async () => {
    const dir = await dataCopy();
    const target = eventAt(6);
    await withDb(dir, async (db) => {
      const { _rev: original, ...doc } = await db.get(target._id);
      // The lowest possible revision id: the original stays the winner, so the chain still verifies.
      const forged = { ...doc, _rev: `1-${'0'.repeat(32)}`, data: { via: 'exam-password' } };
      expect(await db.bulkDocs([forged], { new_edits: false })).toEqual([]);
      expect((await db.get(target._id))._rev).toBe(original);
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.chains[0]?.findings).toEqual([
      expect.objectContaining({
        seq: 6,
        id: target._id,
        kind: 'exam-started',
        reason: 'revision-mismatch',
        copy: 'database',
        detail: `conflicting revisions 1-${'0'.repeat(32)}`,
      }),
    ]);
  });

  it('an event deleted from PouchDB: missing-in-database', async () => {
    const dir = await dataCopy();
    const target = eventAt(3);
    await withDb(dir, async (db) => {
      const doc = await db.get(target._id);
      await db.put({ _id: doc._id, _rev: doc._rev, _deleted: true });
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(firstBadOf(report)).toMatchObject({
      seq: 3,
      id: target._id,
      kind: 'examinee-signed-in',
      reason: 'missing-in-database',
      copy: 'database',
    });
    expect(report.chains[0]?.findings).toContainEqual(
      expect.objectContaining({ seq: 3, id: target._id, reason: 'sequence-gap', copy: 'database' }),
    );
    expect(report.chains[0]).toMatchObject({ database: { events: 6 }, journal: { events: 7 }, headsAgree: true });
    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(`first bad event: seq 3 ${target._id} (examinee-signed-in): missing-in-database`);
    expect(out).not.toContain('crash before they were indexed');
  });

  it('the last event missing from PouchDB: missing-in-database, with the hint that a start replays it', async () => {
    const dir = await dataCopy();
    const last = eventAt(7);
    await withDb(dir, async (db) => {
      const doc = await db.get(last._id);
      await db.put({ _id: doc._id, _rev: doc._rev, _deleted: true });
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(firstBadOf(report)).toMatchObject({ seq: 7, id: last._id, reason: 'missing-in-database', copy: 'database' });
    expect(report.chains[0]?.findings).toHaveLength(1); // the database's own chain still verifies
    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(
      `head seq 6 hash ${eventAt(6).hash} in the database, head seq 7 hash ${last.hash} in the journal`,
    );
    expect(out).toMatch(/^Note: Events missing from the database only at the end of a chain can be left by a crash/m);
  });

  it('a journal record’s JSON edited with its line checksum fixed: hash-mismatch in the journal', async () => {
    const dir = await dataCopy();
    const target = eventAt(4);
    await rewriteJournal(dir, (records) =>
      records.map((docs) =>
        docs.map((d) => (d._id === target._id ? { ...d, data: { ...(d.data as object), downloadNo: 7 } } : d)),
      ),
    );

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.journal).toMatchObject({ damaged: [], tornBytes: 0 }); // a "valid" record
    expect(firstBadOf(report)).toMatchObject({
      seq: 4,
      id: target._id,
      kind: 'package-downloaded',
      reason: 'hash-mismatch',
      copy: 'journal',
    });
    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(`first bad event: seq 4 ${target._id} (package-downloaded): hash-mismatch in the journal`);
  });

  it('the last journal record removed: missing-in-journal, heads differ', async () => {
    const dir = await dataCopy();
    const last = eventAt(7);
    await rewriteJournal(dir, (records) => {
      expect(records.at(-1)?.map((d) => d._id)).toContain(last._id);
      return records.slice(0, -1);
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(firstBadOf(report)).toMatchObject({
      seq: 7,
      id: last._id,
      kind: 'submission-accepted',
      reason: 'missing-in-journal',
      copy: 'journal',
    });
    // The journal's own chain still verifies: only the comparison finds the loss.
    expect(report.chains[0]?.findings).toHaveLength(1);
    expect(report.chains[0]).toMatchObject({
      headsAgree: false,
      database: { head: { seq: 7 } },
      journal: { head: { seq: 6, hash: eventAt(6).hash } },
    });
    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(
      `head seq 7 hash ${last.hash} in the database, head seq 6 hash ${eventAt(6).hash} in the journal`,
    );
  });

  it('two events’ seq swapped in both copies: wrong-chain at the first swapped seq', async () => {
    const dir = await dataCopy();
    const [third, fourth] = [eventAt(3), eventAt(4)];
    const swapped = (d: JournalDoc): JournalDoc =>
      d._id === third._id ? { ...d, seq: 4 } : d._id === fourth._id ? { ...d, seq: 3 } : d;
    await rewriteJournal(dir, (records) => records.map((docs) => docs.map(swapped)));
    await withDb(dir, async (db) => {
      for (const id of [third._id, fourth._id]) await db.put(swapped(await db.get(id)));
    });

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    // The event stored as seq 4 now claims seq 3, in both copies alike.
    expect(firstBadOf(report)).toMatchObject({
      seq: 3,
      id: fourth._id,
      kind: 'package-downloaded',
      reason: 'wrong-chain',
      copy: 'both',
    });
    expect(firstBadOf(report)?.detail).toMatch(/its id does not match its members \(.*seq 3\)/);
  });
});

describe('verify-log and the journal file itself', () => {
  it('fails on a damaged record followed by others; the events in it are missing from the journal', async () => {
    const dir = await dataCopy();
    const file = path.join(dir, 'journal', 'journal.log');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"seq":', '"seq" :'); // checksum no longer matches
    await writeFile(file, lines.join('\n'));

    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.journal.damaged).toEqual([expect.objectContaining({ line: 2, problem: 'bad-checksum' })]);
    expect(firstBadOf(report)).toMatchObject({ seq: 2, reason: 'missing-in-journal', copy: 'journal' });
    expect(await cli('verify-log')).toBe(1);
    expect(out).toMatch(/^BAD {2}journal line 2 \(byte \d+, \d+ bytes\) is damaged \(bad-checksum\)/m);
  });

  it('only notes a torn last record (never acknowledged) and leaves it in place', async () => {
    const dir = await dataCopy();
    const file = path.join(dir, 'journal', 'journal.log');
    const tail = '0123456789abcdef\t{"docs":[{"_id":"event:exam-1'; // cut off before its LF
    const torn = `${await readFile(file, 'utf8')}${tail}`;
    await writeFile(file, torn);

    expect(await cli('verify-log')).toBe(0);
    expect(out).toContain(`Note: The journal ends with a torn record of ${tail.length} bytes`);
    expect(await readFile(file, 'utf8')).toBe(torn);
  });
});

describe('verify-log checks every blob the events name', () => {
  /** The accepted submission's answer file: its hash, size and path in a data folder. */
  const answerFile = (dataDir: string) => {
    const event = eventAt(7);
    if (event.kind !== 'submission-accepted') throw new Error(`seq 7 is ${event.kind}`);
    const { sha256, size } = event.data;
    return { event, sha256, size, file: path.join(dataDir, 'blobs', sha256.slice(0, 2), sha256) };
  };

  it('finds the answer file there with its size and SHA-256', async () => {
    const dir = await dataCopy();
    const { size, file } = answerFile(dir);
    expect((await readFile(file)).length).toBe(size);
    expect(await cli('verify-log')).toBe(0);
    expect(out).toContain(
      `OK   blobs ${path.join(dir, 'blobs')}: 1 named by events, all there with their size and SHA-256`,
    );
    const { report } = await verifyJson();
    expect(report.blobs).toEqual({ path: path.join(dir, 'blobs'), checked: 1, intact: 1, bad: 0, findings: [] });
  });

  it('names a deleted answer file with its examinee and event, and exits 1', async () => {
    const dir = await dataCopy();
    const { event, sha256, size, file } = answerFile(dir);
    await rm(file);

    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(`BAD  blobs ${path.join(dir, 'blobs')}: 1 of 1 named by events missing or damaged`);
    expect(out).toContain(
      `blob ${sha256} (${size} bytes) is missing: no file; named by submission-accepted of S1 (${event._id})`,
    );
    expect(out).toMatch(/^Result: FAILED, 0 of 1 chain bad, 1 blob missing or damaged\.$/m);
    const { code, report } = await verifyJson();
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.chains[0]?.ok).toBe(true);
    expect(report.blobs?.findings).toEqual([
      {
        sha256,
        size,
        problem: 'missing',
        detail: 'no file',
        path: file,
        events: [{ eventId: event._id, examId: 'exam-1', kind: 'submission-accepted', seq: 7, studentId: 'S1' }],
      },
    ]);
  });

  it('names a damaged answer file: other bytes of the same size, or cut short', async () => {
    const dir = await dataCopy();
    const { sha256, size, file } = answerFile(dir);
    const original = await readFile(file);
    const flipped = Buffer.from(original);
    flipped[0] = flipped[0]! ^ 0x01;
    await writeFile(file, flipped);

    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(
      `blob ${sha256} (${size} bytes) is damaged: its content has SHA-256 ${createHash('sha256').update(flipped).digest('hex')}`,
    );
    await writeFile(file, original.subarray(0, 10));
    expect(await cli('verify-log')).toBe(1);
    expect(out).toContain(`blob ${sha256} (${size} bytes) is damaged: 10 bytes, not ${size}`);
  });
});

describe('verify-log while the appliance runs', () => {
  it('refuses with the "in use" message and exit 2', async () => {
    const dir = await dataCopy();
    const running = await ApplianceProcess.start({ dataDir: dir });
    try {
      expect(await cli('verify-log')).toBe(2);
      expect(err).toContain(`the data folder ${dir} is in use by a running appliance: stop it first`);
    } finally {
      await running.stop();
    }
  });
});
