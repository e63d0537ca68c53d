/**
 * Test support for tests that run the appliance as a real child process on real disk: a temp
 * data folder with an exam and roster on file, the CLI, the server started and awaited on its
 * `READY port=<n>` line, an examinee over real HTTP (fetch), and a reader for `strace -f -yy`
 * logs. Processes are always addressed by PID; nothing here sleeps for a fixed time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serialiseAnswerFile, type AnswerFile } from '../../domain/answers.js';
import { sha256HexOfText } from '../../domain/canonical.js';
import { generateAccessCode, type ExamFile } from '../../domain/exam-format.js';
import { CLIENT_VERSION, testExam } from './appliance.js';

/** The repository root: the working directory of every child process. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * The heap flags the box runs the appliance with (systemd/proctor-appliance.service, `npm start`),
 * so that what a test measures of memory is what the box does.
 */
export const BOX_HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100'];
/** The environment the box adds (the same two places): glibc's malloc arenas capped at 2. */
export const BOX_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
/** `node --import tsx`: node itself, so a signal sent to the PID reaches the appliance. */
export const NODE_TSX: readonly string[] = [process.execPath, ...BOX_HEAP_FLAGS, '--import', 'tsx'];
export const MAIN_ENTRY = 'appliance/src/main.ts';
export const CLI_ENTRY = 'appliance/src/cli.ts';
export const TEST_HALL_ID = 'test-hall';

const MIN = 60_000;

