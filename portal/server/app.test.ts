/**
 * The portal's API through app.request(), against the central stand-in holding three halls
 * (tests/support/portal-halls.ts): sign-in through CouchDB's _session, totals and per-examinee
 * columns from the views, heartbeat colours, publish to two halls, max downloads, collect, the
 * live stream, and bad input of every kind refused with a 4xx and nothing changed.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExamineesResponse, HallOverview, OverviewResponse } from '../shared/api.js';
import { buildPortalApp } from './app.js';
import { Couch } from './couch.js';
import {
  CHEMISTRY,
  examFiles,
  heartbeat,
  PHYSICS,
  portalConfig,
  rosterCsv,
  startPortalHalls,
  type PortalHalls,
} from '../../tests/support/portal-halls.js';

const ORIGIN = 'http://portal.test';
let halls: PortalHalls;
let app: ReturnType<typeof buildPortalApp>['app'];

beforeAll(async () => {
  halls = await startPortalHalls();
  app = buildPortalApp({
    config: portalConfig(halls.central.url, { PORTAL_MAX_UPLOAD_BYTES: String(256 * 1024) }),
    couch: new Couch(halls.central.url),
    log: (line) => {
      if (/unexpected/.test(line)) process.stderr.write(`${line}\n`);
    },
    pingMs: 200,
  }).app;
});
afterAll(async () => {
  await halls?.close();
});

type Init = { method?: string; body?: unknown; cookie?: string; origin?: string | null; raw?: string; type?: string };

async function call(path: string, init: Init = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.cookie) headers.cookie = init.cookie;
  if (init.origin !== null) headers.origin = init.origin ?? ORIGIN;
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] = init.type ?? 'application/json';
  return app.request(`${ORIGIN}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
}

async function signIn(name: string, password: string): Promise<string> {
  const res = await call('/api/session', { method: 'POST', body: { name, password } });
  expect(res.status).toBe(200);
  const cookie = /portal_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0];
  expect(cookie).toBeDefined();
  expect(res.headers.get('set-cookie')).toMatch(/HttpOnly/i);
  expect(res.headers.get('set-cookie')).toMatch(/SameSite=Strict/i);
  return cookie!;
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string } };
  return body.error?.code ?? '';
}

const hallOf = (o: OverviewResponse, id: string): HallOverview => o.halls.find((h) => h.hallId === id)!;

describe('sign-in with the institution CouchDB users', () => {
  it('refuses a wrong password, bad bodies and requests without a session', async () => {
    const wrong = await call('/api/session', { method: 'POST', body: { name: 'institution-admin', password: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(await errorCode(wrong)).toBe('wrong-credentials');
    const malformed = await call('/api/session', { method: 'POST', raw: '{"name": "a",' });
    expect(malformed.status).toBe(400);
    expect(await errorCode(malformed)).toBe('invalid-json');
    const types = await call('/api/session', { method: 'POST', body: { name: 1, password: ['x'] } });
    expect(types.status).toBe(400);
    expect(await errorCode(types)).toBe('validation-failed');
    const extra = await call('/api/session', { method: 'POST', body: { name: 'a', password: 'b', admin: true } });
    expect(extra.status).toBe(400);
    const proto = await call('/api/session', {
      method: 'POST',
      raw: '{"__proto__": {"x": 1}, "name": "a", "password": "b"}',
    });
    expect(proto.status).toBe(400);
    const form = await call('/api/session', {
      method: 'POST',
      raw: 'name=a&password=b',
      type: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    for (const path of ['/api/session', '/api/overview', `/api/halls/a101/exams/${PHYSICS}/examinees`, '/api/live']) {
      const res = await call(path);
      expect(res.status, path).toBe(401);
      expect(await errorCode(res)).toBe('unauthenticated');
    }
    const forged = await call('/api/overview', { cookie: 'portal_session=forged' });
    expect(forged.status).toBe(401);
    // Refusals carry the security headers too.
    expect(forged.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(forged.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(forged.headers.get('x-content-type-options')).toBe('nosniff');
    expect(forged.headers.get('referrer-policy')).toBe('no-referrer');
    expect(forged.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps the CouchDB cookie on the server and says who is signed in', async () => {
    const res = await call('/api/session', {
      method: 'POST',
      body: { name: 'institution-admin', password: 'admin-secret' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).not.toMatch(/AuthSession/);
    expect(await res.json()).toEqual({ name: 'institution-admin', roles: ['_admin'], admin: true });
    const cookie = /portal_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
    const who = await call('/api/session', { cookie });
    expect(await who.json()).toMatchObject({ name: 'institution-admin', admin: true });
    const out = await call('/api/session', { method: 'DELETE', cookie });
    expect(out.status).toBe(200);
    expect((await call('/api/session', { cookie })).status).toBe(401);
  });

  it('refuses writes from another origin or with no Origin, changing nothing', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const body = { maxDownloads: 9 };
    for (const origin of ['http://evil.test', null]) {
      const res = await call(`/api/halls/a101/exams/${PHYSICS}/max-downloads`, {
        method: 'POST',
        body,
        cookie,
        origin,
      });
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('origin-mismatch');
    }
    const doc = (await halls.db('a101').get(`examinee:${PHYSICS}:S1005`)) as { _rev: string };
    expect(doc._rev).toMatch(/^1-/);
  });

  it('answers 401 once CouchDB has forgotten the session', async () => {
    const cookie = await signIn('staff-a101', 'staff-secret');
    expect((await call('/api/overview', { cookie })).status).toBe(200);
    halls.central.endSessions();
    const res = await call('/api/overview', { cookie });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('unauthenticated');
  });
});

describe('the halls, read through the views', () => {
  it('a non-admin sees the halls their roles name, and is told the views are missing', async () => {
    const cookie = await signIn('staff-a101', 'staff-secret');
    const overview = (await (await call('/api/overview', { cookie })).json()) as OverviewResponse;
    expect(overview.hallsFrom).toBe('roles');
    expect(overview.halls.map((h) => h.hallId)).toEqual(['a101']);
    expect(overview.halls[0]).toMatchObject({ access: 'ok', design: 'missing', exams: [] });
    const examinees = await call(`/api/halls/b202/exams/${PHYSICS}/examinees`, { cookie });
    expect(examinees.status).toBe(403);
    expect(await errorCode(examinees)).toBe('no-access');
  });

  it('with PORTAL_HALLS, everyone sees those halls, and the ones they may not read say so', async () => {
    const listed = buildPortalApp({
      config: portalConfig(halls.central.url, { PORTAL_HALLS: 'a101,b202,z999' }),
      couch: new Couch(halls.central.url),
      log: () => undefined,
    }).app;
    const res = await listed.request(`${ORIGIN}/api/session`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'staff-a101', password: 'staff-secret' }),
    });
    const cookie = /portal_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
    const overview = (await (
      await listed.request(`${ORIGIN}/api/overview`, { headers: { cookie } })
    ).json()) as OverviewResponse;
    expect(overview.hallsFrom).toBe('configured');
    expect(overview.halls.map((h) => [h.hallId, h.access])).toEqual([
      ['a101', 'ok'],
      ['b202', 'no-access'],
      ['z999', 'missing'],
    ]);
  });

  it('an admin sees every hall-* database; the portal installs _design/portal and reads the totals', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const overview = (await (await call('/api/overview', { cookie })).json()) as OverviewResponse;
    expect(overview.hallsFrom).toBe('all-dbs');
    expect(overview.halls.map((h) => h.hallId)).toEqual(['a101', 'b202', 'c303']);
    for (const h of overview.halls) expect(h.design).toBe('installed');
    const a101 = hallOf(overview, 'a101');
    expect(a101.exams).toHaveLength(1);
    expect(a101.exams[0]).toMatchObject({
      examId: PHYSICS,
      title: 'Physics 101 — Midterm',
      uploadDeadline: '2026-06-15T10:45:00Z',
      totals: {
        studentsPosted: 10,
        downloaded: 4,
        downloads: 5,
        uploaded: 3,
        uploads: 3,
        late: 1,
        changedAfterTimeUp: 1,
      },
    });
    expect(hallOf(overview, 'b202').exams[0]!.totals).toMatchObject({
      studentsPosted: 5,
      downloaded: 1,
      downloads: 1,
      uploaded: 1,
      uploads: 1,
    });
    expect(hallOf(overview, 'c303').exams[0]).toMatchObject({
      examId: CHEMISTRY,
      uploadDeadline: null,
      totals: { studentsPosted: 4, downloads: 0, uploads: 0 },
    });
    const colours = (id: string) =>
      Object.fromEntries(hallOf(overview, id).boxes.map((b) => [b.heartbeat.applianceId, [b.colour, b.label]]));
    expect(colours('a101')).toEqual({
      'box-a101-1': ['green', 'Synced'],
      'box-a101-2': ['amber', 'Stale: no heartbeat for 5 min'],
    });
    expect(colours('b202')).toEqual({ 'box-b202-1': ['red', 'Clock not trusted'] });
    expect(colours('c303')['box-c303-1']![0]).toBe('red');
    // Second read: the design document is current.
    const again = (await (await call('/api/overview', { cookie })).json()) as OverviewResponse;
    for (const h of again.halls) expect(h.design).toBe('ok');
  });

  it('gives the per-examinee columns', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const res = await call(`/api/halls/a101/exams/${PHYSICS}/examinees`, { cookie });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ExamineesResponse;
    expect(body.rows).toHaveLength(10);
    const row = (id: string) => body.rows.find((r) => r.studentId === id)!;
    expect(row('S1001')).toMatchObject({
      name: 'Amara Okafor',
      maxDownloads: 2,
      downloads: 2,
      firstDownloadAt: '2026-06-15T08:31:00.000Z',
      uploads: 1,
      late: false,
      changedAfterTimeUp: false,
    });
    expect(row('S1001').uploadedAt).toMatch(/^2026-06-15T/);
    expect(row('S1002')).toMatchObject({ downloads: 1, uploads: 1, late: true, changedAfterTimeUp: false });
    expect(row('S1003')).toMatchObject({ downloads: 1, uploads: 1, late: false, changedAfterTimeUp: true });
    expect(row('S1004')).toMatchObject({ downloads: 1, uploads: 0, uploadedAt: null });
    expect(row('S1005')).toMatchObject({ downloads: 0, firstDownloadAt: null, uploads: 0 });
  });

  it('refuses unknown halls and exams with 404 and malformed ids with 404, never 500', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const cases: [string, number, string][] = [
      [`/api/halls/z999/exams/${PHYSICS}/examinees`, 404, 'unknown-hall'],
      [`/api/halls/a101/exams/no-such-exam/examinees`, 404, 'unknown-exam'],
      [`/api/halls/A..B/exams/${PHYSICS}/examinees`, 404, 'unknown-hall'],
      [`/api/halls/a101/exams/${'x'.repeat(200)}/examinees`, 404, 'unknown-exam'],
      ['/api/halls/a101/collect?exam=nope', 404, 'unknown-exam'],
      ['/api/halls/z999/collect', 404, 'unknown-hall'],
      ['/api/nothing', 404, 'not-found'],
    ];
    for (const [path, status, code] of cases) {
      const res = await call(path, { cookie });
      expect(res.status, path).toBe(status);
      expect(await errorCode(res), path).toBe(code);
    }
  });
});

describe('publish, max downloads, collect', () => {
  it('publishes an exam and roster to two halls as the CLI does', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const { chemistry } = examFiles();
    const res = await call('/api/publish', {
      method: 'POST',
      cookie,
      body: {
        exam: { name: 'chem.json', text: chemistry },
        roster: { name: 'chem.csv', text: rosterCsv(25, 27) },
        halls: ['a101', 'b202'],
      },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      examId: CHEMISTRY,
      halls: [
        { hallId: 'a101', exam: 'created', examinees: { created: 3 } },
        { hallId: 'b202', exam: 'created', examinees: { created: 3 } },
      ],
    });
    for (const hall of ['a101', 'b202']) {
      const exam = (await halls.db(hall).get(`exam:${CHEMISTRY}`)) as unknown as { title: string };
      expect(exam.title).toBe('Chemistry 201 — Final');
      const examinee = (await halls.db(hall).get(`examinee:${CHEMISTRY}:S1025`)) as { accessCodeHash?: string };
      expect(examinee.accessCodeHash).toMatch(/\S/);
      expect(examinee).not.toHaveProperty('accessCode');
    }
  });

  it('refuses bad files with file:line:column, bad halls, non-admins and oversize bodies, writing nothing', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const { physics } = examFiles();
    const broken = physics.replace('"durationMinutes": 60', '"durationMinutes": "sixty"');
    const bad = await call('/api/publish', {
      method: 'POST',
      cookie,
      body: {
        exam: { name: 'exam.json', text: broken },
        roster: { name: 'r.csv', text: rosterCsv(1, 2) },
        halls: ['c303'],
      },
    });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { error: { code: string }; errors: string[] };
    expect(body.error.code).toBe('import-failed');
    expect(body.errors[0]).toMatch(/^exam\.json:7:\d+ durationMinutes: /);
    const badRoster = await call('/api/publish', {
      method: 'POST',
      cookie,
      body: {
        exam: { name: 'exam.json', text: physics },
        roster: { name: 'r.csv', text: `${rosterCsv(1, 2)}S9,Bad,,,,,short,\n` },
        halls: ['c303'],
      },
    });
    expect(badRoster.status).toBe(422);
    expect(((await badRoster.json()) as { errors: string[] }).errors[0]).toMatch(/^r\.csv:4:\d+ /);
    const unknownHall = await call('/api/publish', {
      method: 'POST',
      cookie,
      body: {
        exam: { name: 'exam.json', text: physics },
        roster: { name: 'r.csv', text: rosterCsv(1, 2) },
        halls: ['c303', 'z999'],
      },
    });
    expect(unknownHall.status).toBe(404);
    expect(await errorCode(unknownHall)).toBe('unknown-hall');
    const noHall = await call('/api/publish', {
      method: 'POST',
      cookie,
      body: { exam: { name: 'exam.json', text: physics }, roster: { name: 'r.csv', text: rosterCsv(1, 2) }, halls: [] },
    });
    expect(noHall.status).toBe(400);
    const rosterType = await call('/api/publish', {
      method: 'POST',
      cookie,
      body: { exam: { name: 'exam.json', text: physics }, roster: { name: 'r.txt', text: 'x' }, halls: ['c303'] },
    });
    expect(rosterType.status).toBe(422);
    const huge = await call('/api/publish', {
      method: 'POST',
      cookie,
      raw: JSON.stringify({
        exam: { name: 'e.json', text: 'x'.repeat(300 * 1024) },
        roster: { name: 'r.csv', text: '' },
        halls: ['c303'],
      }),
    });
    expect(huge.status).toBe(413);
    const staff = await signIn('staff-a101', 'staff-secret');
    const notAdmin = await call('/api/publish', {
      method: 'POST',
      cookie: staff,
      body: {
        exam: { name: 'exam.json', text: physics },
        roster: { name: 'r.csv', text: rosterCsv(1, 2) },
        halls: ['a101'],
      },
    });
    expect(notAdmin.status).toBe(403);
    expect(await errorCode(notAdmin)).toBe('admin-only');
    // Nothing reached c303 (it has the chemistry exam only).
    await expect(halls.db('c303').get(`exam:${PHYSICS}`)).rejects.toMatchObject({ status: 404 });
  });

  it('changes max downloads as a new revision of the examinee documents', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const one = await call(`/api/halls/a101/exams/${PHYSICS}/max-downloads`, {
      method: 'POST',
      cookie,
      body: { maxDownloads: 5, studentIds: ['S1001'] },
    });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ updated: 1, unchanged: 0 });
    const doc = (await halls.db('a101').get(`examinee:${PHYSICS}:S1001`)) as unknown as {
      maxDownloads: number;
      _rev: string;
    };
    expect(doc.maxDownloads).toBe(5);
    expect(doc._rev).toMatch(/^2-/);
    const all = await call(`/api/halls/a101/exams/${PHYSICS}/max-downloads`, {
      method: 'POST',
      cookie,
      body: { maxDownloads: 5 },
    });
    expect(await all.json()).toEqual({ updated: 9, unchanged: 1 });
    const bad: [unknown, number, string][] = [
      [{ maxDownloads: -1 }, 400, 'validation-failed'],
      [{ maxDownloads: 2.5 }, 400, 'validation-failed'],
      [{ maxDownloads: '3' }, 400, 'validation-failed'],
      [{ maxDownloads: 3, studentIds: ['S9999'] }, 404, 'unknown-examinee'],
      [{ maxDownloads: 3, studentIds: [] }, 400, 'validation-failed'],
    ];
    for (const [body, status, code] of bad) {
      const res = await call(`/api/halls/a101/exams/${PHYSICS}/max-downloads`, { method: 'POST', cookie, body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await errorCode(res)).toBe(code);
    }
    const unknownExam = await call(`/api/halls/a101/exams/nope/max-downloads`, {
      method: 'POST',
      cookie,
      body: { maxDownloads: 3 },
    });
    expect(unknownExam.status).toBe(404);
    const staff = await signIn('staff-a101', 'staff-secret');
    const notAdmin = await call(`/api/halls/a101/exams/${PHYSICS}/max-downloads`, {
      method: 'POST',
      cookie: staff,
      body: { maxDownloads: 3 },
    });
    expect(notAdmin.status).toBe(403);
    expect(
      ((await halls.db('a101').get(`examinee:${PHYSICS}:S1002`)) as unknown as { maxDownloads: number }).maxDownloads,
    ).toBe(5);
  });

  it('downloads the collect result as a .tar.gz with submissions.csv and the answer files', async () => {
    const cookie = await signIn('staff-a101', 'staff-secret');
    const res = await call(`/api/halls/a101/collect?exam=${PHYSICS}`, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toContain(`collect-a101-${PHYSICS}.tar.gz`);
    expect(res.headers.get('x-collect-submissions')).toBe('3');
    expect(res.headers.get('x-collect-missing')).toBe('0');
    const tar = gunzipSync(Buffer.from(await res.arrayBuffer()));
    const names: string[] = [];
    for (let at = 0; at + 512 <= tar.length;) {
      const header = tar.subarray(at, at + 512);
      if (header.every((b) => b === 0)) break;
      const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
      const size = parseInt(header.subarray(124, 136).toString('utf8'), 8);
      names.push(prefix === '' ? name : `${prefix}/${name}`);
      if (name.endsWith('submissions.csv')) {
        const csv = tar.subarray(at + 512, at + 512 + size).toString('utf8');
        expect(csv.trim().split('\n')).toHaveLength(4);
      }
      at += 512 + Math.ceil(size / 512) * 512;
    }
    const top = `collect-a101-${PHYSICS}`;
    expect(names).toEqual(
      expect.arrayContaining([
        `${top}/submissions.csv`,
        `${top}/collect-report.json`,
        `${top}/${PHYSICS}/S1001.answers.json`,
        `${top}/${PHYSICS}/S1002.answers.json`,
      ]),
    );
  });
});

describe('live', () => {
  it('says which hall changed when a box pushes a submission or a heartbeat', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const res = await call('/api/live', { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    await until(/event: ready\ndata: \{"halls":\["a101","b202","c303"\]\}/);
    await halls.addSubmission('b202', { examId: PHYSICS, studentId: 'S1012', applianceId: 'box-b202-1' });
    await until(/event: hall-changed\ndata: \{"hallId":"b202","kinds":\[[^\]]*"submission"/);
    await halls.putHeartbeat('c303', heartbeat('box-c303-1', 'c303'));
    await until(/event: hall-changed\ndata: \{"hallId":"c303","kinds":\["appliance-status"\]\}/);
    await until(/event: ping/);
    await reader.cancel();
  });
});

describe('bad input to every route', () => {
  it('gets a 4xx with a clear message and changes nothing in any hall, never a 5xx', async () => {
    const cookie = await signIn('institution-admin', 'admin-secret');
    const seqs = async () =>
      Promise.all(['a101', 'b202', 'c303'].map(async (h) => (await halls.db(h).info()).update_seq));
    const before = await seqs();
    const bodies: Init[] = [
      { raw: '' },
      { raw: 'null' },
      { raw: '[]' },
      { raw: '"text"' },
      { raw: '{"a":' },
      { raw: '{"maxDownloads": 1e999}' },
      { raw: '\u0000\u0001' },
      { raw: '{"exam": {"name": "x.json", "text": 5}, "roster": null, "halls": "a101"}' },
      { body: { maxDownloads: 3, studentIds: ['../../_users'] } },
      { body: { exam: { name: 'e.json', text: '{' }, roster: { name: 'r.csv', text: '' }, halls: ['a101'] } },
      { body: { exam: { name: 'e.json', text: '{}' }, roster: { name: 'r.csv', text: '' }, halls: ['a101', 'a101'] } },
      { raw: '{}', type: 'text/plain' },
    ];
    const routes = [
      ['POST', '/api/session'],
      ['POST', '/api/publish'],
      ['POST', `/api/halls/a101/exams/${PHYSICS}/max-downloads`],
      ['POST', `/api/halls/_users/exams/${PHYSICS}/max-downloads`],
      ['POST', '/api/halls/a101/exams/%2e%2e/max-downloads'],
      ['PUT', '/api/publish'],
      ['DELETE', '/api/overview'],
      ['GET', '/api/halls/_all_dbs/collect'],
      ['GET', '/api/halls/a101/collect?exam=%00'],
    ] as const;
    for (const [method, path] of routes) {
      for (const init of bodies) {
        const res = await call(path, method === 'GET' ? { method, cookie } : { ...init, method, cookie });
        const text = await res.text();
        expect(res.status, `${method} ${path} ${JSON.stringify(init)}: ${text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path} ${JSON.stringify(init)}: ${text}`).toBeLessThan(500);
        expect((JSON.parse(text) as { error: { message: string } }).error.message).toMatch(/\w/);
      }
    }
    expect(await seqs()).toEqual(before);
  });
});
