/**
 * The unit files: `systemd/check-units.sh` (systemd-analyze verify, and the offline security
 * score at 3.0 or lower, printed) passes on ours and fails on a broken or a weak unit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../scripts/appliance-build.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHECK = path.join(ROOT, 'systemd', 'check-units.sh');
const APPLIANCE_UNIT = path.join(ROOT, 'systemd', 'proctor-appliance.service');
const work = mkdtempSync(path.join(tmpdir(), 'proctor-units-'));

function check(...units: string[]) {
  const r = spawnSync('bash', [CHECK, ...units], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('systemd units', () => {
  it('has systemd-analyze (Debian package systemd; .ci/run installs it)', () => {
    const r = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    expect(r.status, 'systemd-analyze is missing: apt-get install systemd').toBe(0);
  });

  it('verify passes and the appliance unit scores 3.0 or lower', () => {
    const r = check();
    console.info(r.out);
    expect(r.code, r.out).toBe(0);
    const score = Number(/security proctor-appliance\.service: exposure ([\d.]+)/.exec(r.out)?.[1]);
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(3.0);
    // The docs give the score systemd-analyze gives, and the notify access the unit has.
    const unit = readFileSync(APPLIANCE_UNIT, 'utf8');
    const box = readFileSync(path.join(ROOT, 'docs', 'box.md'), 'utf8');
    const units = readFileSync(path.join(ROOT, 'systemd', 'README.md'), 'utf8');
    expect(/### Hardening: exposure ([\d.]+)/.exec(box)?.[1]).toBe(score.toFixed(1));
    expect(/proctor-appliance\.service`.*\(exposure ([\d.]+)\)/.exec(units)?.[1]).toBe(score.toFixed(1));
    const notify = /^NotifyAccess=(\w+)$/m.exec(unit)?.[1];
    expect(notify).toBeDefined();
    expect([...box.matchAll(/NotifyAccess=(\w+)/g)].map((m) => m[1])).toEqual(expect.arrayContaining([notify]));
    expect([...box.matchAll(/NotifyAccess=(\w+)/g)].every((m) => m[1] === notify)).toBe(true);
  });

  it('fails on a unit with a typo and on a weakly hardened one', () => {
    const unit = readFileSync(APPLIANCE_UNIT, 'utf8');
    const typo = path.join(work, 'typo.service');
    writeFileSync(typo, unit.replace('\nRestart=on-failure', '\nRestartt=on-failure'));
    const typoCheck = check(typo);
    expect(typoCheck.code).toBe(1);
    expect(typoCheck.out).toMatch(/FAIL verify typo\.service[\s\S]*Unknown key 'Restartt'/);

    const weak = path.join(work, 'weak.service');
    writeFileSync(
      weak,
      '[Unit]\nDescription=weak\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n',
    );
    const weakCheck = check(weak);
    expect(weakCheck.code).toBe(1);
    expect(weakCheck.out).toMatch(/FAIL security weak\.service: exposure [\d.]+ > 3\.0/);
  });

  it('keeps the settings the box relies on', () => {
    const unit = readFileSync(APPLIANCE_UNIT, 'utf8');
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'WatchdogSec=30s',
      'Restart=on-failure',
      'User=proctor',
      'StateDirectory=proctor-appliance',
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'EnvironmentFile=-/etc/proctor-appliance/env',
      'MemoryMax=450M',
    ])
      expect(unit.split('\n')).toContain(line);
    // V8's JIT needs W+X memory: this setting would abort Node.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
    expect(unit).not.toMatch(/^DynamicUser=yes/m);
  });

  it('runs the appliance as `npm start` does: the same node flags and environment, plus the heap cap', () => {
    const unit = readFileSync(APPLIANCE_UNIT, 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.trim().split(/\s+/) ?? [];
    // The release that `current` names, with its own Node.js (provision.sh --release).
    expect(execStart[0]).toBe('/opt/proctor-appliance/current/node/bin/node');
    expect(unit).toMatch(/^WorkingDirectory=\/opt\/proctor-appliance\/current$/m);
    expect(execStart.at(-1)).toBe('appliance/dist/main.js');
    const start = startCommand();
    const unitFlags = execStart.slice(1, -1);
    // The box alone caps the heap below the unit's MemoryHigh.
    expect(unitFlags).toContain('--max-old-space-size=256');
    expect(unitFlags.filter((f) => !f.startsWith('--max-old-space-size='))).toEqual(start.nodeFlags);
    expect(start.nodeFlags).toContain('--heap-growing-percent=100');
    const unitEnv = [...unit.matchAll(/^Environment=(.*)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    for (const [name, value] of Object.entries(start.env)) expect(unitEnv).toContain(`${name}=${value}`);
    expect(start.env).toEqual({ MALLOC_ARENA_MAX: '2' });
  });
});
