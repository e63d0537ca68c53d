import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxNames, caScope, type BoxNames } from './box-names.js';
import { ensureLocalCa, type CaCertificate } from './local-ca.js';
import { command, escapeHtml, onboardingApp } from './onboarding.js';
import { ONBOARDING_EN } from './onboarding-text.js';

let dir: string;
let ca: CaCertificate;
/** The names the box's certificate carries. */
const NAMES: BoxNames = boxNames({
  applianceName: 'exam-hall',
  hostname: 'hallpi',
  interfaces: {},
  extraNames: ['192.168.1.20', 'fd00::5'],
});
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'onboarding-test-'));
  const made = await ensureLocalCa({
    dir: path.join(dir, 'tls'),
    applianceName: 'exam-hall',
    names: NAMES,
    scope: caScope({ names: NAMES, interfaces: {}, configuredNetworks: [] }),
    now: Date.now(),
    log: () => undefined,
  });
  ca = made.ca;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A provided certificate for a real domain (provided mode). */
const PROVIDED: BoxNames = { dns: ['exam.school.example', '*.halls.school.example'], ips: [] };
const app = (httpsPort = 8443, withCa = true) =>
  onboardingApp({
    ca: () => (withCa ? ca : undefined),
    names: () => (withCa ? NAMES : PROVIDED),
    httpsPort: () => httpsPort,
    applianceName: 'exam-hall',
  });

