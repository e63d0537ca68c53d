/**
 * Helpers of `npm run bench:hall`: a small HTTP/1.1 client over node:http keep-alive agents (one
 * connection per simulated device, so a storm opens as many connections as a hall has laptops),
 * latency statistics, and readers of a process's CPU time and memory from /proc.
 *
 * node:http rather than fetch: the load generator shares the machine's cores with the server it
 * measures, and node:http costs it far less CPU per request than fetch; undici is not a
 * dependency of this project, and the global fetch cannot be given an agent with more connections.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * A keep-alive agent with room for `connections` sockets at once. Idle sockets are closed after
 * 4 s, before node:http's server closes them (keepAliveTimeout, 5 s): otherwise a request sent on
 * a socket the server is closing at that moment fails with "socket hang up" (a browser would
 * retry it; this client does not retry anything).
 */
export function deviceAgent(connections: number): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets: connections,
    maxFreeSockets: connections,
    keepAliveMsecs: 1_000,
    timeout: 4_000,
  });
}

export interface Reply {
  status: number;
  body: string;
  ms: number;
  /** Set when the request failed below HTTP (refused, reset, timeout). */
  error?: string;
}

/** One request; resolves (never rejects) with the status, the body as text and the latency. */
export function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders,
  body?: Buffer | string,
  timeoutMs = 60_000,
): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (r: Omit<Reply, 'ms'>) => resolve({ ...r, ms: performance.now() - started });
    const req = httpRequest(
      {
        agent,
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', (err) => done({ status: 0, body: '', error: err.message }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (err) => done({ status: 0, body: '', error: err.message }));
    req.end(body);
  });
}

/** A held server-sent event stream: counts the events it receives and notices when it closes. */
export class HeldStream {
  events = 0;
  closed = false;
  status = 0;
  private res: IncomingMessage | undefined;
  private readonly req;
  /** Resolves with the latency to the first event, or with an error text. */
  readonly opened: Promise<{ ms: number } | { error: string }>;

  constructor(agent: Agent, port: number, path: string, headers: OutgoingHttpHeaders) {
    const started = performance.now();
    let settle: (v: { ms: number } | { error: string }) => void = () => undefined;
    this.opened = new Promise((r) => (settle = r));
    this.req = httpRequest(
      { agent, host: '127.0.0.1', port, method: 'GET', path, headers: { ...headers, accept: 'text/event-stream' } },
      (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        if (this.status !== 200) {
          res.resume();
          settle({ error: `HTTP ${this.status}` });
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          const before = this.events;
          for (let at = text.indexOf('event:'); at !== -1; at = text.indexOf('event:', at + 6)) this.events++;
          if (before === 0 && this.events > 0) settle({ ms: performance.now() - started });
        });
        res.once('close', () => (this.closed = true));
      },
    );
    this.req.once('error', (err) => {
      this.closed = true;
      settle({ error: err.message });
    });
    this.req.end();
  }

  close(): void {
    this.res?.destroy();
    this.req.destroy();
  }
}

/** Percentiles (nearest rank) of latencies in ms. */
export function latencyStats(ms: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: s.length, p50: r(at(50)), p95: r(at(95)), p99: r(at(99)), max: r(s[s.length - 1] ?? 0) };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // "pid (comm) state ..." : fields after the comm; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

/** Resident memory now and its peak (VmRSS, VmHWM) in MB (10^6 bytes), from /proc/<pid>/status. */
export async function memoryMB(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: (kb('VmRSS') * 1024) / 1e6, hwm: (kb('VmHWM') * 1024) / 1e6 };
}

/** Polls a process's resident memory every `everyMs`, keeping the peak seen (and VmHWM). */
export class MemoryWatch {
  peakRss = 0;
  hwm = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.timer = setInterval(() => void this.sample(), everyMs);
  }

  async sample(): Promise<void> {
    try {
      const m = await memoryMB(this.pid);
      this.peakRss = Math.max(this.peakRss, m.rss);
      this.hwm = Math.max(this.hwm, m.hwm);
    } catch {
      // The process has ended.
    }
  }

  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sample();
    return Math.round(Math.max(this.peakRss, this.hwm) * 10) / 10;
  }
}

/** Runs `task(i)` for i in 0..n-1, each started at a random moment within `spreadMs`; waits for all. */
export function spreadOver<T>(n: number, spreadMs: number, task: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(
    Array.from(
      { length: n },
      (_, i) => new Promise<T>((resolve) => setTimeout(() => resolve(task(i)), Math.random() * spreadMs)),
    ),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
