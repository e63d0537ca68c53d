/**
 * The CPU quota this process runs under, in cores (0.3 = 30 % of one core), when its cgroup has
 * one: cgroup v2 `cpu.max` ("30000 100000"; "max" is none), or cgroup v1 `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us` (-1 is none), read for the process's own group and every ancestor (the
 * smallest wins). systemd's `CPUQuota=` and containers' CPU limits are such quotas.
 *
 * Why it matters: under a quota, CPU that background work takes while serving sleeps is CPU the
 * serving thread lacks later in the same period; when the group has used its quota, every thread
 * waits for the next period (up to 70 ms of each 100 ms at 30 %). An idle-priority thread cannot
 * help it: it is preempted at once, but what it used is gone.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** `/proc/self/cgroup` → the group path of the cpu controller (v1), or of the v2 hierarchy. */
export function cpuGroupPaths(procCgroup: string): { v1?: string; v2?: string } {
  const found: { v1?: string; v2?: string } = {};
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, group] = m;
    if (id === '0' && controllers === '') found.v2 = group;
    else if (controllers!.split(',').includes('cpu')) found.v1 = group;
  }
  return found;
}

/** `cpu.max` text → cores, or undefined for "max". */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** cgroup v1 quota and period (µs) → cores, or undefined for -1 (none). */
export function parseCfsQuota(quotaUs: string, periodUs: string): number | undefined {
  const q = Number(quotaUs.trim());
  const p = Number(periodUs.trim());
  return q > 0 && p > 0 ? q / p : undefined;
}

/** The folders from `group` up to the root of a hierarchy mounted at `mount`. */
function groupAndAncestors(mount: string, group: string): string[] {
  const dirs: string[] = [];
  for (let g = path.posix.normalize(group); ; g = path.posix.dirname(g)) {
    dirs.push(path.join(mount, g));
    if (g === '/' || g === '.') return dirs;
  }
}

const readOr = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPU quota of this process in cores, or undefined when there is none (or no cgroup fs). */
export function cpuQuotaCores(root = '/sys/fs/cgroup', procCgroup = readOr('/proc/self/cgroup')): number | undefined {
  if (procCgroup === undefined) return undefined;
  const { v1, v2 } = cpuGroupPaths(procCgroup);
  const quotas: number[] = [];
  if (v1 !== undefined) {
    for (const mount of [path.join(root, 'cpu'), path.join(root, 'cpu,cpuacct')]) {
      for (const dir of groupAndAncestors(mount, v1)) {
        const quota = readOr(path.join(dir, 'cpu.cfs_quota_us'));
        const period = readOr(path.join(dir, 'cpu.cfs_period_us'));
        const cores = quota !== undefined && period !== undefined ? parseCfsQuota(quota, period) : undefined;
        if (cores !== undefined) quotas.push(cores);
      }
    }
  }
  if (v2 !== undefined) {
    const mount = readOr(path.join(root, 'cgroup.controllers')) !== undefined ? root : path.join(root, 'unified');
    for (const dir of groupAndAncestors(mount, v2)) {
      const max = readOr(path.join(dir, 'cpu.max'));
      const cores = max !== undefined ? parseCpuMax(max) : undefined;
      if (cores !== undefined) quotas.push(cores);
    }
  }
  return quotas.length > 0 ? Math.min(...quotas) : undefined;
}
