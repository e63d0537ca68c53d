import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { sha256HexOfText } from '../../domain/canonical.js';
import { ExamineeClient, openTestAppliance, removeDir, testExam } from '../../tests/support/appliance.js';
import {
  blobCheck,
  formatDoctor,
  judgeCertificate,
  judgeDisk,
  judgeSnapshotSpace,
  judgeSync,
  runDoctor,
} from './doctor.js';

const MB = 1024 * 1024;
const work = mkdtempSync(path.join(tmpdir(), 'proctor-doctor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A self-signed certificate valid for `days` days, made with openssl. */
function certificate(days: number): string {
  const crt = path.join(work, `${days}.crt`);
  execFileSync('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
    ...['-keyout', path.join(work, `${days}.key`), '-out', crt, '-days', String(days)],
    ...['-subj', '/CN=exam-hall.local', '-addext', 'subjectAltName=DNS:exam-hall.local'],
  ]);
  return readFileSync(crt, 'utf8');
}

describe('doctor', () => {
  it('judges disk space', () => {
    expect(judgeDisk(10_000 * MB, 30_000 * MB).status).toBe('ok');
    expect(judgeDisk(1_500 * MB, 15_000 * MB).status).toBe('warn');
    expect(judgeDisk(400 * MB, 30_000 * MB).status).toBe('fail');
    expect(judgeDisk(1_000 * MB, 100_000 * MB).status).toBe('fail');
  });

  it('warns while the central server refuses documents of this box, or the box', () => {
    expect(judgeSync({ state: 'off', lastSuccessAt: null, refused: 0 })).toMatchObject({ status: 'ok' });
    expect(judgeSync({ state: 'idle', lastSuccessAt: '2026-12-01T10:00:00.000Z', refused: 0 })).toMatchObject({
      status: 'ok',
      detail: 'idle; last complete sync 2026-12-01T10:00:00.000Z',
    });
    expect(judgeSync({ state: 'error', lastSuccessAt: null, refused: 2 })).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('refused 2 document(s)'),
    });
    expect(judgeSync({ state: 'error', lastSuccessAt: null, refused: 0 }).status).toBe('warn');
    expect(judgeSync(undefined).status).toBe('ok');
  });

  it('warns when the data disk cannot hold the proctoring snapshots still to come', () => {
    expect(judgeSnapshotSpace(0, 100 * MB)).toMatchObject({ status: 'ok', detail: 'no proctoring snapshots to come' });
    expect(judgeSnapshotSpace(2_000 * MB, 10_000 * MB)).toMatchObject({
      status: 'ok',
      detail: 'snapshots of the exams to come need about 2000 MB; 10000 MB free',
    });
    const tight = judgeSnapshotSpace(9_700 * MB, 10_000 * MB);
    expect(tight.status).toBe('warn');
    expect(tight.detail).toContain('the data disk cannot hold them');
  });

  it('judges the certificate: days left, HTTPS off, missing, not a certificate', () => {
    const now = Date.now();
    const long = judgeCertificate(certificate(200), now, 'server.crt');
    expect(long.status).toBe('ok');
    expect(long.detail).toMatch(/^(199|200) days left .*DNS:exam-hall\.local/);
    expect(judgeCertificate(certificate(10), now, 'server.crt').status).toBe('warn');
    expect(judgeCertificate(certificate(10), now + 20 * 86_400_000, 'server.crt')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^expired/),
    });
    expect(judgeCertificate(undefined, now, 'data/tls/server.crt', 'off')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('HTTPS off'),
    });
    expect(judgeCertificate(undefined, now, 'data/tls/server.crt', 'local-ca')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('no data/tls/server.crt'),
    });
    expect(judgeCertificate('nonsense', now, 'server.crt').status).toBe('fail');
  });

  it('prints one line a check and a verdict', () => {
    const out = formatDoctor([
      { name: 'disk space', status: 'ok', detail: 'plenty' },
      { name: 'certificate', status: 'fail', detail: 'expired' },
    ]);
    expect(out).toBe('OK    disk space   plenty\nFAIL  certificate  expired\n1 failed, 0 warnings\n');
  });
});

