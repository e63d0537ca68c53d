/**
 * Bad input over real HTTP against the real appliance process: 20,000 seeded random requests
 * across every route (methods, params with traversal, headers, JSON and non-JSON bodies,
 * multipart, oversize bodies, valid and forged sessions, wrong sign-ins past the sign-in limits:
 * 429 with Retry-After) on parallel keep-alive connections, then raw-socket attacks no HTTP client sends (huge headers, lying Content-Length, bodies
 * trickled a byte at a time, aborted uploads, traversal in the raw request line, garbage).
 * Not one answer may be 500 or above, every JSON refusal carries a known code, and the
 * process is alive and healthy afterwards.
 *
 *   npm run test:attack           FUZZ_SEED=<n> to replay a run
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, sha256HexOfText } from '../../domain/canonical.js';
import { ERRORS } from '../../domain/errors.js';
import { seededRandom } from '../../domain/seeded-random.js';
import { CLIENT_VERSION } from '../support/appliance.js';
import type { HttpExaminee } from '../support/appliance-process.js';
import { appRoutes } from './routes.js';
import {
  PROCTORS,
  preparedExaminee,
  proctorCookie,
  rawExchange,
  send,
  startHall,
  type RunningHall,
} from './support.js';

const REQUESTS = 20_000;
const PARALLEL = 24;
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);

describe('bad input over real HTTP (real appliance process)', () => {
  let hall: RunningHall;
  let routes: Array<[string, string]>;
  const examinees: HttpExaminee[] = [];
  const cookies: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: PARALLEL });

  beforeAll(async () => {
    routes = await appRoutes();
    // A small answer-file limit, so oversize bodies are cheap to send.
    hall = await startHall('proctor-fuzz-', { examinees: 4, env: { PROCTOR_MAX_FILE_BYTES: String(64 * 1024) } });
    for (let i = 0; i < 3; i++) examinees.push(await preparedExaminee(hall, i));
    for (const p of PROCTORS) cookies.push(await proctorCookie(hall, p.username, p.password));
  });
  afterAll(async () => {
    agent.destroy();
    await hall?.close();
  });

  it(`answers ${REQUESTS} random requests below 500, known codes only, and stays up`, async () => {
    console.log(`fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const rnd = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const tokens = examinees.map((e) => e.token ?? '');
    const origin = hall.proc.baseUrl;
    const answerFile = (studentId: string) =>
      JSON.stringify({ format: 'answers/v1', examId: 'exam-1', studentId, answers: { q1: 'a' }, flagged: [] });
    const multipart = () => {
      const boundary = `----fuzz${Math.floor(rnd() * 1e9)}`;
      return {
        type: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\nContent-Type: application/pdf\r\n\r\n${'%PDF'.repeat(Math.floor(rnd() * 200))}\r\n--${boundary}--\r\n`,
      };
    };
    const bodies: Array<() => string | Uint8Array | undefined> = [
      () => undefined,
      () => '',
      () => '{',
      () => '{"a":',
      () => 'null',
      () => '[]',
      () => '"text"',
      () => '1e999999',
      () => '{"a":1,"a":2}',
      () => '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
      () => `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
      () => '{"__proto__":{"admin":true}}',
      () => '{"constructor":{"prototype":{"x":1}}}',
      () =>
        JSON.stringify({
          studentId: pick(['S1', 'S2', '', 'S1\u0000', '../S1', 'S1/../../etc']),
          accessCode: pick(['x', '', 'a'.repeat(65)]),
          deviceId: pick(['d'.repeat(20), '💥'.repeat(20), 'a', '../../../../tmp/x']),
        }),
      () =>
        JSON.stringify({
          counter: pick([1, -1, 0, 2 ** 60, 1.5, '3', null]),
          answers: pick([
            { q1: 'a' },
            { q1: null },
            [],
            { q5: [{ sha256: 'a'.repeat(64), name: '../x.pdf', size: 1 }] },
          ]),
        }),
      () => answerFile(pick(['S1', 'S2', 'S3', '../S1'])),
      () =>
        JSON.stringify(
          pick([
            { minutes: pick([0, 10, -5, 1e9, '5']) },
            { percent: pick([25, -1, 1000]) },
            { set: pick([3, -1, 1.5]) },
            { change: pick([1, -1, 2]) },
            { decision: pick(['approve', 'reject', 'approved', 'later', 'verified', 'maybe']) },
            { mode: pick(['manual', 'password', 'camera', 'room']) },
            { disabled: pick([['camera'], ['x-ray'], 'camera']) },
            { text: pick(['Ten minutes left', '', 'x'.repeat(5000)]) },
            { text: 'hi', studentId: pick(['S1', 'S999', '../S1']) },
            { challenge: pick(['K7QH-3M9P', '', '💥']), resumeCode: pick(['x', '']) },
            { reason: pick(['mistake', '']) },
            { columns: pick([['name'], [], ['salary']]) },
            { count: pick([1, 0, 5000]) },
            { action: pick(['confirm', 'set', 'x']), now: pick([0, Date.now(), 1e20]) },
            { username: pick(['chief', 'invi', 'x']), password: pick(['wrong', '']) },
            { password: 'x' },
            { type: pick(['tab-hidden', 'x']), detail: 'y'.repeat(300) },
          ]),
        ),
      () => '\ud800\udfff\uffff'.repeat(Math.floor(rnd() * 50)),
      () => new Uint8Array(Math.floor(rnd() * 4096)).map(() => Math.floor(rnd() * 256)),
      // Oversize: past every JSON limit and past the upload limit (64 KiB here).
      () => 'x'.repeat(64 * 1024 + Math.floor(rnd() * 512 * 1024)),
    ];
    const headerValues: Record<string, { good: () => string | undefined; bad: readonly (string | undefined)[] }> = {
      'content-type': {
        good: () => pick(['application/json', 'application/json; charset=utf-8', 'application/octet-stream']),
        bad: [
          undefined,
          'text/plain',
          'multipart/form-data; boundary=x',
          '',
          'application/json;;;;',
          'image/png',
          'APPLICATION/JSON',
          'application/x-www-form-urlencoded',
        ],
      },
      'x-client-version': { good: () => CLIENT_VERSION, bad: [undefined, '0.0.1', '99999.99.99', 'x', '1.2.3.4', ''] },
      authorization: {
        good: () => `Bearer ${pick(tokens)}`,
        bad: [
          undefined,
          `Bearer ${tokens[0] ?? ''}x`,
          'Bearer ',
          'Basic abc',
          `Bearer ${'a'.repeat(3_000)}`,
          'Bearer a.b.c',
        ],
      },
      cookie: {
        good: () => pick(cookies),
        bad: [
          undefined,
          '__Host-proctor=forged-token-value-aaaa',
          '__Host-proctor=',
          'a=b',
          `__Host-proctor=${'%'.repeat(100)}`,
        ],
      },
      origin: { good: () => origin, bad: [undefined, 'http://evil.example', 'null', `${origin}.evil.example`] },
      'x-content-sha256': { good: () => undefined, bad: [undefined, 'A'.repeat(64), 'zz', ''] },
      'x-submission-type': { good: () => pick(['manual', 'automatic']), bad: [undefined, 'MANUAL', ''] },
      'x-question-id': { good: () => pick(['q5', 'q1']), bad: [undefined, '../q5', '', 'q5/../../x'] },
      'x-file-name': {
        good: () => pick(['a.pdf', encodeURIComponent('é.pdf')]),
        bad: [
          undefined,
          '%',
          '%2F..%2Fx.pdf',
          '',
          encodeURIComponent('../../etc/passwd'),
          '%00.pdf',
          'a'.repeat(2_000),
        ],
      },
      'x-safeexambrowser-requesthash': { good: () => undefined, bad: [undefined, 'z'.repeat(64), ''] },
      'x-huge': { good: () => undefined, bad: [undefined, 'h'.repeat(12_000)] },
    };
    const params = {
      examId: [
        'exam-1',
        'exam-1',
        'exam-1',
        'nope',
        '%ZZ',
        'exam-1%00',
        '..%2F..%2Fsecrets',
        '%2e%2e',
        'a'.repeat(500),
      ],
      studentId: ['S1', 'S2', 'S3', 'S1', 'S999', '..%2FS1', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'S1%0d%0aX:%20y'],
      sha256: ['a'.repeat(64), '..%2F..%2F..%2Fsecrets.json', '%00', 'zz'],
    };
    const strayPaths = [
      '/api/proctor/exams/exam-1/participants/S1/nope',
      '/api/exam/%',
      '/api/exam/..%2F..%2Fsecrets.json',
      '/api//exam',
      '/api/exam?x=%zz',
      '/%00',
      '/../../../../etc/passwd',
      '/api/../data/secrets.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/proctor/../../appliance/src/main.ts',
      '/api/proctor/exams/exam-1/participants?q=%ff&sort=__proto__&dir=x',
      '/api/exam/answers/pull?counter=99999999999999999999',
      '/api/exam/verification/photo?kind=../../x',
    ];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'];

    // Build the requests first (seeded), then send them on PARALLEL connections.
    type Planned = {
      method: string;
      path: string;
      headers: Record<string, string>;
      body: string | Uint8Array | undefined;
    };
    const planned: Planned[] = [];
    // Well-formed wrong sign-ins (2 %), so that the sign-in limits are reached and refuse with
    // 429 and Retry-After (never a 5xx) while everything else goes on.
    const guess = (): Planned => {
      const json = { 'content-type': 'application/json', origin, 'x-client-version': CLIENT_VERSION };
      const n = Math.floor(rnd() * 1e9);
      return rnd() < 0.5
        ? {
            method: 'POST',
            path: '/api/proctor/login',
            headers: json,
            body: JSON.stringify({ username: pick(['chief', 'invi', `user-${n % 500}`]), password: `guess-${n}` }),
          }
        : {
            method: 'POST',
            path: '/api/session',
            headers: json,
            body: JSON.stringify({
              studentId: pick(['S1', 'S2', 'S4', `X${n % 500}`]),
              accessCode: `GUESS${n}`,
              deviceId: `guesser-${n}-0123456789`,
            }),
          };
    };
    for (let i = 0; i < REQUESTS; i++) {
      if (rnd() < 0.02) {
        planned.push(guess());
        continue;
      }
      const [routeMethod, template] = pick(routes);
      const routePath = template
        .replace(':examId', pick(params.examId))
        .replace(':studentId', pick(params.studentId))
        .replace(':sha256', pick(params.sha256));
      const method = rnd() < 0.85 ? routeMethod : pick(methods);
      const path = rnd() < 0.92 ? routePath : pick(strayPaths);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(headerValues)) {
        const v = rnd() < 0.8 ? value.good() : pick(value.bad);
        if (v !== undefined) headers[name] = v;
      }
      // A valid proctor cookie never goes to /logout: that would end the session the fuzz relies on.
      if (path.endsWith('/logout')) delete headers.cookie;
      let body = method === 'GET' || method === 'HEAD' ? undefined : pick(bodies)();
      if (body !== undefined && rnd() < 0.05) {
        const m = multipart();
        headers['content-type'] = m.type;
        body = m.body;
      }
      if (body !== undefined && headers['x-content-sha256'] === undefined && rnd() < 0.8)
        headers['x-content-sha256'] = typeof body === 'string' ? sha256HexOfText(body) : sha256Hex(body);
      planned.push({ method, path, headers, body });
    }

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const errors = new Map<string, number>();
    let nextIndex = 0;
    const t0 = performance.now();
    const worker = async () => {
      for (let i = nextIndex++; i < planned.length; i = nextIndex++) {
        const r = planned[i]!;
        const answer = await send(agent, hall.proc.port, r.method, r.path, r.headers, r.body);
        if ('error' in answer) {
          // The client itself refused (e.g. a path Node will not put on the wire), or the
          // appliance cut an oversize upload short after answering 413: only a dead process fails.
          if (!answer.error.startsWith('client refused') && !hall.proc.running)
            failures.push(`#${i} ${r.method} ${r.path}: ${answer.error}`);
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          const kind = answer.error.replace(/\d+/g, 'N').slice(0, 120);
          errors.set(kind, (errors.get(kind) ?? 0) + 1);
          continue;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status === 429 && answer.headers['retry-after'] === undefined)
          failures.push(`#${i} ${r.method} ${r.path} → 429 without Retry-After`);
        if (answer.status >= 500)
          failures.push(
            `#${i} ${r.method} ${r.path} ${JSON.stringify(r.headers).slice(0, 300)} → ${answer.status} ${answer.body.slice(0, 300)}`,
          );
        else if (answer.status >= 400 && r.method !== 'HEAD' && answer.body.startsWith('{')) {
          const code = (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
          if (code === undefined || !(code in ERRORS))
            failures.push(`#${i} ${r.method} ${r.path} → ${answer.status} without a known code (${code})`);
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `fuzz: ${REQUESTS} requests in ${seconds.toFixed(1)} s on ${PARALLEL} connections; statuses:`,
      Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
    );
    console.log('requests the client could not complete:', Object.fromEntries(errors));
    expect(failures).toEqual([]);
    expect(hall.proc.running).toBe(true);
    // The stream reached past authentication and validation, not only the front door.
    for (const status of [200, 201, 400, 401, 403, 404, 409, 413, 415, 422, 429])
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    // Every planned request went on the wire; a few oversize uploads are cut short by the appliance
    // after its 413 (the client sees a reset while still sending): fewer than 1 %.
    expect([...errors.keys()].filter((k) => k.startsWith('client refused'))).toEqual([]);
    expect(statuses.get(0) ?? 0, 'connections cut without an answer').toBeLessThan(REQUESTS / 100);
  }, 180_000);

  it('survives raw-socket attacks: huge headers, lying lengths, trickled and aborted bodies, garbage', async () => {
    const port = hall.proc.port;
    const token = examinees[0]!.token ?? '';
    const auth = `Authorization: Bearer ${token}\r\nX-Client-Version: ${CLIENT_VERSION}\r\n`;
    const cases: Array<{
      name: string;
      chunks: (string | Buffer)[];
      gapMs?: number;
      halfClose?: boolean;
      expect: (s: number) => boolean;
    }> = [];
    const below500 = (s: number) => s >= 0 && s < 500;
    const answered4xx = (s: number) => s >= 400 && s < 500;
    for (let i = 0; i < 20; i++) {
      cases.push({
        name: `huge header ${i}`,
        chunks: [`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000 + i)}\r\n\r\n`],
        expect: answered4xx,
      });
      cases.push({
        name: `many headers ${i}`,
        chunks: [`GET /api/health HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(5_000)}\r\n`],
        expect: below500,
      });
      cases.push({
        name: `traversal in the request line ${i}`,
        chunks: [
          `GET ${pick2(i, ['/../../../../etc/passwd', '/api/../../data/secrets.json', '/%2e%2e/%2e%2e/etc/passwd', '/..\\..\\etc\\passwd'])} HTTP/1.1\r\nHost: x\r\n\r\n`,
        ],
        expect: answered4xx,
      });
      cases.push({
        name: `Content-Length larger than the body, then closed ${i}`,
        chunks: [
          `POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Client-Version: ${CLIENT_VERSION}\r\nContent-Length: 1000\r\n\r\n{"studentId":`,
        ],
        halfClose: true,
        expect: (s) => s === 0 || below500(s),
      });
      cases.push({
        name: `two Content-Lengths ${i}`,
        chunks: [`POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}`],
        expect: answered4xx,
      });
      cases.push({
        name: `bad chunked encoding ${i}`,
        chunks: [
          `POST /api/exam/submission HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nX-Content-SHA256: ${'a'.repeat(64)}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
        ],
        expect: (s) => s === 0 || below500(s),
      });
      cases.push({
        name: `garbage ${i}`,
        chunks: [Buffer.from(Array.from({ length: 200 }, (_, k) => (k * 31 + i * 7) % 256))],
        expect: (s) => s === 0 || answered4xx(s),
      });
    }
    // Bodies trickled a byte at a time (the appliance must wait, then answer, never fail).
    for (let i = 0; i < 16; i++) {
      const body = JSON.stringify({ text: `slow question ${i}` });
      const head = `POST /api/exam/messages HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      cases.push({ name: `trickled JSON ${i}`, chunks: [head, ...body.split('')], gapMs: 15, expect: below500 });
      const upload = Buffer.alloc(2_000, 'u');
      const uploadHead = `POST /api/exam/files HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/pdf\r\nX-Question-Id: q5\r\nX-File-Name: slow.pdf\r\nX-Content-SHA256: ${sha256Hex(upload)}\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const parts: string[] = [];
      for (let k = 0; k < 40; k++) parts.push(`32\r\n${'u'.repeat(50)}\r\n`);
      cases.push({
        name: `trickled chunked upload ${i}`,
        chunks: [uploadHead, ...parts, '0\r\n\r\n'],
        gapMs: 10,
        expect: below500,
      });
      // An upload that stops half-way and hangs up: no answer expected, the process must live on.
      cases.push({
        name: `aborted upload ${i}`,
        chunks: [
          `POST /api/exam/submission HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nX-Content-SHA256: ${'b'.repeat(64)}\r\nContent-Length: 60000\r\n\r\n`,
          'x'.repeat(10_000),
        ],
        gapMs: 5,
        expect: (s) => s === -1 || s === 0 || below500(s),
      });
    }
    const results: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < cases.length; i = next++) {
        const c = cases[i]!;
        const status = await rawExchange(port, c.chunks, {
          gapMs: c.gapMs ?? 0,
          halfClose: c.halfClose ?? false,
          timeoutMs: c.name.startsWith('aborted') ? 1_500 : 20_000,
        });
        if (!c.expect(status)) results.push(`${c.name}: ${status}`);
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    console.log(`raw-socket attacks: ${cases.length} connections`);
    expect(results).toEqual([]);
    expect(hall.proc.running).toBe(true);
    const health = await fetch(`${hall.proc.baseUrl}/api/health`);
    expect(health.status).toBe(200);
    // No 500 was ever logged.
    expect(hall.proc.stderr).not.toMatch(/internal-error|Something went wrong/);
  }, 120_000);
});

function pick2<T>(i: number, xs: readonly T[]): T {
  return xs[i % xs.length] as T;
}
