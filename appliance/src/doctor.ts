/**
 * `npm run appliance -- doctor`: is this box fit for an exam? Checks disk space, the clock, the
 * HTTPS certificate, that the data folder takes a durable write, that the systemd service is
 * active, and what the running appliance says at /api/health (with the disk its exams' proctoring
 * snapshots still need: a warning when the data disk cannot hold them), and that every blob the
 * appliance's events name is on disk with its size and SHA-256. Each check is ok, warn or fail;
 * the exit code is 1 when any check fails.
 *
 * Blobs: the doctor runs beside a running appliance, whose LevelDB it cannot open (the appliance
 * holds its lock). So it reads what the appliance only appends to or writes once: the journal
 * (read-only; a record being written is a torn tail and is skipped) and the blob files
 * (store/blob-audit.ts, as verify-log does). No endpoint and no proctor sign-in are needed, and the
 * check works as well on a stopped box. It reads every blob once: see docs/performance.md.
 *
 * Data on disk: a data folder in memory (tmpfs, overlayfs, ...; systemd/volatile-storage.ts)
 * fails, as the appliance refuses to start on it; a warning with PROCTOR_ALLOW_VOLATILE_DATA=true.
 *
 * Certificate: per PROCTOR_HTTPS_MODE: off is a warning (no offline reload on the hall network);
 * local-ca reads `<dataDir>/tls/server.crt` (appliance/src/tls/local-ca.ts), provided reads
 * PROCTOR_TLS_CERT; a missing file then fails.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { get as httpsGet } from 'node:https';
import { rootCertificates } from 'node:tls';
import { auditBlobs, blobFindingLine } from './store/blob-audit.js';
import { readJournal } from './store/journal-reader.js';
import { checkStorage } from './systemd/storage-check.js';
import { inspectDataStorage, volatileDataMessage, type DataStorage } from './systemd/volatile-storage.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** Further lines under the check (e.g. each missing blob). */
  more?: string[];
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

/**
 * Room for the proctoring snapshots of the exams not over yet (their estimate, less what is
 * stored): warn when they would leave less than the 500 MB the disk check fails under.
 */
export function judgeSnapshotSpace(stillNeededBytes: number, freeBytes: number): DoctorCheck {
  const name = 'snapshot space';
  if (stillNeededBytes <= 0) return { name, status: 'ok', detail: 'no proctoring snapshots to come' };
  const detail = `snapshots of the exams to come need about ${Math.ceil(stillNeededBytes / MB)} MB; ${Math.round(freeBytes / MB)} MB free`;
  if (freeBytes - stillNeededBytes < 500 * MB)
    return {
      name,
      status: 'warn',
      detail: `${detail}: the data disk cannot hold them (lower the interval or the type on Exam info)`,
    };
  return { name, status: 'ok', detail };
}

/**
 * The sync as /api/health says it: warn while the central server refuses documents of this box
 * (they wait on the box, offered again at each reconnection, until the institution acts) or
 * refuses the box; ok otherwise, also with no central server configured.
 */
export function judgeSync(sync: unknown): DoctorCheck {
  const name = 'sync';
  const s = sync as { state?: unknown; lastSuccessAt?: unknown; refused?: unknown } | undefined;
  if (!s || typeof s.state !== 'string') return { name, status: 'ok', detail: 'not in /api/health' };
  if (s.state === 'off') return { name, status: 'ok', detail: 'no central server configured' };
  const last =
    typeof s.lastSuccessAt === 'string' ? `last complete sync ${s.lastSuccessAt}` : 'never synced completely';
  const refused = typeof s.refused === 'number' ? s.refused : 0;
  if (refused > 0)
    return {
      name,
      status: 'warn',
      detail: `the central server refused ${refused} document(s) of this box (they stay here; see the Sync status tab); ${last}`,
    };
  if (s.state === 'error')
    return { name, status: 'warn', detail: `the central server refuses the box (see the Sync status tab); ${last}` };
  return { name, status: 'ok', detail: `${s.state}; ${last}` };
}

