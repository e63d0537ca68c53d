/**
 * Serving the built PWA through the whole app (app.request(), a fake client/dist in a temp
 * folder): pages, the dashboard's folder address, cache headers, precompressed files, and the
 * API and refusals unchanged around it; the placeholder page before any build.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../domain/clock.js';
import { buildApp } from '../app.js';
import { openTestAppliance, removeDir, type TestAppliance } from '../../../tests/support/appliance.js';
import { cacheControlFor, clientFiles, IMMUTABLE, isClientBuilt, REVALIDATE } from './static-files.js';

const BUNDLE = `console.log(${JSON.stringify('x'.repeat(4_000))});\n`;

describe('the built client, served by the appliance', () => {
  let appliance: TestAppliance;
  let dist: string;
  let app: ReturnType<typeof buildApp>;

  beforeAll(async () => {
    appliance = await openTestAppliance(new FakeClock(Date.parse('2026-06-01T09:00:00Z')));
    dist = await mkdtemp(path.join(tmpdir(), 'client-dist-'));
    await mkdir(path.join(dist, 'proctor'));
    await mkdir(path.join(dist, 'assets'));
    await mkdir(path.join(dist, 'api'));
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>examinee</title>');
    await writeFile(path.join(dist, 'proctor', 'index.html'), '<!doctype html><title>proctor</title>');
    await writeFile(path.join(dist, 'assets', 'app-1a2b3c.js'), BUNDLE);
    await writeFile(path.join(dist, 'assets', 'app-1a2b3c.js.gz'), gzipSync(BUNDLE));
    await writeFile(path.join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {});');
    await writeFile(path.join(dist, 'manifest.webmanifest'), '{"name":"Exam hall"}');
    // A file where an API address would be: the API must still answer, never a file.
    await writeFile(path.join(dist, 'api', 'health'), 'not the API');
    await writeFile(path.join(dist, 'api', 'nothing-here'), 'not the API');
    app = buildApp({
      services: appliance.services,
      version: '0.1.0',
      client: { kind: 'built', files: clientFiles(dist) },
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await appliance.close();
    await removeDir(appliance.dataDir);
    await removeDir(dist);
  });

  it('knows a build when it sees one', async () => {
    expect(isClientBuilt(dist)).toBe(true);
    expect(isClientBuilt(path.join(dist, 'assets'))).toBe(false);
  });

  it('serves the examinee app at / and the dashboard at /proctor/, revalidated on every load', async () => {
    const examinee = await app.request('/');
    expect(examinee.status).toBe(200);
    expect(examinee.headers.get('content-type')).toMatch(/^text\/html/);
    expect(examinee.headers.get('cache-control')).toBe(REVALIDATE);
    expect(await examinee.text()).toContain('examinee');

    const redirect = await app.request('/proctor?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/proctor/?x=1');

    const proctor = await app.request('/proctor/');
    expect(proctor.status).toBe(200);
    expect(await proctor.text()).toContain('proctor');
    expect(proctor.headers.get('cache-control')).toBe(REVALIDATE);
  });

  it('lets browsers keep hashed assets for a year, and sends the gzipped copy to those that take it', async () => {
    const plain = await app.request('/assets/app-1a2b3c.js');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(plain.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(BUNDLE);

    const gz = await app.request('/assets/app-1a2b3c.js', { headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(gz.status).toBe(200);
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('vary')).toMatch(/accept-encoding/i);
    expect(gz.headers.get('cache-control')).toBe(IMMUTABLE);
    expect(gz.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(Number(gz.headers.get('content-length'))).toBeLessThan(BUNDLE.length);
  });

  it('never lets the service worker or the manifest go stale in a cache', async () => {
    const sw = await app.request('/sw.js');
    expect(sw.status).toBe(200);
    expect(sw.headers.get('cache-control')).toBe(REVALIDATE);
    const manifest = await app.request('/manifest.webmanifest');
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect(manifest.headers.get('cache-control')).toBe(REVALIDATE);
  });

  it('keeps the API and its refusals: /api/ is never a file, and nothing outside the build is served', async () => {
    const health = await app.request('/api/health');
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    const unknown = await app.request('/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not-found');
    for (const p of ['/nothing-here.js', '/..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/assets/../../x']) {
      const res = await app.request(p);
      expect(res.status, p).toBe(404);
      expect(res.headers.get('content-type'), p).toMatch(/^application\/json/);
    }
    expect((await app.request('/', { method: 'POST' })).status).toBe(404);
  });

  it('serves the placeholder page at / before the client is built', async () => {
    const placeholder = buildApp({
      services: appliance.services,
      version: '0.1.0',
      client: { kind: 'placeholder', html: '<!doctype html><p>run npm run build</p>' },
      log: () => undefined,
    });
    const res = await placeholder.request('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('npm run build');
    expect((await placeholder.request('/proctor/')).status).toBe(404);
  });

  it('caches by folder: only hashed assets are immutable', () => {
    expect(cacheControlFor('assets/examinee-C2S20d9M.js')).toBe(IMMUTABLE);
    for (const p of ['index.html', 'proctor/index.html', 'sw.js', 'manifest.webmanifest', 'icons/icon-192.png'])
      expect(cacheControlFor(p), p).toBe(REVALIDATE);
  });
});
