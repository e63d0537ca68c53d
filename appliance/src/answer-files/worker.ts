/**
 * The answer-file worker thread (see ./checker.ts): reads a received answer file from its temp
 * file, hashes and checks it (./check.ts), so that a storm's decoding, parsing and canonical checks, and
 * the garbage they leave, stay off the thread that serves the hall.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { hashAndCheckAnswerFile, type CheckedAnswerFile } from './check.js';
import type { ExamForCheck } from './summary.js';

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
  const bytes = readWhole(job.path, job.size);
  if (!bytes) return { id: job.id, error: `${job.path} is not ${job.size} bytes long` };
  return { id: job.id, checked: hashAndCheckAnswerFile(bytes, exam, job.studentId) };
}

/**
 * One buffer, reused for every file (and grown for a larger one): reading a storm's thousand
 * files into new buffers would make the worker collect garbage for them over and over.
 */
let scratch = Buffer.allocUnsafeSlow(256 * 1024);

/** The file's bytes, a view into the scratch buffer; undefined when it is not `size` bytes long. */
function readWhole(file: string, size: number): Buffer | undefined {
  if (scratch.length < size + 1) scratch = Buffer.allocUnsafeSlow(size + 1);
  const fd = openSync(file, 'r');
  try {
    let got = 0;
    // One byte more than expected is asked for: a longer file is noticed.
    for (let n; got <= size && (n = readSync(fd, scratch, got, size + 1 - got, got)) > 0;) got += n;
    return got === size ? scratch.subarray(0, size) : undefined;
  } finally {
    closeSync(fd);
  }
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