/** Certificate days left: fail when expired, warn under 30 days; no file: HTTPS off (warn). */
export function judgeCertificate(
  pem: string | undefined,
  nowMs: number,
  file: string,
  httpsMode: 'off' | 'local-ca' | 'provided' = 'local-ca',
): DoctorCheck {
  const name = 'certificate';
  if (httpsMode === 'off')
    return { name, status: 'warn', detail: 'HTTPS off (PROCTOR_HTTPS_MODE=off): examinee pages cannot reload offline' };
  if (pem === undefined) return { name, status: 'fail', detail: `HTTPS ${httpsMode}, but there is no ${file}` };
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

/** GET a JSON document; over https:// trusting `ca` (the box's own CA) as well as the usual roots. */
function getJson(
  url: string,
  ca: string | undefined,
): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }> {
  if (!url.startsWith('https:'))
    return fetch(url, { signal: AbortSignal.timeout(5_000) }).then(async (res) => ({
      ok: res.ok,
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
    }));
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      url,
      { ca: ca === undefined ? undefined : [...rootCertificates, ca], timeout: 5_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            const status = res.statusCode ?? 0;
            resolve({ ok: status >= 200 && status < 300, status, body: JSON.parse(text) as Record<string, unknown> });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
  });
}

async function healthCheck(url: string, ca: string | undefined, freeBytes: number | undefined): Promise<DoctorCheck[]> {
  try {
    const res = await getJson(url, ca);
    const body = res.body;
    const needed = (body.snapshots as { stillNeededBytes?: unknown } | undefined)?.stillNeededBytes;
    const snapshots =
      typeof needed === 'number' && freeBytes !== undefined ? [judgeSnapshotSpace(needed, freeBytes)] : [];
    // Degraded: a storage fault the appliance survives, each named (store/storage-problems.ts).
    const problems = Array.isArray(body.problems)
      ? (body.problems as { code?: unknown; since?: unknown; detail?: unknown }[])
      : [];
    const out: DoctorCheck[] = [
      {
        name: 'appliance health',
        status: res.ok && body.status === 'ok' ? 'ok' : 'fail',
        detail: `${url}: HTTP ${res.status}, status ${String(body.status)}, appliance ${String(body.applianceId)}, hall ${String(body.hallId)}, version ${String(body.version)}, ${String(body.exams)} exams`,
        ...(problems.length > 0
          ? { more: problems.map((p) => `${String(p.code)} since ${String(p.since)}: ${String(p.detail)}`) }
          : {}),
      },
    ];
    out.push(judgeSync(body.sync));
    return [...out, ...snapshots];
  } catch (err) {
    return [{ name: 'appliance health', status: 'fail', detail: `${url}: ${whyNoAnswer(err)}` }];
  }
}

