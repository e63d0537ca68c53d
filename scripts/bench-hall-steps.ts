/**
 * The steps of `npm run bench:hall` (scripts/bench-hall.ts): the processes it starts besides the
 * appliance (the roster import, the baseline server), the answer files it submits, and how each
 * step is timed and printed.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { serialiseAnswerFile } from '../domain/answers.js';
import { withDeadline } from '../tests/support/appliance-process.js';
import { cpuSeconds, memoryMB, deviceAgent, latencyStats, send, spreadOver, type Reply } from './bench-hall-support.js';
import { APPLIANCE_CLI, startCommand } from './appliance-build.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** `appliance import` from the bundle, as the box runs it (under `wrapper`, e.g. the Pi budget). */
export function importRoster(wrapper: readonly string[], args: readonly string[], env: Record<string, string>) {
  const start = startCommand();
  const command = [...wrapper, process.execPath, ...start.nodeFlags, APPLIANCE_CLI, 'import', ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...env, ...start.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** An answer file of about `bytes` bytes: the essay carries the bulk (≤ 200,000 characters each). */
export function answerFileOf(studentId: string, bytes: number): Buffer {
  const base = serialiseAnswerFile({
    format: 'answers/v1',
    examId: 'exam-1',
    studentId,
    answers: { q1: 'a', q2: true, q3: 23, q4: '' },
    flagged: [],
  });
  const want = Math.max(0, bytes - Buffer.byteLength(base));
  // ASCII up to 150,000 characters, then two-byte characters for the rest (the essay limit
  // counts characters).
  const ascii = Math.min(want, 150_000);
  const twoByte = Math.min(Math.ceil((want - ascii) / 2), 200_000 - ascii);
  const words = 'entropy measures the number of microstates of a system ';
  const essay = words.repeat(Math.ceil(ascii / words.length)).slice(0, ascii) + 'é'.repeat(Math.max(0, twoByte));
  return Buffer.from(
    serialiseAnswerFile({
      format: 'answers/v1',
      examId: 'exam-1',
      studentId,
      answers: { q1: 'a', q2: true, q3: 23, q4: essay },
      flagged: [],
    }),
  );
}

export interface StepFigures {
  latency: ReturnType<typeof latencyStats>;
  errors: number;
  /** From the first request sent to the last answer, ms. */
  wallMs: number;
  /** The appliance's CPU time during the step, s, and as a share of one core. */
  serverCpuS?: number;
  serverCpuPct?: number;
  /** The appliance's resident memory at the end of the step, MB. */
  rssAfterMB?: number;
  /** The CPU time of this load generator during the step, s (it shares the cores). */
  loadCpuS?: number;
}

export function figures(replies: Reply[], ok: (r: Reply) => boolean, wallMs: number): StepFigures {
  return {
    latency: latencyStats(replies.map((r) => r.ms)),
    errors: replies.filter((r) => !ok(r)).length,
    wallMs: Math.round(wallMs),
  };
}

/** Runs a step, measuring its wall time and the server's CPU time. */
export async function step<T>(
  pid: number,
  run: () => Promise<T>,
): Promise<{
  value: T;
  wallMs: number;
  serverCpuS: number;
  serverCpuPct: number;
  rssAfterMB: number;
  loadCpuS: number;
}> {
  const cpu0 = await cpuSeconds(pid);
  const load0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await run();
  const wallMs = performance.now() - t0;
  const load = process.cpuUsage(load0);
  const serverCpuS = (await cpuSeconds(pid)) - cpu0;
  const rssAfterMB = round((await memoryMB(pid)).rss);
  return {
    rssAfterMB,
    value,
    wallMs: Math.round(wallMs),
    serverCpuS: round(serverCpuS, 2),
    serverCpuPct: Math.round((serverCpuS * 100_000) / wallMs),
    /** This process's own CPU (the load generator shares the cores with the server). */
    loadCpuS: round((load.user + load.system) / 1e6, 2),
  };
}

export const cpuOf = (s: { serverCpuS: number; serverCpuPct: number; rssAfterMB: number; loadCpuS: number }) => ({
  serverCpuS: s.serverCpuS,
  serverCpuPct: s.serverCpuPct,
  rssAfterMB: s.rssAfterMB,
  loadCpuS: s.loadCpuS,
});

export function firstError(replies: Reply[], ok: (r: Reply) => boolean): string {
  const bad = replies.find((r) => !ok(r));
  return bad ? ` (first: ${bad.error ?? `HTTP ${bad.status} ${bad.body.slice(0, 200)}`})` : '';
}

export function line(name: string, f: StepFigures, extra = ''): string {
  const l = f.latency;
  return (
    `  ${name.padEnd(18)} n=${l.n} p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms; ` +
    `${f.errors} errors; all done in ${round(f.wallMs / 1_000, 2)} s` +
    (f.serverCpuPct === undefined ? '' : `; appliance CPU ${f.serverCpuS} s (${f.serverCpuPct} % of a core)`) +
    (f.rssAfterMB === undefined ? '' : `, RSS ${f.rssAfterMB} MB after`) +
    (f.loadCpuS === undefined ? '' : `; load generator CPU ${f.loadCpuS} s`) +
    extra
  );
}

/** The submission storm: every body POSTed within the spread; answered 2xx with a receipt. */
export async function storm(
  port: number,
  bodies: Buffer[],
  headersFor: (i: number) => Record<string, string>,
  pathName: string,
  ok: (r: Reply) => boolean,
  spreadMs: number,
) {
  const agent = deviceAgent(bodies.length);
  const t0 = performance.now();
  const replies = await spreadOver(bodies.length, spreadMs, (i) =>
    send(agent, port, 'POST', pathName, headersFor(i), bodies[i]!, 120_000),
  );
  const wallMs = performance.now() - t0;
  agent.destroy();
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  const f = figures(replies, ok, wallMs);
  return {
    ...f,
    mbPerSec: round(bytes / 1e6 / (wallMs / 1_000), 2),
    perSec: round(bodies.length / (wallMs / 1_000)),
    replies,
  };
}

export function startBaseline(
  dir: string,
  wrapper: readonly string[],
): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const command = [...wrapper, process.execPath, '--import', 'tsx', 'scripts/bench-hall-baseline.ts', dir];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return withDeadline(
    new Promise((resolve, reject) => {
      let out = '';
      child.once('error', reject);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /READY port=(\d+)/.exec(out);
        if (m)
          resolve({
            port: Number(m[1]),
            pid: child.pid!,
            stop: async () => {
              if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
              await exited;
            },
          });
      });
    }),
    30_000,
    () => 'the baseline server did not start',
  );
}
