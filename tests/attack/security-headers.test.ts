/**
 * The security headers on every page and answer of a real appliance process (issue 17 item 4):
 * a strict Content-Security-Policy (no inline script, no eval, no framing), Referrer-Policy
 * no-referrer, nosniff, X-Frame-Options; Strict-Transport-Security with HTTPS on and never over
 * plain HTTP; the built pages themselves hold no inline script, handler or style attribute, so
 * the policy costs them nothing. The browser tests run the apps under the same headers (and
 * client/e2e/accessibility.test.ts checks that the browser enforces them).
 */
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHall, type RunningHall } from './support.js';

const DIST = path.resolve(import.meta.dirname, '../../client/dist');

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** GET over HTTPS against the box's own CA (read from its data directory). */
function httpsGet(url: string, ca: string, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method, ca, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function httpGet(url: string, method = 'GET', body?: string): Promise<Answer> {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

/** What every address of the app is asked: pages, the service worker, files, API answers, refusals. */
async function addresses(): Promise<Array<[string, string, string?]>> {
  const index = await readFile(path.join(DIST, 'index.html'), 'utf8');
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
  if (asset === undefined) throw new Error('client/dist/index.html names no script: run `npm run build` first');
  return [
    ['GET', '/'],
    ['GET', '/proctor/'],
    ['GET', '/proctor/exams/exam-1'],
    ['GET', '/sw.js'],
    ['GET', '/manifest.webmanifest'],
    ['GET', asset],
    ['GET', '/api/health'],
    ['GET', '/api/time'],
    ['GET', '/api/proctor/me'],
    ['GET', '/api/no-such-thing'],
    ['POST', '/api/session', '{"studentId": '],
  ];
}

function expectStrictHeaders(where: string, h: Answer['headers']): void {
  const csp = h['content-security-policy'] ?? '';
  expect({ where, csp }).toMatchObject({ where, csp: expect.stringContaining("frame-ancestors 'none'") });
  expect({ where, csp }).toMatchObject({
    where,
    csp: expect.stringMatching(/(^|; )(script-src|default-src) '(self|none)'/),
  });
  expect({ where, csp }).not.toMatchObject({ csp: expect.stringMatching(/unsafe-inline|unsafe-eval|\*/) });
  expect({ where, csp }).toMatchObject({ where, csp: expect.stringContaining("object-src 'none'") });
  expect({
    where,
    referrer: h['referrer-policy'],
    sniff: h['x-content-type-options'],
    frame: h['x-frame-options'],
  }).toEqual({
    where,
    referrer: 'no-referrer',
    sniff: 'nosniff',
    frame: 'DENY',
  });
}

/** Plain HTTP: no Strict-Transport-Security, no Cross-Origin-Opener-Policy (HTTPS only). */
function expectNoHttpsOnlyHeaders(p: string, h: Answer['headers']): void {
  expect({ p, hsts: h['strict-transport-security'], coop: h['cross-origin-opener-policy'] }).toEqual({
    p,
    hsts: undefined,
    coop: undefined,
  });
}

describe('security headers on every address (real appliance process)', () => {
  describe('over plain HTTP (PROCTOR_HTTPS_MODE=off)', () => {
    let hall: RunningHall;
    beforeAll(async () => {
      hall = await startHall('proctor-headers-http-', { examinees: 1 });
    }, 60_000);
    afterAll(async () => {
      await hall?.close();
    });

    it('sends the strict policy and the other headers everywhere, and no HSTS', async () => {
      for (const [method, p, body] of await addresses()) {
        const res = await httpGet(`${hall.proc.baseUrl}${p}`, method, body);
        expect({ p, status: res.status < 500 }).toEqual({ p, status: true });
        expectStrictHeaders(`${method} ${p} → ${res.status}`, res.headers);
        expectNoHttpsOnlyHeaders(p, res.headers);
      }
    });

    it('serves pages with no inline script, handler or style attribute', async () => {
      for (const page of ['/', '/proctor/']) {
        const html = (await httpGet(`${hall.proc.baseUrl}${page}`)).body;
        const scripts = html.match(/<script\b[^>]*>/g) ?? [];
        expect(scripts.length, page).toBeGreaterThan(0);
        for (const s of scripts) expect(s, page).toMatch(/\bsrc="\/[^"]+"/);
        expect(html, page).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
        expect(html, page).not.toMatch(/\son[a-z]+=/i);
        expect(html, page).not.toMatch(/\sstyle=/i);
        expect(html, page).not.toMatch(/<style\b/i);
      }
    });
  });

  describe('with HTTPS on (local-ca)', () => {
    let hall: RunningHall;
    let ca: string;
    let httpPort: number;
    beforeAll(async () => {
      hall = await startHall('proctor-headers-https-', {
        examinees: 1,
        env: { PROCTOR_HTTPS_MODE: 'local-ca', PROCTOR_HTTP_PORT: '0' },
      });
      ca = await readFile(path.join(hall.dataDir, 'tls', 'ca.crt'), 'utf8');
      httpPort = Number(/^HTTP port=(\d+)$/m.exec(hall.proc.stdout)?.[1]);
    }, 60_000);
    afterAll(async () => {
      await hall?.close();
    });

    it('adds Strict-Transport-Security (a day by default) to every HTTPS answer', async () => {
      const origin = `https://localhost:${hall.proc.port}`;
      for (const [method, p, body] of await addresses()) {
        const res = await httpsGet(`${origin}${p}`, ca, method, body);
        expect({ p, status: res.status < 500 }).toEqual({ p, status: true });
        expectStrictHeaders(`https ${method} ${p} → ${res.status}`, res.headers);
        expect({
          p,
          hsts: res.headers['strict-transport-security'],
          coop: res.headers['cross-origin-opener-policy'],
        }).toEqual({
          p,
          hsts: 'max-age=86400',
          coop: 'same-origin',
        });
      }
    });

    it('gives the plain-HTTP onboarding page and its redirects the strict headers, without HSTS', async () => {
      expect(httpPort).toBeGreaterThan(0);
      const expected: Record<string, number> = {
        '/?stay': 200,
        '/onboarding.js': 200,
        '/ca.crt': 200,
        '/favicon.ico': 204,
        '/proctor/': 307,
      };
      for (const [p, status] of Object.entries(expected)) {
        const res = await httpGet(`http://127.0.0.1:${httpPort}${p}`);
        expect({ p, status: res.status }).toEqual({ p, status });
        expectStrictHeaders(`onboarding ${p}`, res.headers);
        expectNoHttpsOnlyHeaders(p, res.headers);
      }
    });
  });
});