/** What a failed health request means, in words: fetch's "fetch failed" hides it in `cause`. */
function whyNoAnswer(err: unknown): string {
  const code = (err as { cause?: { code?: unknown }; code?: unknown }).cause?.code ?? (err as { code?: unknown }).code;
  if (code === 'ECONNREFUSED')
    return (
      'nothing answers there: is the appliance running? (`systemctl status proctor-appliance` on the ' +
      'box; `npm start` elsewhere; --url for another address)'
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return 'that host name does not resolve (--url for another address)';
  return String(err);
}

/** The data folder is missing: the appliance makes it on its first start. */
const noDataFolder = (dataDir: string): DoctorCheck => ({
  name: 'data folder',
  status: 'fail',
  detail:
    `${dataDir} does not exist: start the appliance once (it makes the folder), or set ` +
    'PROCTOR_DATA_DIR to the folder it uses',
});

/** Most blob findings printed under the check (verify-log lists them all). */
const BLOB_LINES = 20;

/**
 * Every blob the journal's events name: there, with its size and SHA-256 (store/blob-audit.ts).
 * Reads the journal and blob files only, so it runs beside a running appliance.
 */
export async function blobCheck(dataDir: string): Promise<DoctorCheck> {
  const name = 'blobs';
  const started = performance.now();
  try {
    const journal = await readJournal(path.join(dataDir, 'journal'));
    const audit = await auditBlobs(
      path.join(dataDir, 'blobs'),
      journal.records.flatMap((r) => r.docs),
    );
    const ms = Math.round(performance.now() - started);
    if (audit.bad === 0)
      return {
        name,
        status: 'ok',
        detail:
          audit.checked === 0
            ? 'no blobs named by events yet'
            : `${audit.checked} named by events, all there with their size and SHA-256 (${ms} ms)`,
      };
    const lines = audit.findings.slice(0, BLOB_LINES).map(blobFindingLine);
    if (audit.bad > lines.length)
      lines.push(`… and ${audit.bad - lines.length} more (npm run appliance -- verify-log lists them all)`);
    return {
      name,
      status: 'fail',
      detail: `${audit.bad} of ${audit.checked} named by events missing or damaged: acknowledged uploads without their bytes`,
      more: lines,
    };
  } catch (err) {
    return { name, status: 'fail', detail: `${dataDir}: ${String(err)}` };
  }
}

export interface DoctorOptions {
  dataDir: string;
  healthUrl: string;
  unit: string;
  nowMs: number;
  /** PROCTOR_HTTPS_MODE; default local-ca. */
  httpsMode?: 'off' | 'local-ca' | 'provided';
  /** The server certificate; default `<dataDir>/tls/server.crt` (local-ca's). */
  certFile?: string;
  /** The box's CA, trusted for the health check over https; default `<dataDir>/tls/ca.crt`. */
  caFile?: string;
  /** PROCTOR_ALLOW_VOLATILE_DATA: a data folder in memory is a warning, not a failure. */
  allowVolatileData?: boolean;
  /** /proc/self/mountinfo's text (tests); default: read it. */
  mountInfo?: string;
}

/** The data folder on a disk, not in memory (systemd/volatile-storage.ts). */
export async function dataStorageCheck(
  dataDir: string,
  options: { allowVolatileData?: boolean; mountInfo?: string } = {},
): Promise<DoctorCheck> {
  const name = 'data on disk';
  let storage: DataStorage;
  try {
    storage = await inspectDataStorage(dataDir, options.mountInfo);
  } catch (err) {
    return { name, status: 'fail', detail: `${dataDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  if (!storage.volatile)
    return {
      name,
      status: 'ok',
      detail: `${storage.fsType}${storage.mountPoint ? `, mounted at ${storage.mountPoint}` : ''}`,
    };
  const message = volatileDataMessage(dataDir, storage);
  return options.allowVolatileData
    ? { name, status: 'warn', detail: `allowed by PROCTOR_ALLOW_VOLATILE_DATA=true (development only): ${message}` }
    : { name, status: 'fail', detail: message };
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  // Without the data folder, the disk, storage and blob checks would each say ENOENT: say it once.
  const dataFolder = await stat(options.dataDir).catch(() => undefined);
  if (dataFolder === undefined)
    return [
      noDataFolder(options.dataDir),
      await clockCheck(),
      await serviceCheck(options.unit),
      ...(await healthCheck(options.healthUrl, undefined, undefined)),
    ];
  let freeBytes: number | undefined;
  try {
    const s = await statfs(options.dataDir);
    freeBytes = s.bavail * s.bsize;
    checks.push(judgeDisk(freeBytes, s.blocks * s.bsize));
  } catch (err) {
    checks.push({ name: 'disk space', status: 'fail', detail: `${options.dataDir}: ${String(err)}` });
  }
  checks.push(await dataStorageCheck(options.dataDir, options));
  checks.push(await clockCheck());
  const certFile = options.certFile ?? path.join(options.dataDir, 'tls', 'server.crt');
  const pem = await readFile(certFile, 'utf8').catch(() => undefined);
  checks.push(judgeCertificate(pem, options.nowMs, certFile, options.httpsMode));
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
  checks.push(await blobCheck(options.dataDir));
  checks.push(await serviceCheck(options.unit));
  const ca = await readFile(options.caFile ?? path.join(options.dataDir, 'tls', 'ca.crt'), 'utf8').catch(
    () => undefined,
  );
  checks.push(...(await healthCheck(options.healthUrl, ca, freeBytes)));
  return checks;
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.flatMap((c) => [
    `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`,
    ...(c.more ?? []).map((l) => `${' '.repeat(width + 8)}${l}`),
  ]);
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warned = checks.filter((c) => c.status === 'warn').length;
  lines.push(failed > 0 ? `${failed} failed, ${warned} warnings` : `healthy (${warned} warnings)`);
  return `${lines.join('\n')}\n`;
}
