/**
 * systemd's notify protocol (sd_notify(3)): datagrams such as `READY=1`, `WATCHDOG=1` and
 * `STOPPING=1` sent to the unix datagram socket named by $NOTIFY_SOCKET (a path, or `@name` for
 * the abstract namespace). Node has no unix datagram sockets, and the native helpers for them
 * ship no prebuilt binary for the Pi's arm64 (node-unix-socket 0.2.7's arm packages are not
 * published), so the appliance runs systemd's own `systemd-notify` (package systemd, on every
 * box): it sends the state and then waits on a barrier until systemd has taken it in, so the
 * message is attributed to the unit although it comes from a child (the unit says
 * NotifyAccess=all). MAINPID is passed along with READY=1. Without $NOTIFY_SOCKET (not under
 * systemd, or Type=simple) every call is a no-op. The watchdog interval comes from $WATCHDOG_USEC
 * (honoured only when $WATCHDOG_PID is unset or ours): pings go out at half of it, as
 * sd_watchdog_enabled(3) advises.
 */
import { execFile } from 'node:child_process';

export interface Notifier {
  /** True when $NOTIFY_SOCKET is set. */
  readonly enabled: boolean;
  /** Half of $WATCHDOG_USEC in ms, or undefined when systemd wants no watchdog pings. */
  readonly watchdogIntervalMs: number | undefined;
  /** Sends one state line (or several, joined by newlines); resolves when sent, never rejects. */
  notify(state: string): Promise<void>;
  close(): void;
}

const NOOP: Notifier = {
  enabled: false,
  watchdogIntervalMs: undefined,
  notify: () => Promise.resolve(),
  close: () => {},
};

/** The watchdog ping interval systemd asks for, in ms (half of WATCHDOG_USEC), or undefined. */
export function watchdogIntervalMs(env: Record<string, string | undefined>, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2_000));
}

/**
 * A notifier for this process. `onError` hears about failed sends (systemd gone, socket full):
 * they are logged, never fatal — the appliance serves the hall with or without a supervisor.
 */
export function createNotifier(
  env: Record<string, string | undefined>,
  onError: (message: string) => void,
  pid = process.pid,
): Notifier {
  const target = env.NOTIFY_SOCKET;
  if (target === undefined || target === '') return NOOP;
  // One systemd-notify at a time, in order (READY before the first WATCHDOG, STOPPING last).
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const send = (state: string) =>
    new Promise<void>((resolve) => {
      const assignments = state.split('\n').filter((l) => l !== '');
      execFile(
        'systemd-notify',
        assignments,
        { env: { ...process.env, NOTIFY_SOCKET: target }, timeout: 10_000 },
        (err, _stdout, stderr) => {
          if (err) onError(`sd_notify ${JSON.stringify(state)}: ${String(stderr).trim() || String(err)}`);
          resolve();
        },
      );
    });
  return {
    enabled: true,
    watchdogIntervalMs: watchdogIntervalMs(env, pid),
    notify(state) {
      if (closed) return Promise.resolve();
      queue = queue.then(() => send(state));
      return queue;
    },
    close() {
      closed = true;
    },
  };
}

export interface WatchdogOptions {
  notifier: Notifier;
  intervalMs: number;
  /** The health check: resolves true when the appliance is healthy (storage writable, ...). */
  check: () => Promise<boolean>;
  log: (level: 'warn' | 'error', line: string) => void;
}

/**
 * Pings `WATCHDOG=1` every `intervalMs` from the event loop, but only after `check` passed. A
 * blocked event loop, a hung fsync or a failing check means no ping, and systemd restarts the
 * appliance after WatchdogSec. A check still running when the next tick comes skips that ping.
 * Returns a function that stops the pings.
 */
export function startWatchdog(options: WatchdogOptions): () => void {
  let running = false;
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    const lag = now - last - options.intervalMs;
    last = now;
    if (lag > options.intervalMs) options.log('warn', `watchdog: event loop ${Math.round(lag)} ms late`);
    if (running) {
      options.log('warn', 'watchdog: the previous health check is still running; no ping');
      return;
    }
    running = true;
    options.check().then(
      (healthy) => {
        running = false;
        if (healthy) void options.notifier.notify('WATCHDOG=1');
        else options.log('error', 'watchdog: health check failed; no ping (systemd restarts the appliance)');
      },
      (err: unknown) => {
        running = false;
        options.log('error', `watchdog: health check threw: ${String(err)}; no ping`);
      },
    );
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
