/**
 * Crash test (DESIGN.md "Durability"): a storm of examinees uploading files and submitting answer
 * files against the real appliance process on real disk, SIGKILLed at seeded random moments and
 * restarted each time; clients retry across restarts as the PWA does. Afterwards every upload
 * that got a 2xx is present, intact (SHA-256 of the stored blob = the bytes sent) and its
 * receipt verifies; the journal replay left one submission document per acknowledged submission,
 * unique event seqs and chains that `verify-log` accepts. Prints the seed and the time from
 * restart to READY.
 *
 *   npm run test:crash            CRASH_SEED=<n> to replay a run
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex, sha256HexOfText } from '../../domain/canonical.js';
import { verifyChain, type ExamEvent } from '../../domain/events.js';
import { parsePublicKey, verifyReceipt, type Receipt } from '../../appliance/src/crypto/receipts.js';
import {
  ApplianceProcess,
  applianceEnv,
  HttpExaminee,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  startedAMinuteAgo,
  TEST_HALL_ID,
  writeExamFiles,
} from '../support/appliance-process.js';
import { docsInRange } from '../../appliance/src/store/database.js';
import { HallStore, type SubmissionDoc } from '../../appliance/src/store/hall-store.js';
import { seededRandom } from '../../domain/seeded-random.js';

const KILLS = 20;
const EXAMINEES = 1_000;
const CONCURRENCY = 40;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);

interface Ack {
  studentId: string;
  kind: 'file' | 'submission';
  bytes: Buffer;
  sha256: string;
  status: number;
  receipt?: Receipt;
}

/** The appliance of the moment: clients wait on `ready` while it is down. */
class Current {
  proc: ApplianceProcess | undefined;
  private up!: Promise<string>;
  private open!: (url: string) => void;
  constructor() {
    this.down();
  }
  down() {
    this.up = new Promise((r) => (this.open = r));
  }
  ready(): Promise<string> {
    return this.up;
  }
  set(proc: ApplianceProcess) {
    this.proc = proc;
    this.open(proc.baseUrl);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

describe('crash test: SIGKILL during a submission storm', () => {
  let tmp: string | undefined;
  const current = new Current();

  afterAll(async () => {
    await current.proc?.kill();
    if (tmp) await removeTempDir(tmp);
  });

  it(`keeps every acknowledged upload across ${KILLS} kills (seed ${SEED})`, async () => {
    console.log(`crash test seed: ${SEED} (replay with CRASH_SEED=${SEED} npm run test:crash)`);
    const rnd = seededRandom(SEED);
    tmp = await makeTempDir('proctor-crash-');
    const dataDir = path.join(tmp, 'data');
    const files = await writeExamFiles(tmp, { startMs: startedAMinuteAgo(), examinees: EXAMINEES });
    // A download cut by a kill still counts: allow enough of them for retries across 20 kills.
    await writeFile(
      files.rosterPath,
      [
        'studentId,name,accessCode,maxDownloads',
        ...files.roster.map((r) => `${r.studentId},${r.name},${r.accessCode},50`),
      ]
        .join('\n')
        .concat('\n'),
    );
    const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], applianceEnv(dataDir));
    expect(imported, imported.stderr).toMatchObject({ code: 0 });

    current.set(await ApplianceProcess.start({ dataDir }));

    /** One request, retried across kills until the appliance answers (any status). */
    let inFlight = 0;
    const call = async (examinee: HttpExaminee, send: () => Promise<Response>): Promise<Response> => {
      for (let attempt = 0; attempt < 200; attempt++) {
        examinee.baseUrl = await current.ready();
        inFlight++;
        try {
          const res = await send();
          await res.clone().arrayBuffer();
          return res;
        } catch {
          // The appliance was killed under this request: wait for the next one, send again.
        } finally {
          inFlight--;
        }
      }
      throw new Error(`${examinee.studentId}: no answer after 200 tries`);
    };

    const acks: Ack[] = [];
    const failures: string[] = [];
    let next = 0;
    let storming = true;
    const worker = async () => {
      while (next < EXAMINEES) {
        const line = files.roster[next++]!;
        const e = new HttpExaminee('', line.studentId, line.accessCode);
        const signIn = await call(e, () => e.signIn());
        if (signIn.status !== 200) {
          failures.push(`${e.studentId} sign-in ${signIn.status} ${await signIn.text()}`);
          continue;
        }
        const download = await call(e, () => e.get('/api/exam/package'));
        if (download.status !== 200) {
          failures.push(`${e.studentId} download ${download.status} ${await download.text()}`);
          continue;
        }
        const key = await call(e, () => e.get('/api/exam/key'));
        if (key.status !== 200) {
          failures.push(`${e.studentId} key ${key.status} ${await key.text()}`);
          continue;
        }
        // A file answer (a PDF of 4–64 KiB), then the answer file naming it.
        const pdf = Buffer.concat([
          Buffer.from(`%PDF-1.4 lab report of ${e.studentId}\n`),
          Buffer.alloc(4_096 + Math.floor(rnd() * 60_000), e.studentId),
        ]);
        const pdfSha = sha256Hex(pdf);
        const upload = await call(e, () =>
          fetch(`${e.baseUrl}/api/exam/files`, {
            method: 'POST',
            headers: e.headers({
              'content-type': 'application/octet-stream',
              'x-question-id': 'q5',
              'x-file-name': encodeURIComponent('report.pdf'),
              'x-content-sha256': pdfSha,
            }),
            body: pdf,
          }),
        );
        if (upload.status === 200 || upload.status === 201)
          acks.push({ studentId: e.studentId, kind: 'file', bytes: pdf, sha256: pdfSha, status: upload.status });
        else {
          failures.push(`${e.studentId} file ${upload.status} ${await upload.text()}`);
          continue;
        }
        const body = e.answerFile({
          q1: 'a',
          q2: rnd() < 0.5,
          q3: 23,
          q4: `Essay of ${e.studentId}: ${'entropy '.repeat(Math.floor(rnd() * 2_000))}`,
          q5: [{ sha256: pdfSha, name: 'report.pdf', size: pdf.length }],
        });
        const submitted = await call(e, () => e.submit(body));
        if (submitted.status === 200 || submitted.status === 201) {
          const { receipt } = (await submitted.json()) as { receipt: Receipt };
          const bytes = Buffer.from(body, 'utf8');
          acks.push({
            studentId: e.studentId,
            kind: 'submission',
            bytes,
            sha256: sha256HexOfText(body),
            status: submitted.status,
            receipt,
          });
        } else failures.push(`${e.studentId} submit ${submitted.status} ${await submitted.text()}`);
      }
    };

    const readyTimes: number[] = [];
    let killedWithRequestsInFlight = 0;
    const killer = async () => {
      for (let k = 0; k < KILLS; k++) {
        // A random moment 50–650 ms into this appliance's life.
        const delay = 50 + Math.floor(rnd() * 600);
        await new Promise((r) => setTimeout(r, delay));
        if (!storming) break;
        const proc = current.proc!;
        current.down();
        if (inFlight > 0) killedWithRequestsInFlight++;
        proc.signal('SIGKILL');
        const exit = await proc.exited;
        expect(exit.signal).toBe('SIGKILL');
        const t0 = performance.now();
        const restarted = await ApplianceProcess.start({ dataDir, readyTimeoutMs: 60_000 });
        readyTimes.push(performance.now() - t0);
        current.set(restarted);
      }
    };

    const storm = Promise.all(Array.from({ length: CONCURRENCY }, worker)).finally(() => (storming = false));
    await Promise.all([storm, killer()]);
    const kills = readyTimes.length;
    console.log(
      `crash test: ${kills} SIGKILLs with requests in flight, ${acks.length} acknowledged uploads ` +
        `(${acks.filter((a) => a.kind === 'submission').length} answer files, ${acks.filter((a) => a.kind === 'file').length} file answers), ` +
        `${acks.filter((a) => a.status === 200).length} of them answered as replays after a retry`,
    );
    console.log(
      `restart to READY (ms): min ${Math.round(Math.min(...readyTimes))}, median ${Math.round(median(readyTimes))}, ` +
        `max ${Math.round(Math.max(...readyTimes))} over ${kills} restarts`,
    );
    expect(failures).toEqual([]);
    expect(kills).toBe(KILLS);
    expect(killedWithRequestsInFlight).toBe(KILLS);
    expect(acks.filter((a) => a.kind === 'submission')).toHaveLength(EXAMINEES);

    // Every acknowledged submission is readable through the API of the last appliance, same receipt.
    const last = current.proc!;
    for (const a of acks.filter((x) => x.kind === 'submission').slice(0, 20)) {
      const line = files.roster.find((r) => r.studentId === a.studentId)!;
      const e = new HttpExaminee(last.baseUrl, line.studentId, line.accessCode);
      expect((await e.signIn()).status).toBe(200);
      const res = await e.get('/api/exam/submission');
      expect(res.status).toBe(200);
      expect(((await res.json()) as { receipt: Receipt }).receipt).toEqual(a.receipt);
    }
    current.down();
    expect(await last.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    // verify-log: both copies of every chain (database and journal) verify.
    const verified = await runApplianceCli(['verify-log', '--json'], applianceEnv(dataDir));
    expect(verified.code, `${verified.stdout}\n${verified.stderr}`).toBe(0);
    const report = JSON.parse(verified.stdout) as { ok: boolean; journal: { damaged: unknown[] } };
    expect(report.ok).toBe(true);

    // Blobs: each acknowledged upload on disk at its content address, byte for byte.
    for (const a of acks) {
      const stored = await readFile(path.join(dataDir, 'blobs', a.sha256.slice(0, 2), a.sha256));
      expect(sha256Hex(stored), `${a.kind} of ${a.studentId}`).toBe(a.sha256);
      expect(stored.equals(a.bytes)).toBe(true);
    }

    const store = await HallStore.open({ dataDir, clock: { now: () => Date.now() }, hallId: TEST_HALL_ID });
    try {
      const events: ExamEvent[] = await store.examEvents(files.exam.examId);
      expect(verifyChain(events)).toBeUndefined();
      const seqs = events.map((e) => e.seq);
      expect(new Set(seqs).size, 'event seqs are unique').toBe(seqs.length);
      const ids = events.map((e) => e._id);
      expect(new Set(ids).size).toBe(ids.length);

      const submissions: SubmissionDoc[] = [];
      for await (const page of docsInRange<SubmissionDoc>(store.db, {
        start: `submission:${files.exam.examId}:`,
        end: `submission:${files.exam.examId}:\ufff0`,
      }))
        submissions.push(...page);
      const acked = acks.filter((a) => a.kind === 'submission');
      // One submission document per acknowledged submission, and one accepted event each.
      expect(submissions).toHaveLength(acked.length);
      const accepted = events.filter((e) => e.kind === 'submission-accepted');
      expect(accepted).toHaveLength(acked.length);
      const fileEvents = events.filter((e) => e.kind === 'file-uploaded');
      const fileKeys = fileEvents.map((e) => `${e.studentId}|${(e.data as { sha256: string }).sha256}`);
      expect(new Set(fileKeys).size, 'one file-uploaded event per file').toBe(fileKeys.length);

      const key = parsePublicKey(store.secrets.value.receiptPublicKeyPem);
      for (const a of acked) {
        const doc = submissions.find((s) => s.studentId === a.studentId);
        expect(doc, a.studentId).toBeDefined();
        expect(doc!.sha256).toBe(a.sha256);
        expect(doc!.receipt).toEqual(a.receipt);
        const check = verifyReceipt(a.receipt, key);
        expect(check.ok, `receipt of ${a.studentId}`).toBe(true);
      }
    } finally {
      await store.close();
    }

    // And the CLI verifies receipts against the data folder's key (a few: each run starts node).
    for (const a of acks.filter((x) => x.kind === 'submission').slice(0, 2)) {
      const file = path.join(tmp, `receipt-${a.studentId}.json`);
      await writeFile(file, JSON.stringify(a.receipt));
      const check = await runApplianceCli(['verify-receipt', file], applianceEnv(dataDir));
      expect(check, check.stderr).toMatchObject({ code: 0 });
      expect(check.stdout).toContain(`VALID receipt: exam ${files.exam.examId}, student ${a.studentId}`);
    }
  }, 240_000);
});
