/**
 * Caps on connections (real appliance process on 127.0.0.1): 5,000 event streams from one
 * address end with exactly PROCTOR_STREAMS_PER_ADDRESS open (set low here to keep the test
 * quick; the rest get 429 too-many-streams, and each session keeps at most
 * PROCTOR_STREAMS_PER_SESSION, its oldest closed with stream-replaced) while sign-ins stay under
 * 1 s p99; a message to the hall reaches every open stream; a proctor reloading the monitor 20
 * times always gets it; 1,000 slowloris sockets do not stop sign-ins and are closed by the headers
 * timeout; slow uploads (answer files and JSON bodies) are cut with 408 upload-too-slow and change
 * nothing. File descriptors: ~1,100 at most in each process (printed with `ulimit -n`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../domain/canonical.js';
import { HttpExaminee } from '../support/appliance-process.js';
import { preparedExaminee, proctorCookie, PROCTORS, rawExchange, startHall, type RunningHall } from './support.js';

const STREAMS = 5_000;
const STREAMS_PER_ADDRESS = 300;
/** The default: what a hall gets. */
const STREAMS_PER_SESSION = 4;
/** Examinee sessions holding the streams: room for 320, more than the address may hold. */
const STREAM_SESSIONS = 80;
/** Stream requests in flight at once (each on its own connection). */
const WAVE = 100;
const SIGN_INS = 50;
const SLOWLORIS = 1_000;
const HEADERS_TIMEOUT_SECONDS = 3;
const SLOW_UPLOADS = 100;
const RATE_WINDOW_SECONDS = 2;
/** Examinees with one slow answer file each. */
const SLOW_SUBMITTERS = 20;
const EXAMINEES = STREAM_SESSIONS + 2 * SIGN_INS + SLOW_SUBMITTERS;
const P99_BOUND_MS = 1_000;

interface OpenStream {
  status: number;
  /** What arrived, as text. */
  text: string;
  open: boolean;
  res?: http.IncomingMessage;
  body: string;
}

/** Opens an event stream on its own connection; resolves once its status is known. */
function openStream(port: number, p: string, headers: Record<string, string>): Promise<OpenStream> {
  return new Promise((resolve) => {
    const s: OpenStream = { status: 0, text: '', open: false, body: '' };
    const req = http.request({ host: '127.0.0.1', port, path: p, headers, agent: false }, (res) => {
      s.status = res.statusCode ?? 0;
      s.res = res;
      res.setEncoding('utf8');
      if (s.status === 200) {
        s.open = true;
        res.on('data', (d: string) => (s.text += d));
        res.on('close', () => (s.open = false));
        resolve(s);
      } else {
        res.on('data', (d: string) => (s.body += d));
        res.on('end', () => resolve(s));
      }
    });
    req.on('error', () => {
      s.open = false;
      resolve(s);
    });
    req.end();
  });
}

const p99 = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.ceil(ms.length * 0.99) - 1] ?? NaN;

/** Signs the examinees in one after another, timing each; all must succeed. */
async function timedSignIns(examinees: HttpExaminee[]): Promise<number[]> {
  const times: number[] = [];
  for (const e of examinees) {
    const started = performance.now();
    const res = await e.signIn();
    times.push(performance.now() - started);
    expect(res.status, await res.text()).toBe(200);
  }
  return times;
}

