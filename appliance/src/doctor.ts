/**
 * `npm run appliance -- doctor`: is this box fit for an exam? Checks disk space, the clock, the
 * HTTPS certificate, that the data folder takes a durable write, that the systemd service is
 * active, and what the running appliance says at /api/health. Each check is ok, warn or fail;
 * the exit code is 1 when any check fails.
 *
 * Certificate: read from `<dataDir>/tls/server.crt` (the HTTPS work's path convention; a missing
 * file means HTTPS is off). Once `certificateStatus()` from appliance/src/tls/ is merged, use it.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { checkStorage } from './systemd/storage-check.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

const MB = 1024 * 1024;
const DAY_MS = 86_400_000;

/** Disk space for the data folder: fail under 500 MB or 5 %, warn under 2 GB or 10 %. */
export function judgeDisk(freeBytes: number, totalBytes: number): DoctorCheck {
  const pct = totalBytes > 0 ? (100 * freeBytes) / totalBytes : 0;
  const detail = `${Math.round(freeBytes / MB)} MB free of ${Math.round(totalBytes / MB)} MB (${pct.toFixed(1)} %)`;
  if (freeBytes < 500 * MB || pct < 5) return { name: 'disk space', status: 'fail', detail };
  if (freeBytes < 2048 * MB || pct < 10) return { name: 'disk space', status: 'warn', detail };
  return { name: 'disk space', status: 'ok', detail };
}

/** Certificate days left: fail when expired, warn under 30 days; no file: HTTPS off (warn). */
export function judgeCertificate(pem: string | undefined, nowMs: number, file: string): DoctorCheck {
  const name = 'certificate';
  if (pem === undefined)
    return { name, status: 'warn', detail: `no ${file}: HTTPS off (examinee pages cannot reload offline)` };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    return { name, status: 'fail', detail: `${file} is not a certificate: ${String(err)}` };
  }
  const daysLeft = Math.floor((Date.parse(cert.validTo) - nowMs) / DAY_MS);
  const names = cert.subjectAltName ?? cert.subject;
  const detail = `${daysLeft} days left (until ${new Date(cert.validTo).toISOString()}), ${names}`;
  if (daysLeft < 0) return { name, status: 'fail', detail: `expired: ${detail}` };
  if (daysLeft < 30) return { name, status: 'warn', detail };
  return { name, status: 'ok', detail };
}

function run(command: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5_000 }, (err, stdout) => resolve({ ok: !err, stdout: String(stdout) }));
  });
}

async function clockCheck(): Promise<DoctorCheck> {
  const name = 'clock synchronised';
  const timedatectl = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (timedatectl.ok) {
    return timedatectl.stdout.trim() === 'yes'
      ? { name, status: 'ok', detail: 'NTP synchronised (timedatectl)' }
      : {
          name,
          status: 'warn',
          detail: 'not NTP synchronised: a proctor must confirm the time before an exam opens',
        };
  }
  const chrony = await run('chronyc', ['-n', 'tracking']);
  if (chrony.ok) {
    const leap = /Leap status\s*:\s*(.*)/.exec(chrony.stdout)?.[1]?.trim();
    return leap === 'Normal'
      ? { name, status: 'ok', detail: 'synchronised (chronyc tracking)' }
      : { name, status: 'warn', detail: `chrony leap status ${leap ?? 'unknown'}: a proctor must confirm the time` };
  }
  return { name, status: 'warn', detail: 'neither timedatectl nor chronyc answered' };
}

async function serviceCheck(unit: string): Promise<DoctorCheck> {
  const name = 'service active';
  const r = await run('systemctl', ['is-active', unit]);
  const state = r.stdout.trim();
  if (r.ok) return { name, status: 'ok', detail: `${unit} ${state}` };
  if (state === '') return { name, status: 'warn', detail: 'systemctl not available (not a provisioned box?)' };
  return { name, status: 'fail', detail: `${unit} ${state}` };
}

async function healthCheck(url: string): Promise<DoctorCheck[]> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as Record<string, unknown>;
    const out: DoctorCheck[] = [
      {
        name: 'appliance health',
        status: res.ok && body.status === 'ok' ? 'ok' : 'fail',
        detail: `${url}: HTTP ${res.status}, status ${String(body.status)}, appliance ${String(body.applianceId)}, hall ${String(body.hallId)}, version ${String(body.version)}, ${String(body.exams)} exams`,
      },
    ];
    if (body.sync !== undefined) out.push({ name: 'sync', status: 'ok', detail: JSON.stringify(body.sync) });
    else out.push({ name: 'sync', status: 'ok', detail: 'not in /api/health: proctors see it in the Sync status tab' });
    return out;
  } catch (err) {
    return [{ name: 'appliance health', status: 'fail', detail: `${url}: ${String(err)}` }];
  }
}

export interface DoctorOptions {
  dataDir: string;
  healthUrl: string;
  unit: string;
  nowMs: number;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  try {
    const s = await statfs(options.dataDir);
    checks.push(judgeDisk(s.bavail * s.bsize, s.blocks * s.bsize));
  } catch (err) {
    checks.push({ name: 'disk space', status: 'fail', detail: `${options.dataDir}: ${String(err)}` });
  }
  checks.push(await clockCheck());
  const certFile = path.join(options.dataDir, 'tls', 'server.crt');
  const pem = await readFile(certFile, 'utf8').catch(() => undefined);
  checks.push(judgeCertificate(pem, options.nowMs, certFile));
  // Its own probe file, removed after: the doctor may run as root and must not leave a file the
  // appliance's user cannot rewrite.
  const probe = `.storage-probe-doctor-${process.pid}`;
  const storage = await checkStorage(options.dataDir, probe);
  await unlink(path.join(options.dataDir, probe)).catch(() => {});
  checks.push(
    storage.ok
      ? { name: 'storage writable', status: 'ok', detail: `write + fsync + read in ${storage.ms.toFixed(1)} ms` }
      : { name: 'storage writable', status: 'fail', detail: storage.reason },
  );
  checks.push(await serviceCheck(options.unit));
  checks.push(...(await healthCheck(options.healthUrl)));
  return checks;
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  lines.push(failed > 0 ? `${failed} failed, ${warned} warnings` : `healthy (${warned} warnings)`);
  return `${lines.join('\n')}\n`;
}
