import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDoctor, judgeCertificate, judgeDisk, judgeSnapshotSpace } from './doctor.js';

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