describe('the HTTP onboarding page (local-ca)', () => {
  it('offers the CA download, its fingerprint, install steps for every platform and the way to the HTTPS app', async () => {
    const res = await app().request('http://exam-hall.local:8080/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('name="viewport"');
    expect(html).toContain('href="/ca.crt"');
    expect(html).toContain('href="/ca.pem"');
    expect(html).toContain(ca.fingerprint);
    for (const p of [
      'Windows',
      'macOS',
      'iPhone and iPad',
      'Android',
      'Chromebook (ChromeOS)',
      'Linux (Debian, Ubuntu, Raspberry Pi OS)',
      'Firefox (any computer)',
    ])
      expect(html).toContain(p);
    for (const p of ONBOARDING_EN.platforms) for (const step of p.steps) expect(html).toContain(escapeHtml(step));
    expect(html).toContain('href="https://exam-hall.local:8443/"');
  });

  it('runs under a strict policy: no inline script, its style allowed by hash, one request to HTTPS', async () => {
    const res = await app().request('http://exam-hall.local:8080/');
    const csp = res.headers.get('content-security-policy') ?? '';
    const html = await res.text();
    // Every script is a file; the one inline <style> is allowed by its exact hash.
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script src="/onboarding.js">']);
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(css, 'utf8').digest('base64');
    expect(csp).toContain(`style-src 'sha256-${hash}'`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain('connect-src https://exam-hall.local:8443');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // Plain HTTP: no Strict-Transport-Security (browsers ignore it there).
    expect(res.headers.get('strict-transport-security')).toBeNull();
    const js = await app().request('http://exam-hall.local:8080/onboarding.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain('main.dataset.health');
    expect(html).toContain('data-health="https://exam-hall.local:8443/api/health"');
  });

  it('serves the CA certificate as DER (application/x-x509-ca-cert) and as PEM', async () => {
    const der = await app().request('http://exam-hall.local:8080/ca.crt');
    expect(der.status).toBe(200);
    expect(der.headers.get('content-type')).toBe('application/x-x509-ca-cert');
    expect(der.headers.get('content-disposition')).toBe('attachment; filename="exam-hall-ca.crt"');
    const bytes = Buffer.from(await der.arrayBuffer());
    expect(new X509Certificate(bytes).fingerprint256).toBe(ca.fingerprint);
    const pem = await app().request('http://exam-hall.local:8080/ca.pem');
    expect(pem.headers.get('content-type')).toBe('application/x-pem-file');
    expect(new X509Certificate(await pem.text()).ca).toBe(true);
  });

  it('gives Linux the system store and Chrome’s NSS store commands, and Firefox its own store’s steps', async () => {
    const html = await (await app().request('http://exam-hall.local:8080/')).text();
    const linux = /<details id="linux">([\s\S]*?)<\/details>/.exec(html)?.[1] ?? '';
    for (const line of [
      'sudo cp ~/Downloads/exam-hall-ca.pem /usr/local/share/ca-certificates/exam-hall-ca.crt',
      'sudo update-ca-certificates',
      'certutil -d sql:$HOME/.pki/nssdb -A -t &#34;C,,&#34; -n &#34;exam-hall exam hall CA&#34; -i ~/Downloads/exam-hall-ca.pem',
    ])
      expect(linux).toContain(line);
    expect(command('-i ~/Downloads/{file}', 'hall-2')).toBe('-i ~/Downloads/hall-2-ca.pem');
    const firefox = /<details id="firefox">([\s\S]*?)<\/details>/.exec(html)?.[1] ?? '';
    expect(firefox).toContain(
      escapeHtml('Privacy & Security → Certificates → View Certificates… → Authorities → Import…'),
    );
    expect(firefox).toContain('Trust this CA to identify websites');
    expect(firefox).toContain('security.enterprise_roots.enabled');
  });

  it('sends every other address to the same path on HTTPS, by the name the device used', async () => {
    for (const [url, to] of [
      ['http://exam-hall.local:8080/proctor/', 'https://exam-hall.local:8443/proctor/'],
      ['http://192.168.1.20/api/time?x=1', 'https://192.168.1.20:8443/api/time?x=1'],
      ['http://[fd00::5]:80/sw.js', 'https://[fd00::5]:8443/sw.js'],
    ] as const) {
      const res = await app().request(url);
      expect(res.status, url).toBe(307);
      expect(res.headers.get('location')).toBe(to);
    }
    const post = await app().request('http://exam-hall.local/api/session', { method: 'POST', body: '{}' });
    expect(post.status).toBe(307);
    // Not the favicon: the page's img-src would refuse it from the HTTPS origin (a console error).
    expect((await app().request('http://exam-hall.local:8080/favicon.ico')).status).toBe(204);
    const onDefaultPort = await app(443).request('http://exam-hall.local/proctor/');
    expect(onDefaultPort.headers.get('location')).toBe('https://exam-hall.local/proctor/');
  });

  it('redirects only to the box’s own names: any other Host goes to <name>.local', async () => {
    for (const [url, to] of [
      ['http://evil.example/proctor/', 'https://exam-hall.local:8443/proctor/'],
      ['http://intranet.school.internal/ca', 'https://exam-hall.local:8443/ca'],
      ['http://192.168.1.1/api/time', 'https://exam-hall.local:8443/api/time'],
      ['http://[fd00::6]/x', 'https://exam-hall.local:8443/x'],
      ['http://exam-hall.local.evil.example/x', 'https://exam-hall.local:8443/x'],
      ['http://sub.exam-hall.local/x', 'https://exam-hall.local:8443/x'],
      // The box's names in other spellings stay as the device wrote them.
      ['http://HALLPI/x', 'https://hallpi:8443/x'],
      ['http://exam-hall.local./x', 'https://exam-hall.local:8443/x'],
      ['http://[FD00:0:0::5]/x', 'https://[fd00::5]:8443/x'],
      ['http://localhost:8080/x', 'https://localhost:8443/x'],
    ] as const) {
      const res = await app().request(url);
      expect(res.headers.get('location'), url).toBe(to);
    }
    // The page itself, reached by another name, links and connects to the box's name only.
    const res = await app().request('http://evil.example/');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('href="https://exam-hall.local:8443/"');
    expect(html).not.toContain('evil.example');
    expect(res.headers.get('content-security-policy')).toContain('connect-src https://exam-hall.local:8443');
  });

  it('in provided mode (a public certificate) sends everything to HTTPS, the page too', async () => {
    const res = await app(443, false).request('http://exam.school.example/');
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('https://exam.school.example/');
    expect((await app(443, false).request('http://exam.school.example/ca.crt')).status).toBe(307);
    // A name the certificate's wildcard covers stays; any other goes to its first name.
    for (const [url, to] of [
      ['http://hall-3.halls.school.example/x', 'https://hall-3.halls.school.example/x'],
      ['http://a.b.halls.school.example/x', 'https://exam.school.example/x'],
      ['http://evil.example/x', 'https://exam.school.example/x'],
      ['http://exam-hall.local/x', 'https://exam.school.example/x'],
    ] as const)
      expect((await app(443, false).request(url)).headers.get('location'), url).toBe(to);
  });
});