describe('caps on connections (real appliance process)', () => {
  let hall: RunningHall;
  let port: number;
  let examinee: (i: number) => HttpExaminee;

  beforeAll(async () => {
    hall = await startHall('proctor-caps-', {
      examinees: EXAMINEES,
      env: {
        PROCTOR_STREAMS_PER_ADDRESS: String(STREAMS_PER_ADDRESS),
        PROCTOR_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_SECONDS),
        PROCTOR_UPLOAD_RATE_WINDOW: String(RATE_WINDOW_SECONDS),
      },
    });
    port = hall.proc.port;
    examinee = (i) => {
      const line = hall.files.roster[i]!;
      return new HttpExaminee(hall.proc.baseUrl, line.studentId, line.accessCode);
    };
    const fds = execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    console.log(`connection caps: file descriptors allowed per process (ulimit -n): ${fds}`);
  }, 120_000);
  afterAll(async () => {
    await hall?.close();
  });
  const streamsOpenOnTheAppliance = async () =>
    ((await (await fetch(`${hall.proc.baseUrl}/api/health`)).json()) as { streams: number }).streams;

  it(`${STREAMS} event streams from one address: ${STREAMS_PER_ADDRESS} stay open (per-address cap), the rest get 429 or replace a session's oldest; sign-ins under ${P99_BOUND_MS} ms p99`, async () => {
    const sessions: HttpExaminee[] = [];
    for (let i = 0; i < STREAM_SESSIONS; i += 10) {
      const batch = Array.from({ length: 10 }, (_, k) => examinee(i + k));
      await Promise.all(batch.map(async (e) => expect((await e.signIn()).status).toBe(200)));
      sessions.push(...batch);
    }
    const streams: { session: number; stream: OpenStream }[] = [];
    // At least STREAMS stream requests, and more until the sign-ins below are done.
    let signInsDone = false;
    const flood = (async () => {
      while (streams.length < STREAMS || !signInsDone) {
        const from = streams.length;
        const wave = await Promise.all(
          Array.from({ length: WAVE }, async (_, k) => {
            const session = (from + k) % STREAM_SESSIONS;
            const stream = await openStream(port, '/api/exam/events', sessions[session]!.headers());
            return { session, stream };
          }),
        );
        streams.push(...wave);
      }
    })();
    // Sign-ins of other examinees, one after another, while the flood runs.
    const signInTimes = await timedSignIns(Array.from({ length: SIGN_INS }, (_, k) => examinee(STREAM_SESSIONS + k)));
    signInsDone = true;
    await flood;
    const statuses = new Map<number, number>();
    for (const { stream } of streams) statuses.set(stream.status, (statuses.get(stream.status) ?? 0) + 1);
    const refused = streams.filter((s) => s.stream.status === 429);
    const openNow = () => streams.filter((s) => s.stream.open);
    // Replaced streams end once their stream-closed event is out.
    await expect.poll(() => openNow().length, { timeout: 15_000 }).toBe(STREAMS_PER_ADDRESS);
    const perSession = new Map<number, number>();
    for (const s of openNow()) perSession.set(s.session, (perSession.get(s.session) ?? 0) + 1);
    const replaced = streams.filter((s) => s.stream.text.includes('"code":"stream-replaced"')).length;
    console.log(
      `connection caps: ${streams.length} event streams from 127.0.0.1 over ${STREAM_SESSIONS} sessions ` +
        `(${WAVE} in flight; per address ${STREAMS_PER_ADDRESS}, per session ${STREAMS_PER_SESSION}): ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${openNow().length} open at the end, ` +
        `${replaced} replaced (oldest of their session); ${signInTimes.length} sign-ins during the flood: p99 ${p99(signInTimes).toFixed(0)} ms, ` +
        `max ${Math.max(...signInTimes).toFixed(0)} ms`,
    );
    expect([...statuses.keys()].sort()).toEqual([200, 429]);
    expect(refused.every((s) => JSON.parse(s.stream.body).error.code === 'too-many-streams')).toBe(true);
    expect(Math.max(...perSession.values())).toBeLessThanOrEqual(STREAMS_PER_SESSION);
    expect(replaced).toBeGreaterThan(0);
    expect(p99(signInTimes)).toBeLessThan(P99_BOUND_MS);

    // A message to the hall reaches every open stream (sent in slices), health stays quick.
    const cookie = await proctorCookie(hall, PROCTORS[0].username, PROCTORS[0].password);
    const sentAt = performance.now();
    const sent = await fetch(`${hall.proc.baseUrl}/api/proctor/exams/exam-1/messages`, {
      method: 'POST',
      headers: { cookie, origin: hall.proc.baseUrl, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Ten minutes left', audience: 'all' }),
    });
    expect(sent.status).toBe(201);
    const health = performance.now();
    expect((await fetch(`${hall.proc.baseUrl}/api/health`)).status).toBe(200);
    const healthMs = performance.now() - health;
    await expect
      .poll(() => openNow().filter((s) => s.stream.text.includes('Ten minutes left')).length, { timeout: 10_000 })
      .toBe(STREAMS_PER_ADDRESS);
    console.log(
      `connection caps: a message to the hall reached all ${STREAMS_PER_ADDRESS} open streams in ` +
        `${(performance.now() - sentAt).toFixed(0)} ms; /api/health meanwhile ${healthMs.toFixed(0)} ms`,
    );
    for (const s of streams) s.stream.res?.destroy();
    await expect.poll(() => openNow().length).toBe(0);
    // The appliance gives their places back as they close.
    await expect.poll(streamsOpenOnTheAppliance, { timeout: 10_000 }).toBe(0);
  }, 60_000);

  it('a proctor reloading the monitor 20 times always gets it; the oldest tabs are closed with stream-replaced', async () => {
    const cookie = await proctorCookie(hall, PROCTORS[1].username, PROCTORS[1].password);
    const tabs: OpenStream[] = [];
    for (let i = 0; i < 20; i++) tabs.push(await openStream(port, '/api/proctor/exams/exam-1/monitor', { cookie }));
    expect(tabs.map((t) => t.status)).toEqual(tabs.map(() => 200));
    await expect.poll(() => tabs.filter((t) => t.open).length).toBe(STREAMS_PER_SESSION);
    // The newest are the ones kept; the others were told why they stopped.
    expect(tabs.slice(-STREAMS_PER_SESSION).every((t) => t.open)).toBe(true);
    expect(tabs.slice(0, -STREAMS_PER_SESSION).every((t) => t.text.includes('event: stream-closed'))).toBe(true);
    for (const t of tabs) t.res?.destroy();
  });

  it(`${SLOWLORIS} slowloris sockets do not stop sign-ins, and the ${HEADERS_TIMEOUT_SECONDS} s headers timeout closes them`, async () => {
    let closed = 0;
    const sockets: net.Socket[] = [];
    const openedAt = performance.now();
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(`x-slow-${Math.floor(performance.now())}: 1\r\n`);
    }, 500);
    try {
      await Promise.all(
        Array.from(
          { length: SLOWLORIS },
          () =>
            new Promise<void>((resolve) => {
              const s = net.connect(port, '127.0.0.1', () => {
                s.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
                resolve();
              });
              s.on('error', () => resolve());
              s.on('close', () => closed++);
              sockets.push(s);
            }),
        ),
      );
      const connectedMs = performance.now() - openedAt;
      // Sign-ins while all of them are open (the timeout has not struck yet).
      const times = await timedSignIns(
        Array.from({ length: SIGN_INS }, (_, k) => examinee(STREAM_SESSIONS + SIGN_INS + k)),
      );
      const openDuringSignIns = SLOWLORIS - closed;
      await expect.poll(() => closed, { timeout: (HEADERS_TIMEOUT_SECONDS + 10) * 1_000 }).toBe(SLOWLORIS);
      console.log(
        `connection caps: ${SLOWLORIS} slowloris sockets (a header line every 500 ms) connected in ` +
          `${connectedMs.toFixed(0)} ms; ${SIGN_INS} sign-ins with ${openDuringSignIns} of them open: ` +
          `p99 ${p99(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms; all closed by the appliance ` +
          `${((performance.now() - openedAt) / 1_000).toFixed(1)} s after opening (headers timeout ${HEADERS_TIMEOUT_SECONDS} s)`,
      );
      expect(openDuringSignIns).toBeGreaterThan(SLOWLORIS / 2);
      expect(p99(times)).toBeLessThan(P99_BOUND_MS);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
  }, 60_000);

  it(`${SLOW_UPLOADS} slow uploads (answer files and JSON) are cut with 408 upload-too-slow and change nothing`, async () => {
    // One examinee's uploads wait for each other (one at a time per examinee): one slow answer
    // file each, and autosaves.
    const uploaders = await Promise.all(
      Array.from({ length: SLOW_SUBMITTERS }, (_, k) => preparedExaminee(hall, STREAM_SESSIONS + 2 * SIGN_INS + k)),
    );
    // Never sent whole: cut long before its last byte.
    const body = 'x'.repeat(5_000);
    const sha = sha256Hex(Buffer.from(body));
    const head = (e: HttpExaminee, line: string, length: number, extra: Record<string, string> = {}) =>
      `${line} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      Object.entries({
        ...e.headers({ 'content-type': 'application/json', ...extra }),
        'content-length': String(length),
      })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n';
    // 10 bytes every 200 ms = 50 bytes/s, under the default 1,024 bytes/s.
    const trickle = (text: string) =>
      Array.from({ length: Math.ceil(text.length / 10) }, (_, i) => text.slice(i * 10, i * 10 + 10));
    const draft = JSON.stringify({ counter: 1, answers: {}, flagged: [] }).padEnd(2_000, ' ');
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: SLOW_UPLOADS }, (_, i) => {
        const e = uploaders[i % SLOW_SUBMITTERS]!;
        const chunks =
          i < SLOW_SUBMITTERS
            ? [
                head(e, 'POST /api/exam/submission', body.length, {
                  'x-content-sha256': sha,
                  'x-submission-type': 'manual',
                }),
                ...trickle(body),
              ]
            : [head(e, 'PUT /api/exam/draft', draft.length), ...trickle(draft)];
        return rawExchange(port, chunks, { gapMs: 200 });
      }),
    );
    const seconds = (performance.now() - started) / 1_000;
    const counts: Record<number, number> = {};
    for (const st of statuses) counts[st] = (counts[st] ?? 0) + 1;
    console.log(
      `connection caps: ${SLOW_UPLOADS} slow uploads at 50 bytes/s (${SLOW_SUBMITTERS} answer files, the rest ` +
        `autosaves; minimum 1024 bytes/s over ${RATE_WINDOW_SECONDS} s): statuses ${JSON.stringify(counts)} ` +
        `within ${seconds.toFixed(1)} s`,
    );
    expect(statuses).toEqual(statuses.map(() => 408));
    // Nothing changed: no submission, no autosave, no blob of what was cut.
    for (const e of uploaders) {
      expect((await e.get('/api/exam/submission')).status).toBe(404);
      expect((await e.get('/api/exam/draft')).status).toBe(404);
    }
    expect(existsSync(path.join(hall.dataDir, 'blobs', sha.slice(0, 2), sha))).toBe(false);
    // An upload at a normal pace is taken.
    const ada = uploaders[0]!;
    expect((await ada.submit(ada.answerFile({}))).status).toBe(201);
  }, 60_000);
});
