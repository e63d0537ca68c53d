/**
 * Durability with a real process on real disk (DESIGN.md "Durability"): an acknowledged
 * submission survives `kill -9`, and, since SIGKILL keeps the page cache, strace shows that the
 * blob and the journal are on disk (fsync, rename, fsync of the folder, fdatasync of the
 * journal) before the 201 goes out, which is what makes it survive a power cut too.
 */
import { constants } from 'node:fs';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex, sha256HexOfText } from '../../domain/canonical.js';
import { verifyChain } from '../../domain/events.js';
import type { Receipt } from './crypto/receipts.js';
import {
  ApplianceProcess,
  applianceEnv,
  fdTarget,
  HttpExaminee,
  makeTempDir,
  parseStrace,
  quotedArgs,
  removeTempDir,
  runApplianceCli,
  startedAMinuteAgo,
  TEST_HALL_ID,
  writeExamFiles,
  type TracedCall,
} from '../../tests/support/appliance-process.js';
import { HallStore } from './store/hall-store.js';

const STRACE = '/usr/bin/strace';

interface Acknowledged {
  examinee: HttpExaminee;
  body: string;
  status: number;
  receipt: Receipt;
  /** The response body as sent. */
  text: string;
}

describe('durability of acknowledged submissions (real process, real disk)', () => {
  const started: ApplianceProcess[] = [];
  let tmp: string | undefined;

  const start = async (options: Parameters<typeof ApplianceProcess.start>[0]) => {
    const p = await ApplianceProcess.start(options);
    started.push(p);
    return p;
  };

  afterEach(async () => {
    for (const p of started.splice(0)) await p.kill();
    if (tmp) await removeTempDir(tmp);
    tmp = undefined;
  });

  /** A temp folder with an exam that began a minute ago and `examinees` examinees, imported. */
  const importedExam = async (examinees: number) => {
    tmp = await makeTempDir('proctor-durability-');
    const dataDir = path.join(tmp, 'data');
    const files = await writeExamFiles(tmp, { startMs: startedAMinuteAgo(), examinees });
    const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], applianceEnv(dataDir));
    expect(imported, imported.stderr).toMatchObject({ code: 0 });
    return { dataDir, ...files };
  };

  it('keeps every submission acknowledged before a SIGKILL: receipt, blob bytes, chained events', async () => {
    const { dataDir, roster, exam } = await importedExam(3);
    const first = await start({ dataDir });
    const examinees = roster.map((r) => new HttpExaminee(first.baseUrl, r.studentId, r.accessCode));
    await Promise.all(examinees.map((e) => e.prepare()));

    // All three submit at once; the moment the last acknowledgement is in, kill -9.
    let acknowledged = 0;
    let killedWhileRunning = false;
    const acks: Acknowledged[] = await Promise.all(
      examinees.map(async (examinee, i) => {
        const body = examinee.answerFile({
          q1: 'a',
          q2: i % 2 === 0,
          q3: 23,
          q4: `Answer of ${examinee.studentId}: entropy grows.`,
        });
        const res = await examinee.submit(body);
        const text = await res.text();
        const json = (res.ok ? JSON.parse(text) : {}) as { receipt: Receipt };
        if (res.ok && ++acknowledged === examinees.length) {
          killedWhileRunning = first.running;
          first.signal('SIGKILL');
        }
        return { examinee, body, status: res.status, receipt: json.receipt, text };
      }),
    );
    expect(
      acks.map((a) => a.status),
      `${acks.map((a) => a.text).join('\n')}\n${first.stderr}`,
    ).toEqual([201, 201, 201]);
    expect(killedWhileRunning).toBe(true);
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Restart on the same folder: the old tokens still work and every receipt is there.
    const second = await start({ dataDir });
    for (const { examinee, receipt, body } of acks) {
      examinee.baseUrl = second.baseUrl;
      const res = await examinee.get('/api/exam/submission');
      expect(res.status).toBe(200);
      const current = (await res.json()) as { sha256: string; size: number; receipt: Receipt };
      expect(current.receipt).toEqual(receipt);
      expect(current).toMatchObject({ sha256: receipt.payload.sha256, size: Buffer.byteLength(body) });
      // The answer file is on disk at its content address, byte for byte.
      const sha = receipt.payload.sha256;
      const stored = await readFile(path.join(dataDir, 'blobs', sha.slice(0, 2), sha));
      expect(sha256Hex(stored)).toBe(sha);
      expect(stored.toString('utf8')).toBe(body);
    }
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    // Third start, in-process: the events are in the database with an intact hash chain.
    const store = await HallStore.open({ dataDir, clock: { now: () => Date.now() }, hallId: TEST_HALL_ID });
    try {
      const events = await store.examEvents(exam.examId);
      expect(verifyChain(events)).toBeUndefined();
      for (const { examinee, receipt } of acks) {
        const kinds = events.filter((e) => e.studentId === examinee.studentId).map((e) => e.kind);
        expect(kinds).toEqual(['examinee-signed-in', 'package-downloaded', 'exam-started', 'submission-accepted']);
        expect(await store.submission(receipt.payload.submissionId)).toMatchObject({
          sha256: receipt.payload.sha256,
          receipt,
        });
      }
      expect(events).toHaveLength(4 * acks.length);
    } finally {
      await store.close();
    }

    // Each receipt verifies with the CLI against the data folder's key.
    const checks = await Promise.all(
      acks.map(async ({ examinee, receipt }) => {
        const file = path.join(tmp!, `receipt-${examinee.studentId}.json`);
        await writeFile(file, JSON.stringify(receipt));
        return { examinee, check: await runApplianceCli(['verify-receipt', file], applianceEnv(dataDir)) };
      }),
    );
    for (const { examinee, check } of checks) {
      expect(check, check.stderr).toMatchObject({ code: 0 });
      expect(check.stdout).toContain(`VALID receipt: exam ${exam.examId}, student ${examinee.studentId}`);
    }
  }, 60_000);

  it('puts blob and journal on disk before the 201 leaves (strace: fsync, rename, fsync folder, fdatasync, then the answer)', async () => {
    try {
      await access(STRACE, constants.X_OK);
    } catch {
      throw new Error(`${STRACE} is missing: this test needs strace (apt-get install strace); it must not be skipped`);
    }
    const { dataDir, roster } = await importedExam(1);
    const tracePath = path.join(tmp!, 'trace.txt');
    const syscalls = 'openat,write,writev,pwrite64,pwritev,fsync,fdatasync,rename,renameat,renameat2,sendto,sendmsg';
    const traced = await start({
      dataDir,
      wrapper: [STRACE, '-f', '-tt', '-qq', '-yy', '-e', `trace=${syscalls}`, '-s', '80', '-o', tracePath],
    });
    const ada = new HttpExaminee(traced.baseUrl, roster[0]!.studentId, roster[0]!.accessCode);
    await ada.prepare();
    const body = ada.answerFile({ q1: 'a', q2: true, q4: 'Disorder tends to grow.' });
    const res = await ada.submit(body);
    const text = await res.text();
    expect(res.status, `${text}\n${traced.stderr}`).toBe(201);
    const { receipt } = JSON.parse(text) as { receipt: Receipt };
    // SIGTERM to node (strace, started with -o, blocks fatal signals); strace ends with it.
    expect(await traced.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const calls = parseStrace(await readFile(tracePath, 'utf8'));
    const sha = receipt.payload.sha256;
    const blobTmpDir = path.join(dataDir, 'blobs', 'tmp') + path.sep;
    const shardDir = path.join(dataDir, 'blobs', sha.slice(0, 2));
    const journalPath = path.join(dataDir, 'journal', 'journal.log');
    const ok = (c: TracedCall) => c.result === '0' && c.endIndex !== undefined;
    const isSync = (c: TracedCall) => c.name === 'fsync' || c.name === 'fdatasync';
    const end = (c: TracedCall) => c.endIndex!;

    // (b) the rename of a temp file to blobs/<2hex>/<sha>.
    const renames = calls.filter(
      (c) => /^rename(at2?)?$/.test(c.name) && ok(c) && quotedArgs(c)[1] === path.join(shardDir, sha),
    );
    expect(renames, 'one rename into the content address').toHaveLength(1);
    const rename = renames[0]!;
    const tmpFile = quotedArgs(rename)[0]!;
    expect(tmpFile.startsWith(blobTmpDir), `${tmpFile} is under ${blobTmpDir}`).toBe(true);
    // (a) the fsync of that temp file, complete before the rename starts.
    const fileSync = calls
      .filter((c) => isSync(c) && ok(c) && fdTarget(c) === tmpFile && end(c) < rename.startIndex)
      .at(-1);
    expect(fileSync, `fsync of ${tmpFile} before the rename`).toBeDefined();
    // (c) the fsync of the folder blobs/<2hex>, started after the rename completed.
    const dirSync = calls.find(
      (c) => c.name === 'fsync' && ok(c) && fdTarget(c) === shardDir && c.startIndex > end(rename),
    );
    expect(dirSync, `fsync of ${shardDir} after the rename`).toBeDefined();
    // (e) the first write of `HTTP/1.1 201` to a TCP socket.
    const answer = calls.find(
      (c) =>
        /^(write|writev|sendto|sendmsg)$/.test(c.name) &&
        /^TCP(v6)?:/.test(fdTarget(c) ?? '') &&
        c.args.includes('HTTP/1.1 201'),
    );
    expect(answer, 'the 201 response written to a TCP socket').toBeDefined();
    // (d) the submission's journal record: the last journal sync that completed before the 201,
    // after the last write to the journal, which holds exactly the journal's last record.
    const journalSync = calls
      .filter((c) => isSync(c) && ok(c) && fdTarget(c) === journalPath && end(c) < answer!.startIndex)
      .at(-1);
    expect(journalSync, 'a journal sync before the 201').toBeDefined();
    const journalWrites = calls.filter(
      (c) => /^(write|writev|pwrite64|pwritev)$/.test(c.name) && fdTarget(c) === journalPath,
    );
    const recordWrite = journalWrites.at(-1);
    expect(recordWrite, 'a write to the journal').toBeDefined();
    const lastRecord = (await readFile(journalPath, 'utf8')).trimEnd().split('\n').at(-1)!;
    expect(lastRecord).toContain(`"_id":"${receipt.payload.submissionId}"`);
    expect(lastRecord).toContain('"kind":"submission-accepted"');
    expect(recordWrite!.result).toBe(String(Buffer.byteLength(lastRecord) + 1));

    const evidence: [string, TracedCall][] = [
      ['(a) fsync blob temp file', fileSync!],
      ['(b) rename to content address', rename],
      ['(c) fsync blob folder', dirSync!],
      ['    write journal record', recordWrite!],
      ['(d) fdatasync journal', journalSync!],
      ['(e) HTTP 201 written', answer!],
    ];
    const shown = evidence.map(([label, c]) => {
      const lines = [`${label}: line ${c.startIndex + 1}: ${c.startLine}`];
      if (c.endIndex !== c.startIndex)
        lines.push(`${' '.repeat(label.length)}  line ${(c.endIndex ?? -2) + 1}: ${c.endLine ?? '(never finished)'}`);
      return lines.join('\n');
    });
    console.log(`strace evidence (${tracePath}):\n${shown.join('\n')}`);

    // In order of completion: each step starts only after the one before it completed.
    expect(end(fileSync!)).toBeLessThan(rename.startIndex);
    expect(end(rename)).toBeLessThan(dirSync!.startIndex);
    expect(end(dirSync!)).toBeLessThan(recordWrite!.startIndex);
    expect(end(recordWrite!)).toBeLessThan(journalSync!.startIndex);
    expect(end(journalSync!)).toBeLessThan(answer!.startIndex);
    expect(Math.max(end(fileSync!), end(rename), end(dirSync!), end(journalSync!))).toBeLessThan(answer!.startIndex);
  }, 60_000);

  it('answers a failing fsync of a received blob (EIO, injected by strace) 503 blob-not-durable: nothing kept, health degraded', async () => {
    try {
      await access(STRACE, constants.X_OK);
    } catch {
      throw new Error(`${STRACE} is missing: this test needs strace (apt-get install strace); it must not be skipped`);
    }
    const { dataDir, roster } = await importedExam(1);
    const probe = new HttpExaminee('', roster[0]!.studentId, roster[0]!.accessCode);
    const body = probe.answerFile({ q1: 'a', q2: true });
    const sha = sha256HexOfText(body);
    // A real fsync failure: every fsync of this answer file's folder fails with EIO (strace -P
    // follows file descriptors to their paths), as a failing disk would answer.
    const shardDir = path.join(dataDir, 'blobs', sha.slice(0, 2));
    const faulty = await start({
      dataDir,
      wrapper: [
        STRACE,
        '-f',
        '-qq',
        '-o',
        '/dev/null',
        '-e',
        'trace=fsync',
        '-e',
        'inject=fsync:error=EIO',
        '-P',
        shardDir,
      ],
    });
    const ada = new HttpExaminee(faulty.baseUrl, roster[0]!.studentId, roster[0]!.accessCode);
    await ada.prepare();
    const res = await ada.submit(body);
    const refused = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status, JSON.stringify(refused)).toBe(503);
    expect(refused.error.code).toBe('blob-not-durable');
    expect(refused.error.message).toContain('could not save your upload safely');

    // Nothing acknowledged or recorded: no receipt, no temp file left; health degraded, and the log says why.
    expect((await ada.get('/api/exam/submission')).status).toBe(404);
    expect(await readdir(path.join(dataDir, 'blobs', 'tmp'))).toEqual([]);
    const health = await fetch(`${faulty.baseUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'degraded',
      problems: [{ code: 'blob-not-durable', detail: expect.stringContaining(`fsync of blob ${sha}`) }],
    });
    await expect.poll(() => faulty.stderr).toContain(`answered 503 blob-not-durable`);
    expect(faulty.stderr).toMatch(/an fsync of blob [0-9a-f]{64} \(\d+ bytes\) failed: EIO/);
    expect(await faulty.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    // The disk is well again: the same upload is accepted, as new (it was never acknowledged).
    const healthy = await start({ dataDir });
    ada.baseUrl = healthy.baseUrl;
    const again = await ada.submit(body);
    expect(again.status).toBe(201);
    expect(((await again.json()) as { replay: boolean }).replay).toBe(false);
    expect(await (await fetch(`${healthy.baseUrl}/api/health`)).json()).toMatchObject({ status: 'ok', problems: [] });
  }, 60_000);
});
