/**
 * Test and bench support: a whole exam day's results recorded on an appliance the way the exam
 * day records them — journaled events (sign-in, download, start, integrity events, presence,
 * file uploads, accepted submissions) with their submission documents, and the answer files and
 * file answers as durable blob files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Hono } from 'hono';
import { FakeClock, type Clock } from '../../domain/clock.js';
import { generateAccessCode, rosterEntrySchema, SCHEMA_VERSION, type RosterEntry } from '../../domain/exam-format.js';
import type { NewEvent } from '../../domain/events.js';
import { buildApp } from '../../appliance/src/app.js';
import { toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { createServices, type Services } from '../../appliance/src/services.js';
import { HallStore, submissionDocId, type SubmissionDoc } from '../../appliance/src/store/hall-store.js';
import { testExam } from './appliance.js';
import type { SyncStatusSource } from '../../sync/sync-status.js';

export const DAY_START = Date.parse('2026-12-01T09:00:00.000Z');

/** A roster of `n` examinees S00001 ... with random access codes. */
export function makeRoster(n: number, prefix = 'S'): RosterEntry[] {
  return Array.from({ length: n }, (_, i) =>
    rosterEntrySchema.parse({
      studentId: `${prefix}${String(i + 1).padStart(5, '0')}`,
      name: `Examinee ${i + 1}`,
      accessCode: generateAccessCode((k) => randomBytes(k)),
      maxDownloads: 2,
    }),
  );
}

export interface ExamDayResult {
  examId: string;
  /** Every blob the day produced: SHA-256 → size. */
  blobs: Map<string, number>;
  events: number;
  submissions: number;
}

/** Random printable text of about `bytes` bytes (answer files compress like text, not like noise). */
function essay(bytes: number): string {
  return randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .replace(/[+/]/g, ' ')
    .slice(0, bytes);
}

async function commitBlob(store: HallStore, bytes: Buffer): Promise<{ sha256: string; size: number }> {
  const received = await store.blobs.receive(
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(bytes));
        controller.close();
      },
    }),
    bytes.length + 1,
  );
  if (!received.ok) throw new Error(`blob not received: ${received.code}`);
  await store.blobs.commit(received.blob);
  return { sha256: received.blob.sha256, size: received.blob.size };
}

/**
 * Records an exam day for `examinees` examinees on the store: each signs in, downloads, starts,
 * causes `integrityEvents` integrity events and a presence change, and submits an answer file of
 * about `answerBytes`; every `fileEvery`-th also uploads a file answer of `fileBytes` (more than
 * one chunk when above 512 KiB).
 */
export async function recordExamDay(
  store: HallStore,
  options: {
    examinees: number;
    examId?: string;
    answerBytes?: number;
    fileEvery?: number;
    fileBytes?: number;
    integrityEvents?: number;
    concurrency?: number;
  },
): Promise<ExamDayResult> {
  const examId = options.examId ?? 'day-exam';
  const exam = testExam(DAY_START, { examId });
  const roster = makeRoster(options.examinees);
  await store.putExam(
    toExamDoc(exam),
    roster.map((e) => toExamineeDoc(examId, e)),
  );
  const blobs = new Map<string, number>();
  let events = 0;
  const one = async (entry: RosterEntry, i: number) => {
    const studentId = entry.studentId;
    const actor = { role: 'examinee' as const, studentId };
    const list: NewEvent[] = [
      { kind: 'examinee-signed-in', actor, studentId, data: { deviceId: `device-${studentId}`, sessionNo: 1 } },
      { kind: 'package-downloaded', actor, studentId, data: { downloadNo: 1, packageVersion: 'v1' } },
      { kind: 'exam-started', actor, studentId, data: { via: 'key-released' } },
    ];
    for (let k = 0; k < (options.integrityEvents ?? 3); k++)
      list.push({ kind: 'integrity-event', actor, studentId, data: { type: 'window-blur' } });
    list.push({ kind: 'presence-changed', actor: { role: 'system' }, studentId, data: { connected: false } });
    if (options.fileEvery && i % options.fileEvery === 0) {
      const file = await commitBlob(store, randomBytes(options.fileBytes ?? 600 * 1024));
      blobs.set(file.sha256, file.size);
      list.push({ kind: 'file-uploaded', actor, studentId, data: { questionId: 'q5', name: 'report.pdf', ...file } });
    }
    const answers = Buffer.from(
      JSON.stringify({
        format: 'answers/v1',
        examId,
        studentId,
        answers: { q1: 'a', q2: true, q4: essay(options.answerBytes ?? 6_000) },
        flagged: [],
      }),
    );
    const answerFile = await commitBlob(store, answers);
    blobs.set(answerFile.sha256, answerFile.size);
    const submissionId = submissionDocId(examId, studentId, store.applianceId, 1);
    const receivedAt = DAY_START + 60 * 60_000 + i * 100;
    const doc: SubmissionDoc = {
      _id: submissionId,
      type: 'submission',
      schemaVersion: SCHEMA_VERSION,
      examId,
      studentId,
      n: 1,
      applianceId: store.applianceId,
      ...answerFile,
      submissionType: 'manual',
      receivedAt,
      late: false,
      receipt: store.receiptSigner.sign({
        format: 'receipt/v2',
        applianceId: store.applianceId,
        hallId: store.hallId,
        examId,
        studentId,
        submissionId,
        n: 1,
        ...answerFile,
        submissionType: 'manual',
        receivedAt: new Date(receivedAt).toISOString(),
        timing: 'on-time',
      }),
      score: { score: 3, maxScore: 14, answered: 3, total: 5 },
    };
    list.push({
      kind: 'submission-accepted',
      actor,
      studentId,
      data: { submissionId, n: 1, ...answerFile, submissionType: 'manual', late: false },
    });
    events += list.length;
    await store.record(examId, list, [doc as unknown as SubmissionDoc & { [k: string]: unknown }]).durable;
  };
  const concurrency = options.concurrency ?? 50;
  for (let i = 0; i < roster.length; i += concurrency) {
    await Promise.all(roster.slice(i, i + concurrency).map((e, k) => one(e, i + k)));
  }
  await store.flushIndex();
  return { examId, blobs, events, submissions: roster.length };
}

export interface SyncTestAppliance {
  dataDir: string;
  store: HallStore;
  services: Services;
  app: Hono;
}

/** An appliance (real LevelDB in a temp folder, or `dataDir`) with no exam, and its HTTP app. */
export async function openSyncTestAppliance(
  options: { clock?: Clock; hallId?: string; dataDir?: string; sync?: SyncStatusSource } = {},
): Promise<SyncTestAppliance> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'sync-test-')));
  const clock = options.clock ?? new FakeClock(DAY_START - 30 * 60_000);
  const store = await HallStore.open({ dataDir, clock, hallId: options.hallId ?? 'h1' });
  const services = createServices(
    store,
    { signInAttempts: 10, maxFileBytes: 25 * 1024 * 1024, presenceTimeoutSeconds: 30 },
    options.sync,
  );
  const app = buildApp({
    services,
    version: '0.1.0',
    client: { kind: 'placeholder', html: '<!doctype html><title>test</title>' },
    log: () => undefined,
  });
  return { dataDir, store, services, app };
}
