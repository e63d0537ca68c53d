import { webcrypto } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { verifyChain } from '../../domain/events.js';
import {
  formatChallenge,
  parseChallenge,
  pbkdf2Sha256Js,
  RESUME_CHALLENGES_PER_EXAMINEE,
  RESUME_PBKDF2_ITERATIONS,
  RESUME_WRONG_TRIES,
  verifyResumeCodeOffline,
  type Pbkdf2Sha256,
  type ResumeTriple,
} from '../../domain/resume-codes.js';
import { toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { idlePriorityPbkdf2Sha256, nodePbkdf2Sha256, ResumeCodes, type WorkerPriority } from './resume-codes.js';
import {
  openTestAppliance,
  removeDir,
  testExam,
  TEST_ROSTER,
  type TestAppliance,
} from '../../tests/support/appliance.js';

const MIN = 60_000;
const T0 = Date.parse('2026-06-01T08:00:00Z');
const CODE_SHAPE = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

/** What a browser does: WebCrypto's PBKDF2 (the device's fast path). */
const webCryptoPbkdf2: Pbkdf2Sha256 = async (password, salt, iterations, length) => {
  const key = await webcrypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
  const bits = await webcrypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
};

/** The ok value of a result, or a failed expectation naming the refusal. */
function ok<R extends { ok: true } | { ok: false; code: string; detail?: string }>(
  result: R,
): Extract<R, { ok: true }> {
  if (!result.ok) expect.fail(`refused: ${result.code} ${result.detail ?? ''}`);
  return result as Extract<R, { ok: true }>;
}

/** A second exam on the same appliance with the same student ids. */
async function addSecondExam(appliance: TestAppliance): Promise<void> {
  const exam = testExam(T0 + 30 * MIN, { examId: 'exam-2', title: 'Physics 101' });
  await appliance.store.putExam(
    toExamDoc(exam),
    TEST_ROSTER.map((e) => toExamineeDoc('exam-2', e)),
  );
}

describe('resume codes on the appliance (real on-disk store)', () => {
  let appliance: TestAppliance | undefined;
  let resume: ResumeCodes | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    resume = undefined;
    if (appliance) {
      await appliance.close();
      appliance = undefined;
    }
    for (const dir of dirs.splice(0)) await removeDir(dir);
  });

  async function open(dataDir?: string) {
    const clock = new FakeClock(T0);
    appliance = await openTestAppliance(clock, dataDir === undefined ? {} : { dataDir });
    if (dataDir === undefined) dirs.push(appliance.dataDir);
    resume = new ResumeCodes(appliance.store);
    return { ...appliance, clock, resume };
  }

  /** The exam's event log as stored in PouchDB. */
  async function eventLog(examId = 'exam-1') {
    await appliance!.store.flushIndex();
    return appliance!.store.examEvents(examId);
  }

  /** The examinee's triples (all eight). */
  async function triplesOf(studentId: string, examId = 'exam-1'): Promise<ResumeTriple[]> {
    return ok(await resume!.triples(examId, studentId)).triples;
  }

  it('makes eight triples per examinee on the threadpool, once (timing printed)', async () => {
    const { resume } = await open();
    const started = performance.now();
    const first = ok(await resume.triples('exam-1', 'S1'));
    const ms = performance.now() - started;
    console.log(
      `resume codes: triples() for one examinee took ${ms.toFixed(0)} ms ` +
        `(${RESUME_CHALLENGES_PER_EXAMINEE} × PBKDF2-HMAC-SHA256 at ${RESUME_PBKDF2_ITERATIONS} iterations, 2 at a time)`,
    );
    expect(first.triples).toHaveLength(RESUME_CHALLENGES_PER_EXAMINEE);
    expect(first.spent).toEqual([]);
    for (const t of first.triples) {
      expect(t.iterations).toBe(RESUME_PBKDF2_ITERATIONS);
      expect(t.salt).toMatch(/^[0-9a-f]{32}$/);
      expect(t.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(parseChallenge(t.challenge)).toBe(t.challenge);
    }
    expect(new Set(first.triples.map((t) => t.challenge)).size).toBe(RESUME_CHALLENGES_PER_EXAMINEE);
    // Cached: the same triples at once; another examinee's are different.
    const again = performance.now();
    expect(await triplesOf('S1')).toEqual(first.triples);
    expect(performance.now() - again).toBeLessThan(ms);
    const s2 = await triplesOf('S2');
    for (const t of s2) expect(first.triples.map((x) => x.challenge)).not.toContain(t.challenge);
    expect(await resume.triples('exam-1', 'NOBODY')).toEqual({ ok: false, code: 'examinee-not-found' });
    expect(await resume.triples('no-such-exam', 'S1')).toEqual({ ok: false, code: 'exam-not-found' });
  });

  it('gives a code once per challenge, as an event by the proctor; the device verifies it offline', async () => {
    const { resume, store } = await open();
    const triples = await triplesOf('S1');
    const [t0, t1] = triples as [ResumeTriple, ResumeTriple];

    // The proctor types the challenge as read from the screen: lower case, with the dash.
    const issued = ok(await resume.issue('exam-1', 'S1', formatChallenge(t0.challenge).toLowerCase(), 'chief'));
    expect(issued.challenge).toBe(formatChallenge(t0.challenge));
    expect(issued.resumeCode).toMatch(CODE_SHAPE);

    // Offline on the device: the code opens its triple (node:crypto made it; the browser checks
    // with WebCrypto or pure JS), typed as heard; wrong codes and the next triple do not open.
    expect(await verifyResumeCodeOffline(t0, issued.resumeCode, webCryptoPbkdf2)).toBe(true);
    expect(await verifyResumeCodeOffline(t0, issued.resumeCode, pbkdf2Sha256Js)).toBe(true);
    const heard = issued.resumeCode.toLowerCase().replace('-', ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect(await verifyResumeCodeOffline(t0, heard, webCryptoPbkdf2)).toBe(true);
    expect(await verifyResumeCodeOffline(t1, issued.resumeCode, webCryptoPbkdf2)).toBe(false);
    const oneOff = issued.resumeCode.slice(0, -1) + (issued.resumeCode.endsWith('7') ? '8' : '7');
    expect(await verifyResumeCodeOffline(t0, oneOff, webCryptoPbkdf2)).toBe(false);

    // A second request for the same challenge is refused and records nothing.
    const before = await eventLog();
    expect(await resume.issue('exam-1', 'S1', t0.challenge, 'assistant')).toMatchObject({
      ok: false,
      code: 'resume-challenge-issued',
    });
    expect(await eventLog()).toEqual(before);

    // The next challenge gets its own code.
    const second = ok(await resume.issue('exam-1', 'S1', t1.challenge, 'assistant'));
    expect(second.resumeCode).not.toBe(issued.resumeCode);
    expect(await verifyResumeCodeOffline(t1, second.resumeCode, webCryptoPbkdf2)).toBe(true);

    // Every issue is a hash-chained event with the proctor as actor; the monitor counts them.
    const events = await eventLog();
    expect(verifyChain(events)).toBeUndefined();
    expect(
      events
        .filter((e) => e.kind.startsWith('resume'))
        .map(({ kind, actor, studentId, data }) => ({ kind, actor, studentId, data })),
    ).toEqual([
      {
        kind: 'resume-code-issued',
        actor: { role: 'proctor', username: 'chief' },
        studentId: 'S1',
        data: { challenge: t0.challenge },
      },
      {
        kind: 'resume-code-issued',
        actor: { role: 'proctor', username: 'assistant' },
        studentId: 'S1',
        data: { challenge: t1.challenge },
      },
    ]);
    expect(store.projection.examinee('exam-1', 'S1')?.state.resumeCodesIssued).toBe(2);
  });

  it('gives codes only for the examinee’s own challenges of that exam, and records nothing otherwise', async () => {
    const appliance = await open();
    await addSecondExam(appliance);
    const { resume } = appliance;
    const [ada] = (await triplesOf('S1')) as [ResumeTriple];
    const [alan] = (await triplesOf('S2')) as [ResumeTriple];
    const [adaPhysics] = (await triplesOf('S1', 'exam-2')) as [ResumeTriple];
    const before = { exam1: await eventLog('exam-1'), exam2: await eventLog('exam-2') };

    const refused = [
      // Alan's valid challenge asked for on Ada's page, and the other way round.
      await resume.issue('exam-1', 'S1', alan.challenge, 'chief'),
      await resume.issue('exam-1', 'S2', ada.challenge, 'chief'),
      // Ada's challenge of the other exam, and of this exam asked for under the other one.
      await resume.issue('exam-1', 'S1', adaPhysics.challenge, 'chief'),
      await resume.issue('exam-2', 'S1', ada.challenge, 'chief'),
      // Not a challenge at all.
      await resume.issue('exam-1', 'S1', 'HELLO', 'chief'),
      await resume.issue('exam-1', 'S1', `${ada.challenge}0`, 'chief'),
    ];
    for (const r of refused) expect(r).toMatchObject({ ok: false, code: 'resume-challenge-unknown' });
    expect(await resume.issue('exam-9', 'S1', ada.challenge, 'chief')).toMatchObject({ code: 'exam-not-found' });
    expect(await resume.issue('exam-1', 'S9', ada.challenge, 'chief')).toMatchObject({ code: 'examinee-not-found' });
    // Reporting a code for a challenge that is not yours is refused the same way and counts nothing.
    expect(await resume.redeem('exam-1', 'S1', alan.challenge, 'ABCDE-12345')).toMatchObject({
      code: 'resume-challenge-unknown',
    });

    expect(await eventLog('exam-1')).toEqual(before.exam1);
    expect(await eventLog('exam-2')).toEqual(before.exam2);
    expect(appliance.store.projection.examinee('exam-1', 'S1')?.state.resumeCodesIssued).toBe(0);

    // A code properly given to Alan, or to Ada for the other exam, does not open Ada's triple.
    const alanCode = ok(await resume.issue('exam-1', 'S2', alan.challenge, 'chief')).resumeCode;
    const physicsCode = ok(await resume.issue('exam-2', 'S1', adaPhysics.challenge, 'chief')).resumeCode;
    expect(await verifyResumeCodeOffline(ada, alanCode, webCryptoPbkdf2)).toBe(false);
    expect(await verifyResumeCodeOffline(ada, physicsCode, webCryptoPbkdf2)).toBe(false);
    expect(await verifyResumeCodeOffline(alan, alanCode, webCryptoPbkdf2)).toBe(true);
    expect(await verifyResumeCodeOffline(adaPhysics, physicsCode, webCryptoPbkdf2)).toBe(true);
    // And reporting them for Ada's challenge on the appliance is a wrong try, not a use.
    expect(await resume.redeem('exam-1', 'S1', ada.challenge, alanCode)).toMatchObject({ code: 'resume-code-wrong' });
    expect(await resume.redeem('exam-1', 'S1', ada.challenge, physicsCode)).toMatchObject({
      code: 'resume-code-wrong',
    });
  });

  it('accepts a reported code once: the second report and any new issue for that challenge are refused', async () => {
    const { resume, store } = await open();
    const [t0] = (await triplesOf('S3')) as [ResumeTriple];
    const { resumeCode } = ok(await resume.issue('exam-1', 'S3', t0.challenge, 'chief'));

    expect(ok(await resume.redeem('exam-1', 'S3', formatChallenge(t0.challenge), resumeCode.toLowerCase()))).toEqual({
      ok: true,
      challenge: formatChallenge(t0.challenge),
    });
    const afterUse = await eventLog();
    expect(afterUse.at(-1)).toMatchObject({
      kind: 'resume-code-used',
      actor: { role: 'examinee', studentId: 'S3' },
      studentId: 'S3',
      data: { challenge: t0.challenge },
    });

    expect(await resume.redeem('exam-1', 'S3', t0.challenge, resumeCode)).toMatchObject({
      ok: false,
      code: 'resume-challenge-used',
    });
    expect(await resume.issue('exam-1', 'S3', t0.challenge, 'chief')).toMatchObject({
      ok: false,
      code: 'resume-challenge-used',
    });
    expect(await eventLog()).toEqual(afterUse);
    expect(store.projection.examinee('exam-1', 'S3')?.state.resumeChallengesUsed).toEqual([t0.challenge]);
    // The device learns which challenges are spent when it fetches its triples again.
    expect(ok(await resume.triples('exam-1', 'S3')).spent).toEqual([t0.challenge]);
  });

  it(`locks a challenge at the ${RESUME_WRONG_TRIES}th wrong code; the right code is then refused`, async () => {
    const { resume, store } = await open();
    const [t0, t1] = (await triplesOf('S2')) as [ResumeTriple, ResumeTriple];
    const { resumeCode } = ok(await resume.issue('exam-1', 'S2', t0.challenge, 'chief'));
    const wrong = resumeCode.startsWith('Z') ? `Y${resumeCode.slice(1)}` : `Z${resumeCode.slice(1)}`;

    // Malformed text is not a try.
    expect(await resume.redeem('exam-1', 'S2', t0.challenge, '12345')).toMatchObject({ code: 'validation-failed' });
    for (let i = 1; i < RESUME_WRONG_TRIES; i++) {
      expect(await resume.redeem('exam-1', 'S2', t0.challenge, wrong)).toEqual({
        ok: false,
        code: 'resume-code-wrong',
        detail: `${RESUME_WRONG_TRIES - i} tries left for this challenge`,
      });
    }
    const beforeLock = await eventLog();
    expect(await resume.redeem('exam-1', 'S2', t0.challenge, wrong)).toMatchObject({
      ok: false,
      code: 'resume-challenge-locked',
    });
    const locked = await eventLog();
    expect(locked).toHaveLength(beforeLock.length + 1);
    expect(locked.at(-1)).toMatchObject({
      kind: 'resume-challenge-locked',
      actor: { role: 'examinee', studentId: 'S2' },
      studentId: 'S2',
      data: { challenge: t0.challenge },
    });

    // From now on even the right code is refused, and no proctor can issue for it again.
    expect(await resume.redeem('exam-1', 'S2', t0.challenge, resumeCode)).toMatchObject({
      code: 'resume-challenge-locked',
    });
    expect(await resume.issue('exam-1', 'S2', t0.challenge, 'chief')).toMatchObject({
      code: 'resume-challenge-locked',
    });
    expect(await eventLog()).toEqual(locked);
    expect(store.projection.examinee('exam-1', 'S2')?.state.resumeChallengesLocked).toEqual([t0.challenge]);
    expect(ok(await resume.triples('exam-1', 'S2')).spent).toEqual([t0.challenge]);

    // The examinee's other challenges are untouched.
    const next = ok(await resume.issue('exam-1', 'S2', t1.challenge, 'chief'));
    expect(await resume.redeem('exam-1', 'S2', t1.challenge, next.resumeCode)).toMatchObject({ ok: true });
  });

  it('gives one code and accepts one use when requests race', async () => {
    const { resume } = await open();
    const [t0] = (await triplesOf('S1')) as [ResumeTriple];
    const issues = await Promise.all([1, 2, 3].map((n) => resume.issue('exam-1', 'S1', t0.challenge, `proctor-${n}`)));
    expect(issues.filter((r) => r.ok)).toHaveLength(1);
    expect(issues.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual([
      'resume-challenge-issued',
      'resume-challenge-issued',
    ]);
    const code = issues.find((r) => r.ok)!;
    const redeems = await Promise.all(
      [1, 2, 3].map(() => resume.redeem('exam-1', 'S1', t0.challenge, (code as { resumeCode: string }).resumeCode)),
    );
    expect(redeems.filter((r) => r.ok)).toHaveLength(1);
    const kinds = (await eventLog()).map((e) => e.kind).filter((k) => k.startsWith('resume'));
    expect(kinds).toEqual(['resume-code-issued', 'resume-code-used']);
  });

  it('keeps issued, used and locked challenges across a restart, and makes the same triples', async () => {
    const first = await open();
    const before = await triplesOf('S1');
    const [t0, t1, t2] = before as [ResumeTriple, ResumeTriple, ResumeTriple];
    const code0 = ok(await first.resume.issue('exam-1', 'S1', t0.challenge, 'chief')).resumeCode;
    const code1 = ok(await first.resume.issue('exam-1', 'S1', t1.challenge, 'chief')).resumeCode;
    ok(await first.resume.redeem('exam-1', 'S1', t1.challenge, code1));
    const code2 = ok(await first.resume.issue('exam-1', 'S1', t2.challenge, 'chief')).resumeCode;
    for (let i = 0; i < RESUME_WRONG_TRIES; i++) await first.resume.redeem('exam-1', 'S1', t2.challenge, code1);
    await appliance!.close();
    appliance = undefined;

    const second = await open(first.dataDir);
    expect(await triplesOf('S1')).toEqual(before);
    expect(await second.resume.issue('exam-1', 'S1', t0.challenge, 'chief')).toMatchObject({
      code: 'resume-challenge-issued',
    });
    expect(await second.resume.issue('exam-1', 'S1', t1.challenge, 'chief')).toMatchObject({
      code: 'resume-challenge-used',
    });
    expect(await second.resume.redeem('exam-1', 'S1', t2.challenge, code2)).toMatchObject({
      code: 'resume-challenge-locked',
    });
    expect(ok(await second.resume.triples('exam-1', 'S1')).spent.sort()).toEqual([t1.challenge, t2.challenge].sort());
    // Codes are derived, not stored: an issued, unused code still works after the restart.
    expect(ok(await second.resume.redeem('exam-1', 'S1', t0.challenge, code0)).challenge).toBe(
      formatChallenge(t0.challenge),
    );
  });

  it('prepares every examinee’s triples in the background, behind examinees’ own requests', async () => {
    const { store } = await open();
    const calls: string[] = [];
    const recording: Pbkdf2Sha256 = (password, salt, iterations, length) => {
      calls.push(Buffer.from(salt).toString('hex'));
      return nodePbkdf2Sha256(password, salt, iterations, length);
    };
    resume = new ResumeCodes(store, { pbkdf2: recording, iterations: 1_000, concurrency: 1 });
    const preparing = resume.prepare('exam-1');
    const urgent = resume.triples('exam-1', 'S3');
    // S1, S2 made by it; S3 was asked for meanwhile, and is ready too when it resolves.
    expect(await preparing).toEqual({ examinees: 3, made: 2 });
    expect(calls).toHaveLength(3 * RESUME_CHALLENGES_PER_EXAMINEE);
    const s3 = ok(await urgent).triples;
    // S3's jobs ran right after the one background job already running.
    expect(calls.slice(1, 1 + RESUME_CHALLENGES_PER_EXAMINEE)).toEqual(s3.map((t) => t.salt));
    await triplesOf('S1');
    expect(calls).toHaveLength(3 * RESUME_CHALLENGES_PER_EXAMINEE);
  });

  it('prepares in the background on an idle-priority worker, with the same triples as node:crypto', async () => {
    const { store } = await open();
    let heard: WorkerPriority | undefined;
    const idle = idlePriorityPbkdf2Sha256({ onPriority: (p) => (heard = p) });
    const salt = new Uint8Array([1, 2, 3, 4]);
    const password = new TextEncoder().encode('K7QH3M9P');
    expect(Buffer.from(await idle(password, salt, 1_000, 32)).toString('hex')).toBe(
      Buffer.from(await nodePbkdf2Sha256(password, salt, 1_000, 32)).toString('hex'),
    );
    resume = new ResumeCodes(store, { iterations: 1_000, backgroundPbkdf2: idle });
    expect(await resume.prepare('exam-1')).toEqual({ examinees: 3, made: 3 });
    const prepared = ok(await resume.triples('exam-1', 'S1')).triples;
    const fresh = new ResumeCodes(store, { iterations: 1_000 });
    expect(ok(await fresh.triples('exam-1', 'S1')).triples).toEqual(prepared);
    // The worker's own thread, as the kernel schedules it: SCHED_IDLE, not just nice 19 (nice 19
    // measurably slowed bench:hall's submission storm). This thread and the process stay normal.
    expect(heard).toMatchObject({ policy: 'idle' });
    expect(schedulingPolicy(heard!.tid!)).toBe(SCHED_IDLE);
    expect(schedulingPolicy(readlinkSync('/proc/thread-self').split('/').pop()!)).toBe(SCHED_OTHER);
    expect(schedulingPolicy(process.pid)).toBe(SCHED_OTHER);
  });
});

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** A thread's scheduling policy: field 41 of /proc/<pid>/task/<tid>/stat (proc(5)). */
function schedulingPolicy(tid: number | string): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: field 3 onward.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[41 - 3]);
}
