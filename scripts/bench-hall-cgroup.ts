/**
 * The Raspberry Pi budget of `npm run bench:hall -- --pi-budget`: cgroup v1 groups that give the
 * appliance what one Pi 4 core is worth here, and keep the load generator off its CPU.
 *
 *   /sys/fs/cgroup/cpuset/<name>-box   cpuset.cpus = the box's CPU (the last one), mems 0
 *   /sys/fs/cgroup/cpu/<name>-box      cpu.cfs_quota_us = 30000 of cpu.cfs_period_us = 100000
 *   /sys/fs/cgroup/memory/<name>-box   memory.limit_in_bytes = 1 GiB
 *   /sys/fs/cgroup/cpuset/<name>-load  every other CPU: the load generator (this process)
 *   <controller>/<name>-base           the same budget as -box, for the baseline server, so that
 *                                      neither one's CPU time or memory is counted to the other
 *
 * `<name>` is `proctor-pi-bench-<pid>`, so two runs never share a group. The appliance joins
 * the box groups before it execs node (`wrapper`), so every thread it starts, and the `chrt` its
 * PBKDF2 worker runs, is inside from the first instruction. `remove()` moves this process back to
 * the root cpuset and removes every group; it is called in `finally` and on SIGINT/SIGTERM, and
 * waits for the tasks in the box groups (killed by then) to leave.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';
export const PI_CPU_QUOTA_US = 30_000;
export const PI_CPU_PERIOD_US = 100_000;
export const PI_MEMORY_BYTES = 2 ** 30;

export interface PiBudgetFigures {
  /** The box's CPU (cpuset), the other CPUs (the load generator). */
  boxCpu: string;
  loadCpus: string;
  /** From the cpu group's cpu.stat: periods in which the box used its whole quota, and for how long. */
  throttledPeriods: number;
  throttledS: number;
  /** The memory group's peak (memory.max_usage_in_bytes: RSS and page cache), and its failcnt. */
  memoryPeakMB: number;
  memoryFailcnt: number;
}

export class PiBudget {
  readonly name = `proctor-pi-bench-${process.pid}`;
  private readonly created: string[] = [];
  readonly boxCpu: string;
  readonly loadCpus: string;
  private removed = false;

  private constructor(cpuCount: number) {
    this.boxCpu = String(cpuCount - 1);
    this.loadCpus = cpuCount > 2 ? `0-${cpuCount - 2}` : '0';
  }

  /** Creates the groups; throws (after removing what it made) when cgroup v1 is not there. */
  static create(cpuCount: number): PiBudget {
    for (const controller of ['cpu', 'cpuset', 'memory']) {
      if (!existsSync(path.join(ROOT, controller, 'cgroup.procs'))) {
        throw new Error(`--pi-budget needs the cgroup v1 ${controller} controller under ${ROOT}/${controller}`);
      }
    }
    const budget = new PiBudget(cpuCount);
    try {
      const mems = readFileSync(path.join(ROOT, 'cpuset', 'cpuset.mems'), 'utf8').trim();
      budget.make('cpuset', 'box', { 'cpuset.cpus': budget.boxCpu, 'cpuset.mems': mems });
      budget.make('cpu', 'box', {
        'cpu.cfs_period_us': String(PI_CPU_PERIOD_US),
        'cpu.cfs_quota_us': String(PI_CPU_QUOTA_US),
      });
      budget.make('memory', 'box', { 'memory.limit_in_bytes': String(PI_MEMORY_BYTES) });
      budget.make('cpuset', 'base', { 'cpuset.cpus': budget.boxCpu, 'cpuset.mems': mems });
      budget.make('cpu', 'base', {
        'cpu.cfs_period_us': String(PI_CPU_PERIOD_US),
        'cpu.cfs_quota_us': String(PI_CPU_QUOTA_US),
      });
      budget.make('memory', 'base', { 'memory.limit_in_bytes': String(PI_MEMORY_BYTES) });
      if (cpuCount > 1) {
        budget.make('cpuset', 'load', { 'cpuset.cpus': budget.loadCpus, 'cpuset.mems': mems });
        // This process (the load generator) and what it starts from now on run off the box's CPU.
        writeFileSync(budget.dir('cpuset', 'load', 'cgroup.procs'), String(process.pid));
      }
    } catch (err) {
      budget.remove();
      throw err;
    }
    return budget;
  }

  /**
   * A command prefix that joins the box's groups (or the baseline's: 'base') and then execs the
   * command, which so keeps the PID the wrapper was started with.
   */
  wrapper(group: 'box' | 'base'): string[] {
    return [
      '/bin/sh',
      '-c',
      'groups=$1; shift; for g in $groups; do echo $$ > "$g/cgroup.procs" || exit 70; done; exec "$@"',
      'pi-budget',
      ['cpuset', 'cpu', 'memory'].map((c) => this.dir(c, group)).join(' '),
    ];
  }

  figures(): PiBudgetFigures {
    const stat = readFileSync(this.dir('cpu', 'box', 'cpu.stat'), 'utf8');
    const field = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
    const memory = (file: string) => Number(readFileSync(this.dir('memory', 'box', file), 'utf8').trim());
    return {
      boxCpu: this.boxCpu,
      loadCpus: this.loadCpus,
      throttledPeriods: field('nr_throttled'),
      throttledS: Math.round(field('throttled_time') / 1e7) / 100,
      memoryPeakMB: Math.round(memory('memory.max_usage_in_bytes') / 1e5) / 10,
      memoryFailcnt: memory('memory.failcnt'),
    };
  }

  /**
   * Moves this process, and what it started that still runs in the load group (esbuild's
   * service), back to the root cpuset and removes the groups (synchronous, so that a signal
   * handler can call it). Tasks still in a box group (the appliance just killed) are waited for up
   * to 10 s; a group that cannot be removed is named on stderr.
   */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    const loadTasks = this.dir('cpuset', 'load', 'cgroup.procs');
    const pids = existsSync(loadTasks) ? readFileSync(loadTasks, 'utf8').split('\n').filter(Boolean) : [];
    for (const pid of [String(process.pid), ...pids]) {
      try {
        writeFileSync(path.join(ROOT, 'cpuset', 'cgroup.procs'), pid);
      } catch {
        // Ended meanwhile.
      }
    }
    for (const dir of [...this.created].reverse()) {
      const until = Date.now() + 10_000;
      for (;;) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() > until) {
            process.stderr.write(`bench:hall: could not remove cgroup ${dir}: ${String(err)}\n`);
            break;
          }
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    }
  }

  private dir(controller: string, group: 'box' | 'base' | 'load', file?: string): string {
    const d = path.join(ROOT, controller, `${this.name}-${group}`);
    return file ? path.join(d, file) : d;
  }

  private make(controller: string, group: 'box' | 'base' | 'load', settings: Record<string, string>): void {
    const d = this.dir(controller, group);
    mkdirSync(d);
    this.created.push(d);
    for (const [file, value] of Object.entries(settings)) writeFileSync(path.join(d, file), value);
  }
}

/** Bytes a process caused to be written to storage so far (/proc/<pid>/io), and those cancelled. */
export function diskWrites(pid: number): { writeBytes: number; cancelledWriteBytes: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
  return { writeBytes: field('write_bytes'), cancelledWriteBytes: field('cancelled_write_bytes') };
}
