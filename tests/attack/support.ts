/**
 * Support for the attack suite: a real appliance child process on real disk with an exam that
 * began a minute ago, a roster with known access codes, two proctors (chief, invigilator) and
 * raw HTTP helpers (node:http with a keep-alive pool, and bare sockets for what no HTTP client
 * sends: lying lengths, trickled bodies, oversized headers).
 */
import http from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ApplianceProcess,
  applianceEnv,
  HttpExaminee,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  startedAMinuteAgo,
  writeExamFiles,
  type ExamOnDisk,
} from '../support/appliance-process.js';

export const PROCTORS = [
  { username: 'chief', role: 'chief', password: 'chief-password-1' },
  { username: 'invi', role: 'invigilator', password: 'invi-password-1' },
] as const;

export interface RunningHall {
  tmp: string;
  dataDir: string;
  files: ExamOnDisk;
  proc: ApplianceProcess;
  close(): Promise<void>;
}

/** Imports an exam and `examinees` examinees, adds the proctors, starts the appliance. */
export async function startHall(
  prefix: string,
  options: { examinees: number; env?: Record<string, string> },
): Promise<RunningHall> {
  const tmp = await makeTempDir(prefix);
  const dataDir = path.join(tmp, 'data');
  const env = applianceEnv(dataDir, options.env);
  const files = await writeExamFiles(tmp, { startMs: startedAMinuteAgo(), examinees: options.examinees });
  const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], env);
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
  for (const p of PROCTORS) {
    const added = await runApplianceCli(
      ['proctor', 'add', p.username, '--role', p.role, '--password-stdin'],
      env,
      `${p.password}\n`,
    );
    if (added.code !== 0) throw new Error(`proctor add failed: ${added.stderr}`);
  }
  const proc = await ApplianceProcess.start({ dataDir, ...(options.env ? { env: options.env } : {}) });
  return {
    tmp,
    dataDir,
    files,
    proc,
    async close() {
      await proc.kill();
      await removeTempDir(tmp);
    },
  };
}

/** An examinee of the roster, signed in with package and key (the exam has begun). */
export async function preparedExaminee(hall: RunningHall, index: number): Promise<HttpExaminee> {
  const line = hall.files.roster[index]!;
  const e = new HttpExaminee(hall.proc.baseUrl, line.studentId, line.accessCode);
  await e.prepare();
  return e;
}

/** Signs a proctor in over HTTP; returns the `__Host-proctor=...` cookie. */
export async function proctorCookie(hall: RunningHall, username: string, password: string): Promise<string> {
  const res = await fetch(`${hall.proc.baseUrl}/api/proctor/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: hall.proc.baseUrl },
    body: JSON.stringify({ username, password }),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (res.status !== 200 || cookie === undefined) throw new Error(`login ${username}: ${res.status}`);
  return cookie;
}

export interface RawAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * One request through node:http (any method, any header, any body); never throws. The agent may
 * carry a `localAddress` (e.g. 127.0.0.2: another device's address on loopback).
 */
export function send(
  agent: http.Agent,
  port: number,
  method: string,
  p: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  timeoutMs = 30_000,
): Promise<RawAnswer | { error: string }> {
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent, timeout: timeoutMs }, (res) => {
        // An event stream stays open by design: its status is the answer.
        if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', (err) => resolve({ error: String(err) }));
      });
    } catch (err) {
      // Node refuses to send some headers (e.g. control characters): not a request at all.
      resolve({ error: `client refused: ${String(err)}` });
      return;
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: String(err) }));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * Writes `chunks` to a bare socket (each after `gapMs`), then reads the first response's status
 * line. Resolves with the status, or 0 when the appliance closed without answering.
 */
export function rawExchange(
  port: number,
  chunks: (string | Buffer)[],
  options: { gapMs?: number; timeoutMs?: number; halfClose?: boolean } = {},
): Promise<number> {
  const { gapMs = 0, timeoutMs = 20_000, halfClose = false } = options;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => finish(-1), timeoutMs);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) finish(Number(m[1]));
    });
    socket.on('error', () => finish(0));
    socket.on('close', () => finish(0));
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (done) return;
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (!socket.writable) return;
        socket.write(chunk);
      }
      if (halfClose && !done) socket.end();
    });
  });
}

/** Resident set size of a process in KiB (VmRSS from /proc/<pid>/status). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for PID ${pid}`);
  return Number(m[1]);
}