/** A fresh folder under the system temp folder, as its real path (strace prints real paths). */
export async function makeTempDir(prefix: string): Promise<string> {
  return realpath(await mkdtemp(path.join(tmpdir(), prefix)));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** systemd's variables: a test under a supervisor must not hand them on to its appliances. */
const SYSTEMD_ENV = new Set(['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'STATE_DIRECTORY']);

/**
 * The environment of an appliance process: the parent's, without any PROCTOR_* setting (the
 * appliance refuses unknown ones) or systemd variable, plus a data folder, a free port, no demo
 * exam, the test hall and no mDNS advertising (tests that want it pass PROCTOR_MDNS=true), with
 * the box's BOX_ENV. PROCTOR_ALLOW_VOLATILE_DATA=true: test data folders live under the system temp
 * folder, which is tmpfs on many machines (the refusal's own test passes false).
 */
export function applianceEnv(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('PROCTOR_') && !SYSTEMD_ENV.has(k)) env[k] = v;
  return {
    ...env,
    ...BOX_ENV,
    PROCTOR_DATA_DIR: dataDir,
    PROCTOR_PORT: '0',
    PROCTOR_HOST: '127.0.0.1',
    PROCTOR_DEMO: 'false',
    PROCTOR_HALL_ID: TEST_HALL_ID,
    PROCTOR_MDNS: 'false',
    PROCTOR_ALLOW_VOLATILE_DATA: 'true',
    ...overrides,
  };
}

/** One examinee as written to the roster file. */
export interface RosterLine {
  studentId: string;
  name: string;
  accessCode: string;
}

export interface ExamOnDisk {
  exam: ExamFile;
  examPath: string;
  rosterPath: string;
  roster: RosterLine[];
}

/**
 * Writes `exam.json` (testExam(startMs): downloads from 1 h before to 30 min after the start,
 * uploads until 2 h after it) and `roster.csv` with `examinees` examinees and fresh random
 * 12-character access codes into `dir`.
 */
export async function writeExamFiles(
  dir: string,
  options: { startMs: number; examinees: number },
): Promise<ExamOnDisk> {
  const exam = testExam(options.startMs);
  const roster: RosterLine[] = Array.from({ length: options.examinees }, (_, i) => ({
    studentId: `S${i + 1}`,
    name: `Examinee ${i + 1}`,
    accessCode: generateAccessCode((n) => randomBytes(n), 12),
  }));
  const examPath = path.join(dir, 'exam.json');
  const rosterPath = path.join(dir, 'roster.csv');
  await writeFile(examPath, `${JSON.stringify(exam, null, 2)}\n`);
  await writeFile(
    rosterPath,
    ['studentId,name,accessCode,maxDownloads', ...roster.map((r) => `${r.studentId},${r.name},${r.accessCode},2`)].join(
      '\n',
    ) + '\n',
  );
  return { exam, examPath, rosterPath, roster };
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * Runs the appliance CLI (`node --import tsx appliance/src/cli.ts ...`) to its end, with `input`
 * on its standard input if given (e.g. for `proctor add ... --password-stdin`).
 */
export function runApplianceCli(
  args: readonly string[],
  env: Record<string, string>,
  input?: string,
): Promise<CliResult> {
  const [node, ...nodeArgs] = NODE_TSX;
  const child = spawn(node!, [...nodeArgs, CLI_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The PIDs whose parent is `pid` (Linux /proc). */
export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: scan every process's parent.
    const out: number[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    }
    return out;
  }
}

/** Rejects after `ms` with `message` unless `promise` settles first (a deadline, not a sleep). */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface StartOptions {
  dataDir: string;
  /** Extra or replaced environment variables (on top of applianceEnv). */
  env?: Record<string, string>;
  /** A command the appliance runs under, e.g. `['/usr/bin/strace', '-f', ..., '-o', file]`. */
  wrapper?: readonly string[];
  /** The command that runs the appliance (default: NODE_TSX and MAIN_ENTRY, the TypeScript source). */
  command?: readonly string[];
  /** The wrapper execs the appliance in its own process (e.g. `ip netns exec <ns>`): same PID. */
  wrapperExecs?: boolean;
  readyTimeoutMs?: number;
}

/** An appliance running as a child process. */
export class ApplianceProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** PID of the process spawned (node itself, or the wrapper such as strace). */
    readonly spawnedPid: number,
    /** PID of the node process that serves HTTP (the one to signal). */
    readonly serverPid: number,
    readonly port: number,
    readonly exited: Promise<Exit>,
    private readonly out: { stdout: string; stderr: string },
  ) {}

  /**
   * Starts `node --import tsx appliance/src/main.ts` (or `command`; under `wrapper` if given);
   * waits for READY.
   */
  static async start(options: StartOptions): Promise<ApplianceProcess> {
    const command = [...(options.wrapper ?? []), ...(options.command ?? [...NODE_TSX, MAIN_ENTRY])];
    const child = spawn(command[0]!, command.slice(1), {
      cwd: REPO_ROOT,
      env: applianceEnv(options.dataDir, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (out.stderr += d));
    const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const ready = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.stdout!.on('data', (d: string) => {
        out.stdout += d;
        const m = /^READY port=(\d+)$/m.exec(out.stdout);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((e) =>
        reject(
          new Error(
            `the appliance exited before READY (code ${e.code}, signal ${e.signal}); stderr:\n${out.stderr.slice(-3_000)}`,
          ),
        ),
      );
    });
    let port: number;
    try {
      port = await withDeadline(
        ready,
        options.readyTimeoutMs ?? 30_000,
        () => `no READY line within ${options.readyTimeoutMs ?? 30_000} ms; stderr:\n${out.stderr.slice(-3_000)}`,
      );
    } catch (err) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        for (const pid of await childPids(child.pid)) process.kill(pid, 'SIGKILL');
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
      throw err;
    }
    const spawnedPid = child.pid!;
    let serverPid = spawnedPid;
    if (options.wrapper && !options.wrapperExecs) {
      const children = await childPids(spawnedPid);
      if (children.length !== 1)
        throw new Error(
          `expected one process under ${options.wrapper[0]} (PID ${spawnedPid}), found ${children.join(', ') || 'none'}`,
        );
      serverPid = children[0]!;
    }
    return new ApplianceProcess(child, spawnedPid, serverPid, port, exited, out);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stdout(): string {
    return this.out.stdout;
  }

  get stderr(): string {
    return this.out.stderr;
  }

  /** Sends `signal` to the serving node process, at once (synchronously). */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.serverPid, signal);
  }

  /** Sends `signal` to the server and waits for the spawned process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<Exit> {
    if (this.running) this.signal(signal);
    return withDeadline(
      this.exited,
      timeoutMs,
      () => `PID ${this.spawnedPid} did not exit within ${timeoutMs} ms after ${signal}`,
    );
  }

  /** Cleanup: SIGKILL the server and the wrapper (if any) if still running, and wait for the end. */
  async kill(): Promise<void> {
    if (!this.running) return;
    for (const pid of new Set([this.serverPid, this.spawnedPid])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await this.exited;
  }
}

/** An examinee talking to a running appliance over real HTTP, as the PWA would. */
export class HttpExaminee {
  token: string | undefined;

  constructor(
    /** Where the appliance listens; change it to follow a restarted appliance. */
    public baseUrl: string,
    readonly studentId: string,
    readonly accessCode: string,
    readonly deviceId = `device-${studentId}-0123456789abcdef`,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'x-client-version': CLIENT_VERSION,
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  async signIn(): Promise<Response> {
    const res = await fetch(`${this.baseUrl}/api/session`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ studentId: this.studentId, accessCode: this.accessCode, deviceId: this.deviceId }),
    });
    if (res.ok) this.token = ((await res.clone().json()) as { token: string }).token;
    return res;
  }

  get(p: string): Promise<Response> {
    return fetch(`${this.baseUrl}${p}`, { headers: this.headers() });
  }

  /** The canonical answer file this examinee would submit. */
  answerFile(answers: AnswerFile['answers'], examId = 'exam-1'): string {
    return serialiseAnswerFile({ format: 'answers/v1', examId, studentId: this.studentId, answers, flagged: [] });
  }

  submit(body: string, options: { sha256?: string; type?: 'manual' | 'automatic' } = {}): Promise<Response> {
    return fetch(`${this.baseUrl}/api/exam/submission`, {
      method: 'POST',
      headers: this.headers({
        'content-type': 'application/json',
        'x-content-sha256': options.sha256 ?? sha256HexOfText(body),
        'x-submission-type': options.type ?? 'manual',
      }),
      body,
    });
  }

  /** Signs in, downloads the package and fetches the key (the exam must have started). */
  async prepare(): Promise<void> {
    const expectStatus = async (what: string, res: Response, status: number) => {
      const text = await res.text();
      if (res.status !== status) throw new Error(`${this.studentId} ${what}: HTTP ${res.status} ${text}`);
    };
    await expectStatus('sign-in', await this.signIn(), 200);
    await expectStatus('download', await this.get('/api/exam/package'), 200);
    await expectStatus('key', await this.get('/api/exam/key'), 200);
  }
}

/** A start time so that the exam began a minute ago: downloads open, key released, uploads open. */
export const startedAMinuteAgo = (now = Date.now()) => now - MIN;

// ---- strace -f -tt -yy logs ----

/**
 * One system call from an `strace -f -tt -yy` log. With -f, a call that another thread
 * interrupts is printed as `name(args <unfinished ...>` and later `<... name resumed>...) = r`;
 * it is complete at the line with its result (`endIndex`).
 */
export interface TracedCall {
  pid: number;
  name: string;
  /** The arguments as printed (of both lines, for an interrupted call). */
  args: string;
  /** The result as printed (e.g. `0`, `27</path>`, `-1 ENOENT (...)`); undefined if never finished. */
  result: string | undefined;
  /** 0-based index of the line where the call starts. */
  startIndex: number;
  /** 0-based index of the line where the call completes (= startIndex when on one line). */
  endIndex: number | undefined;
  startLine: string;
  endLine: string | undefined;
}

const LINE = /^(\d+)\s+\d{2}:\d{2}:\d{2}\.\d+\s+(.*)$/;
const UNFINISHED = ' <unfinished ...>';

/** Splits `args) = result` at its last `) = `. */
function splitResult(text: string): { args: string; result: string } | undefined {
  const at = text.lastIndexOf(') = ');
  return at === -1 ? undefined : { args: text.slice(0, at), result: text.slice(at + 4).trim() };
}

/** Parses an strace log (-f, -tt) into calls in start order; signals and exits are skipped. */
export function parseStrace(text: string): TracedCall[] {
  const calls: TracedCall[] = [];
  const pending = new Map<number, TracedCall>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const m = LINE.exec(line);
    if (!m) return;
    const pid = Number(m[1]);
    const rest = m[2]!;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const call = pending.get(pid);
      if (!call || call.name !== resumed[1]) return;
      const tail = resumed[2]!;
      if (tail.endsWith(UNFINISHED)) {
        call.args += tail.slice(0, -UNFINISHED.length);
        return;
      }
      pending.delete(pid);
      const split = splitResult(tail);
      call.args += split?.args ?? tail;
      call.result = split?.result;
      call.endIndex = index;
      call.endLine = line;
      return;
    }
    const started = /^(\w+)\((.*)$/.exec(rest);
    if (!started) return; // --- SIGTERM ... ---, +++ exited ... +++
    const name = started[1]!;
    const body = started[2]!;
    if (body.endsWith(UNFINISHED)) {
      const call: TracedCall = {
        pid,
        name,
        args: body.slice(0, -UNFINISHED.length),
        result: undefined,
        startIndex: index,
        endIndex: undefined,
        startLine: line,
        endLine: undefined,
      };
      pending.set(pid, call);
      calls.push(call);
      return;
    }
    const split = splitResult(body);
    calls.push({
      pid,
      name,
      args: split?.args ?? body,
      result: split?.result,
      startIndex: index,
      endIndex: split ? index : undefined,
      startLine: line,
      endLine: split ? line : undefined,
    });
  });
  return calls;
}

/**
 * What a call's first argument (a file descriptor) refers to, as -yy prints it: a path such as
 * `/tmp/x/journal/journal.log`, or `TCP:[127.0.0.1:8080->127.0.0.1:51234]`.
 */
export function fdTarget(call: TracedCall): string | undefined {
  return /^\d+<(.*?)>(?=,|\s*$)/.exec(call.args)?.[1];
}

/** The quoted strings among a call's arguments (e.g. both paths of a rename), unescaped lightly. */
export function quotedArgs(call: TracedCall): string[] {
  return [...call.args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
}
