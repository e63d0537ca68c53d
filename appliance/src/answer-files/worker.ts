/**
 * The answer-file worker thread (see ./checker.ts): reads a received answer file from its temp
 * file, hashes and checks it (./check.ts), so that a storm's decoding, parsing and canonical checks, and
 * the garbage they leave, stay off the thread that serves the hall.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { hashAndCheckAnswerFile, type CheckedAnswerFile, type ExamForCheck } from './check.js';

/** A job: `exam` comes with the first job for `examKey` this worker gets. */
export interface CheckJob {
  id: number;
  examKey: number;
  exam?: ExamForCheck;
  path: string;
  size: number;
  studentId: string;
}

export type CheckReply = { id: number; checked: CheckedAnswerFile } | { id: number; error: string };

/** Exams kept by key; an exam updated on the appliance comes again under a new key. */
const EXAMS_KEPT = 16;
const exams = new Map<number, ExamForCheck>();

function run(job: CheckJob): CheckReply {
  if (job.exam) {
    exams.set(job.examKey, job.exam);
    if (exams.size > EXAMS_KEPT) exams.delete(exams.keys().next().value!);
  }
  const exam = exams.get(job.examKey);
  if (!exam) return { id: job.id, error: `exam ${job.examKey} was not sent to this worker` };
  const bytes = readFileSync(job.path);
  if (bytes.length !== job.size) return { id: job.id, error: `${job.path} has ${bytes.length} bytes, not ${job.size}` };
  return { id: job.id, checked: hashAndCheckAnswerFile(bytes, exam, job.studentId) };
}

parentPort?.on('message', (job: CheckJob) => {
  let reply: CheckReply;
  try {
    reply = run(job);
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
