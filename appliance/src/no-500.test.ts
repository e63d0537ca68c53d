/**
 * No client input can make a route answer 500: a seeded stream of random requests (methods,
 * paths, headers, bodies, tokens) against every route, with valid and invalid sessions. Every
 * answer must be below 500, and every refusal must carry a known error code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, sha256HexOfText } from '../../domain/canonical.js';
import { FakeClock } from '../../domain/clock.js';
import { ERRORS } from '../../domain/errors.js';
import {
  addTestProctors,
  CLIENT_VERSION,
  ExamineeClient,
  ProctorClient,
  openTestAppliance,
  removeDir,
  testExam,
  type TestAppliance,
} from '../../tests/support/appliance.js';
import { seededRandom } from '../../domain/seeded-random.js';

const MIN = 60_000;
const START = Date.parse('2026-06-01T09:00:00Z');
const REQUESTS = 3_000;

describe('no client input produces a 500', () => {
  let appliance: TestAppliance;
  const clock = new FakeClock(START - 5 * MIN);
  const tokens: string[] = [];
  const cookies: string[] = [];
  /** Every route the app has (examinee and proctor), with placeholders for its parameters. */
  let routes: Array<[string, string]> = [];

  beforeAll(async () => {
    appliance = await openTestAppliance(clock, { exam: testExam(START) });
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    const alan = new ExamineeClient(appliance.app, 'S2', 'CCCC2222DDDD');
    await ada.signIn();
    await alan.signIn();
    await ada.get('/api/exam/package');
    clock.set(START + 5 * MIN);
    await ada.get('/api/exam/key');
    tokens.push(ada.token ?? '', alan.token ?? '');
    await addTestProctors(appliance);
    for (const [user, password] of [
      ['chief', 'chief-password-1'],
      ['invi', 'invi-password-1'],
    ] as const) {
      const p = new ProctorClient(appliance.app);
      await p.login(user, password);
      cookies.push(p.cookie ?? '');
    }
    const seen = new Set<string>();
    routes = appliance.app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.endsWith('*'))
      .map((r): [string, string] => [r.method, r.path])
      .filter(([m, p]) => !seen.has(`${m} ${p}`) && seen.add(`${m} ${p}`) !== undefined);
    expect(routes.length).toBeGreaterThan(45);
  });
  afterAll(async () => {
    await appliance.close();
    await removeDir(appliance.dataDir);
  });

  it(`answers ${REQUESTS} random requests below 500 with known error codes`, async () => {
    const rnd = seededRandom(20_260_601);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const answerFile = (studentId: string) =>
      JSON.stringify({ format: 'answers/v1', examId: 'exam-1', studentId, answers: { q1: 'a' }, flagged: [] });
    const bodies: Array<() => string | Uint8Array | undefined> = [
      () => undefined,
      () => '',
      () => '{',
      () => 'null',
      () => '[]',
      () => '"text"',
      () => '{"__proto__":{"admin":true}}',
      () => '{"constructor":{"prototype":{"x":1}}}',
      () =>
        JSON.stringify({
          studentId: pick(['S1', 'S2', '', 'S1\u0000']),
          accessCode: pick(['AAAA1111BBBB', 'x', '']),
          deviceId: pick(['d'.repeat(20), '💥'.repeat(20), 'a']),
        }),
      () =>
        JSON.stringify({
          counter: pick([1, -1, 0, 2 ** 60, 1.5, '3', null]),
          answers: pick([
            { q1: 'a' },
            { q1: null },
            [],
            { q5: [{ sha256: 'a'.repeat(64), name: 'x.pdf', size: 1 }] },
            'x',
          ]),
        }),
      () => answerFile(pick(['S1', 'S2', 'S3'])),
      // Proctor action bodies, right and wrong.
      () =>
        JSON.stringify(
          pick([
            { minutes: pick([0, 10, -5, 1e9, '5']) },
            { percent: pick([25, -1, 1000]) },
            { set: pick([3, -1, 1.5]) },
            { change: pick([1, -1, 2]) },
          ]),
        ),
      () =>
        JSON.stringify({
          decision: pick(['approve', 'reject', 'approved', 'rejected', 'later', 'verified', 'retake', 'maybe']),
        }),
      () =>
        JSON.stringify(
          pick([
            { mode: pick(['manual', 'password', 'camera', 'room']) },
            { disabled: pick([['camera'], ['x-ray'], 'camera']) },
          ]),
        ),
      () =>
        JSON.stringify(
          pick([
            { text: pick(['Ten minutes left', '', 'x'.repeat(5000)]) },
            { text: 'hi', studentId: pick(['S1', 'S999']), questionId: pick(['q1', 'q99']) },
          ]),
        ),
      () =>
        JSON.stringify(
          pick([
            { challenge: pick(['K7QH-3M9P', '', '💥']) },
            { reason: pick(['mistake', '']) },
            { status: pick(['cleared', 'guilty']) },
          ]),
        ),
      () =>
        JSON.stringify(
          pick([
            { columns: pick([['name'], [], ['salary']]) },
            { count: pick([1, 0, 5000]) },
            { lateLoginMinutes: 20, extraMinutes: pick([5, -1]) },
          ]),
        ),
      () =>
        JSON.stringify({ username: pick(['chief', 'invi', 'x']), password: pick(['chief-password-1', 'wrong', '']) }),
      () => '\ud800\udfff\uffff'.repeat(Math.floor(rnd() * 50)),
      () => new Uint8Array(Math.floor(rnd() * 4096)).map(() => Math.floor(rnd() * 256)),
      () => 'x'.repeat(Math.floor(rnd() * 70_000)),
    ];
    /** Each header: a good value (most of the time, so requests get past the front door) or a bad one. */
    const headerValues: Record<string, { good: () => string | undefined; bad: readonly (string | undefined)[] }> = {
      'content-type': {
        good: () => pick(['application/json', 'application/json; charset=utf-8', 'application/octet-stream']),
        bad: [undefined, 'text/plain', 'multipart/form-data; boundary=x', ''],
      },
      'x-client-version': {
        good: () => CLIENT_VERSION,
        bad: [undefined, '0.0.1', '99.99.99', 'x', '1.2', '1.2.3.4', ''],
      },
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
        bad: [undefined, '__Host-proctor=forged-token-value-aaaa', '__Host-proctor=', 'a=b'],
      },
      origin: { good: () => 'http://localhost', bad: [undefined, 'http://evil.example', 'null'] },
      'x-content-sha256': { good: () => undefined, bad: [undefined, 'A'.repeat(64), 'zz', ''] },
      'x-submission-type': { good: () => pick(['manual', 'automatic']), bad: [undefined, 'MANUAL', ''] },
      'x-question-id': { good: () => pick(['q5', 'q1']), bad: [undefined, '../q5', ''] },
      'x-file-name': {
        good: () => pick(['a.pdf', encodeURIComponent('é.pdf')]),
        bad: [undefined, '%', '%2F..%2Fx.pdf', ''],
      },
      'content-length': { good: () => undefined, bad: [undefined, '0', '-1', '1e3', '99999999999999999999'] },
    };
    const paths = [
      '/api/proctor/exams/exam-1/participants/S1/nope',
      '/api/exam/%',
      '/api/exam/..%2F..%2Fsecrets.json',
      '/api//exam',
      '/api/exam?x=%zz',
      '/%00',
    ];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const [routeMethod, template] = pick(routes);
      const routePath = template
        .replace(':examId', pick(['exam-1', 'exam-1', 'exam-1', 'nope', '%ZZ', 'exam-1%00']))
        .replace(':studentId', pick(['S1', 'S2', 'S3', 'S1', 'S999', '..%2FS1']));
      const method = rnd() < 0.8 ? routeMethod : pick(methods);
      const path = rnd() < 0.9 ? routePath : pick(paths);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(headerValues)) {
        const v = rnd() < 0.8 ? value.good() : pick(value.bad);
        if (v !== undefined) headers[name] = v;
      }
      const body = method === 'GET' || method === 'HEAD' ? undefined : pick(bodies)();
      // A matching checksum most of the time, so uploads reach the answer-file checks.
      if (body !== undefined && headers['x-content-sha256'] === undefined && rnd() < 0.8) {
        headers['x-content-sha256'] = typeof body === 'string' ? sha256HexOfText(body) : sha256Hex(body);
      }
      if (body === undefined) delete headers['content-length'];
      // Before the start, during, after the deadline; within one idle period, so proctor sessions last.
      clock.set(START + (rnd() * 115 - 50) * MIN);
      let res: Response;
      try {
        res = await appliance.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
      } catch (err) {
        failures.push(`#${i} ${method} ${path} threw ${String(err)}`);
        continue;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      // A fuzzed logout really ends that session: sign in again so later requests get past auth.
      const used = cookies.indexOf(headers.cookie ?? '');
      if (path.endsWith('/logout') && res.status === 200 && used !== -1) {
        const [user, password] = used === 0 ? ['chief', 'chief-password-1'] : ['invi', 'invi-password-1'];
        const p = new ProctorClient(appliance.app);
        await p.login(user, password);
        cookies[used] = p.cookie ?? '';
      }
      if (res.status >= 500)
        failures.push(`#${i} ${method} ${path} ${JSON.stringify(headers)} → ${res.status} ${await res.text()}`);
      else if (res.status >= 400 && method !== 'HEAD') {
        const code = ((await res.json()) as { error?: { code?: string } }).error?.code;
        if (code === undefined || !(code in ERRORS))
          failures.push(`#${i} ${method} ${path} → ${res.status} without a known code (${code})`);
      }
    }
    expect(failures).toEqual([]);
    // The stream reached past authentication and validation, not only the front door.
    console.log('statuses:', Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])));
    for (const status of [200, 400, 401, 404, 409, 413, 415, 422, 426])
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    const health = await appliance.app.request('/api/health');
    expect(health.status).toBe(200);
  });
});