describe('doctor on a box the appliance has not run on', () => {
  it('says to start the appliance once, not ENOENT, and that nothing answers at the health address', async () => {
    // A port nothing listens on: one taken and let go.
    const probe = serve({ fetch: () => new Response(''), port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => probe.once('listening', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const missing = path.join(work, 'never-started');
    const checks = await runDoctor({
      dataDir: missing,
      healthUrl: `http://127.0.0.1:${port}/api/health`,
      unit: 'proctor-appliance.service',
      nowMs: Date.now(),
      httpsMode: 'off',
    });
    const text = formatDoctor(checks);
    expect(text).toContain(`FAIL  data folder`);
    expect(text).toContain(`${missing} does not exist: start the appliance once`);
    expect(text).toContain('nothing answers there: is the appliance running?');
    expect(text).not.toMatch(/ENOENT|fetch failed/);
    // One line about the folder, not one per check that needs it.
    expect(checks.filter((c) => c.detail.includes(missing))).toHaveLength(1);
  });
});

describe('doctor beside a running appliance', () => {
  it('names a blob the events name that is gone, and the storage problems health reports', async () => {
    const clock = new FakeClock(Date.parse('2026-06-01T08:00:00Z'));
    const start = clock.now() + 30 * 60_000;
    // The appliance runs in this process: its LevelDB is open (and locked); the doctor never opens it.
    const appliance = await openTestAppliance(clock, { exam: testExam(start) });
    const server = serve({ fetch: appliance.app.fetch, hostname: '127.0.0.1', port: 0 });
    try {
      const port = await new Promise<number>((resolve) => {
        const at = () => resolve((server.address() as AddressInfo).port);
        if (server.listening) at();
        else server.once('listening', at);
      });
      const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
      expect((await ada.signIn()).status).toBe(200);
      expect((await ada.get('/api/exam/package')).status).toBe(200);
      clock.set(start + 60_000);
      expect((await ada.get('/api/exam/key')).status).toBe(200);
      const pdf = '%PDF-1.4 lab report';
      expect((await ada.uploadFile(pdf)).status).toBe(201);
      const body = ada.answerFile({
        q1: 'a',
        q5: [{ sha256: sha256HexOfText(pdf), size: pdf.length, name: 'report.pdf' }],
      });
      expect((await ada.submit(body)).status).toBe(201);
      expect(await blobCheck(appliance.dataDir)).toEqual({
        name: 'blobs',
        status: 'ok',
        detail: expect.stringMatching(/^2 named by events, all there with their size and SHA-256 \(\d+ ms\)$/),
      });

      await rm(appliance.store.blobs.pathOf(sha256HexOfText(pdf)));
      await appliance.store.flushIndex();
      appliance.store.failNextIndexBatches(new Error('IO error: simulated'));
      // An event to index (a proctor looked at Ada's contact details); its batch is refused.
      await appliance.store.record('exam-1', [
        { kind: 'contact-revealed', actor: { role: 'proctor', username: 'chief' }, studentId: 'S1', data: {} },
      ]).durable;
      await expect(appliance.store.flushIndex()).rejects.toMatchObject({ code: 'index-unavailable' });

      const checks = await runDoctor({
        dataDir: appliance.dataDir,
        healthUrl: `http://127.0.0.1:${port}/api/health`,
        unit: 'proctor-appliance-doctor-test',
        nowMs: Date.now(),
        httpsMode: 'off',
      });
      const byName = new Map(checks.map((c) => [c.name, c]));
      expect(byName.get('blobs')).toMatchObject({
        status: 'fail',
        detail: '1 of 2 named by events missing or damaged: acknowledged uploads without their bytes',
        more: [
          expect.stringMatching(
            new RegExp(
              `^blob ${sha256HexOfText(pdf)} \\(19 bytes\\) is missing: no file; named by file-uploaded of S1 \\(event:exam-1:`,
            ),
          ),
        ],
      });
      expect(byName.get('appliance health')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('status degraded'),
        more: [
          expect.stringMatching(
            /^index-failing since \S+: the database refused an index batch .*IO error: simulated; retrying$/,
          ),
        ],
      });
      const text = formatDoctor(checks);
      expect(text).toMatch(/^FAIL {2}blobs +1 of 2 named by events missing or damaged/m);
      expect(text).toMatch(new RegExp(`^ {8,}blob ${sha256HexOfText(pdf)} \\(19 bytes\\) is missing`, 'm'));
    } finally {
      server.close();
      await appliance.close();
      await removeDir(appliance.dataDir);
    }
  });
});
