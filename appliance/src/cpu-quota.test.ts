import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuGroupPaths, cpuQuotaCores, parseCfsQuota, parseCpuMax } from './cpu-quota.js';

describe('cpu quota of the process (systemd CPUQuota=, containers, bench:hall --pi-budget)', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });
  const file = (rel: string, text: string) => {
    const f = path.join(root!, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
  };

  it('parses /proc/self/cgroup, cpu.max and the v1 quota', () => {
    expect(cpuGroupPaths('4:memory:/x\n2:cpu,cpuacct:/box\n0::/v2\n')).toEqual({ v1: '/box', v2: '/v2' });
    expect(cpuGroupPaths('0::/system.slice/proctor-appliance.service\n')).toEqual({
      v2: '/system.slice/proctor-appliance.service',
    });
    expect(parseCpuMax('30000 100000\n')).toBe(0.3);
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCfsQuota('30000\n', '100000\n')).toBe(0.3);
    expect(parseCfsQuota('-1\n', '100000\n')).toBeUndefined();
  });

  it('finds a v1 quota on the group or an ancestor, the smallest; none when there is none', () => {
    root = mkdtempSync(path.join(tmpdir(), 'cpu-quota-'));
    file('cpu/cpu.cfs_quota_us', '-1\n');
    file('cpu/cpu.cfs_period_us', '100000\n');
    file('cpu/hall/cpu.cfs_quota_us', '50000\n');
    file('cpu/hall/cpu.cfs_period_us', '100000\n');
    file('cpu/hall/box/cpu.cfs_quota_us', '-1\n');
    file('cpu/hall/box/cpu.cfs_period_us', '100000\n');
    expect(cpuQuotaCores(root, '3:cpuset:/\n1:cpu:/hall/box\n')).toBe(0.5);
    expect(cpuQuotaCores(root, '1:cpu:/\n')).toBeUndefined();
    expect(cpuQuotaCores(root, undefined)).toBeUndefined();
  });

  it('finds a v2 quota (cpu.max) on the unit', () => {
    root = mkdtempSync(path.join(tmpdir(), 'cpu-quota-'));
    file('cgroup.controllers', 'cpu memory\n');
    file('system.slice/cpu.max', 'max 100000\n');
    file('system.slice/proctor.service/cpu.max', '150000 100000\n');
    expect(cpuQuotaCores(root, '0::/system.slice/proctor.service\n')).toBe(1.5);
    expect(cpuQuotaCores(root, '0::/system.slice\n')).toBeUndefined();
  });
});
