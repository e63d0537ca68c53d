/**
 * The firmware scripts: shellcheck-clean (shellcheck must be installed: .ci/run installs it),
 * and provisioning is idempotent — run twice with --root into a temporary folder (system
 * commands stubbed and logged by lib/system-command-stub.sh), the second run changes no file
 * (path, mode, SHA-256 of every file and link) and runs no state-changing command.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROVISION = path.join(ROOT, 'firmware-scripts', 'provision.sh');
const work = mkdtempSync(path.join(tmpdir(), 'proctor-provision-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every shell script of the box: *.sh, and files whose first line is a bash shebang. */
function shellScripts(): string[] {
  const out: string[] = [path.join(ROOT, '.ci', 'run')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.sh') || readFileSync(p, 'utf8').startsWith('#!/usr/bin/env bash')) out.push(p);
    }
  };
  walk(path.join(ROOT, 'firmware-scripts'));
  walk(path.join(ROOT, 'systemd'));
  out.push(path.join(ROOT, 'scripts', 'toolchain.sh'), path.join(ROOT, 'scripts', 'test.sh'));
  return out.sort();
}

/** path, type, mode and content hash (or link target) of everything under `dir`. */
function manifest(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${rel} link ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${mode}`);
        walk(p);
      } else out.push(`${rel} ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir);
  return out;
}

/** A small app to install, with a built appliance and client (the real ones need `npm run build`). */
function fakeApp(): string {
  const app = path.join(work, 'app');
  for (const [file, text] of Object.entries({
    'package.json': '{"name":"proctor-appliance","version":"0.1.0"}\n',
    'package-lock.json': '{"lockfileVersion":3}\n',
    'appliance/src/main.ts': 'export {};\n',
    'appliance/src/cli.ts': 'export {};\n',
    'appliance/dist/main.js': 'export {};\n',
    'appliance/dist/cli.js': 'export {};\n',
    'client/dist/index.html': '<!doctype html>\n',
  })) {
    mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    writeFileSync(path.join(app, file), text);
  }
  return app;
}

function provision(root: string, args: string[], stubLog: string, env: Record<string, string> = {}) {
  const r = spawnSync('bash', [PROVISION, '--root', root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, STUB_LOG: stubLog, ...env },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const readLog = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('firmware scripts', () => {
  it('are shellcheck-clean (shellcheck is required)', () => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    expect(version.status, 'shellcheck is missing: apt-get install shellcheck (.ci/run does)').toBe(0);
    const scripts = shellScripts();
    expect(scripts.map((s) => path.relative(ROOT, s))).toEqual(
      expect.arrayContaining([
        'firmware-scripts/provision.sh',
        'firmware-scripts/doctor.sh',
        'systemd/check-units.sh',
        'scripts/test.sh',
        'scripts/toolchain.sh',
      ]),
    );
    const r = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const s of scripts) expect(readFileSync(s, 'utf8'), s).toContain('set -euo pipefail');
  });

  it('provisions with --root, and a second run changes nothing', () => {
    const root = path.join(work, 'root');
    mkdirSync(root);
    const passphrase = path.join(work, 'ap-passphrase');
    writeFileSync(passphrase, 'correct horse battery\n');
    const app = fakeApp();
    const args = [
      ...['--name', 'hall-a', '--hall', 'hall-a', '--app', app],
      ...['--ap-ssid', 'Exam room', '--ap-passphrase-file', passphrase],
      ...['--data-device', 'UUID=0a1b-2c3d', '--read-only-root'],
    ];
    const first = provision(root, args, path.join(work, 'stub-1.log'));
    expect(first.code, first.out).toBe(0);
    const log1 = readLog(path.join(work, 'stub-1.log'));
    expect(log1).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^run apt-get install -y --no-install-recommends nodejs avahi-daemon .*hostapd dnsmasq$/),
        expect.stringMatching(/^run useradd --system .* proctor$/),
        'run systemctl enable proctor-appliance.service',
        'run raspi-config nonint do_overlayfs 0',
        'run systemctl restart proctor-appliance.service',
      ]),
    );
    const after1 = manifest(root);
    const file = (p: string) => readFileSync(path.join(root, p), 'utf8');
    expect(file('etc/systemd/system/proctor-appliance.service')).toBe(
      readFileSync(path.join(ROOT, 'systemd', 'proctor-appliance.service'), 'utf8'),
    );
    expect(file('etc/proctor-appliance/env')).toMatch(/^PROCTOR_APPLIANCE_NAME=hall-a$/m);
    expect(file('etc/proctor-appliance/env')).toMatch(/^PROCTOR_HALL_ID=hall-a$/m);
    expect(after1).toContain(
      `etc/proctor-appliance/env 600 ${createHash('sha256').update(file('etc/proctor-appliance/env')).digest('hex')}`,
    );
    expect(file('etc/chrony/conf.d/proctor-hall.conf')).toMatch(/^allow 10\.0\.0\.0\/8$/m);
    expect(file('etc/chrony/conf.d/proctor-hall.conf')).toMatch(/^local stratum 10 orphan$/m);
    expect(file('etc/chrony/conf.d/proctor-hall.conf')).toMatch(/^makestep 1 3$/m);
    expect(file('etc/hostapd/hostapd.conf')).toMatch(/^ap_isolate=1$/m);
    expect(file('etc/fstab')).toMatch(/^UUID=0a1b-2c3d \/var\/lib\/proctor-appliance ext4 /m);
    expect(file('etc/hostname')).toBe('hall-a\n');
    expect(file('boot/firmware/cmdline.txt')).toContain('overlayroot=tmpfs');
    expect(file('opt/proctor-appliance/client/dist/index.html')).toBe('<!doctype html>\n');
    // What the unit runs: the bundle, installed from the app's appliance/dist.
    expect(file('etc/systemd/system/proctor-appliance.service')).toMatch(/^ExecStart=.* appliance\/dist\/main\.js$/m);
    expect(file('opt/proctor-appliance/appliance/dist/main.js')).toBe('export {};\n');
    expect(file('opt/proctor-appliance/appliance/src/cli.ts')).toBe('export {};\n');
    expect(file('opt/proctor-appliance/appliance/dist/cli.js')).toBe('export {};\n');

    const second = provision(root, args, path.join(work, 'stub-2.log'));
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('nothing to change');
    expect(manifest(root)).toEqual(after1);
    const log2 = readLog(path.join(work, 'stub-2.log'));
    expect(log2.length).toBeGreaterThan(0);
    expect(
      log2.filter((l) => !l.startsWith('query ')),
      'state-changing commands in run 2',
    ).toEqual([]);

    // The box's commands, installed as links through `current`, run the app with the box's
    // settings; an app installed in place (--app) is current itself, run by the system's node.
    expect(readlinkSync(path.join(root, 'usr/local/sbin/proctor-doctor'))).toBe(
      '/opt/proctor-appliance/current/firmware-scripts/doctor.sh',
    );
    expect(readlinkSync(path.join(root, 'opt/proctor-appliance/current'))).toBe('.');
    expect(readlinkSync(path.join(root, 'opt/proctor-appliance/node/bin/node'))).toBe('/usr/bin/node');
    const cli = spawnSync(
      'bash',
      [path.join(ROOT, 'firmware-scripts', 'appliance-cli.sh'), '--dry-run', '--root', root, 'proctor', 'list'],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(
      /would run: env STATE_DIRECTORY=\/var\/lib\/proctor-appliance PROCTOR_APPLIANCE_NAME=hall-a PROCTOR_HALL_ID=hall-a .* \/opt\/proctor-appliance\/node\/bin\/node --enable-source-maps \/opt\/proctor-appliance\/appliance\/dist\/cli\.js proctor list/,
    );
    const doctor = spawnSync('bash', [path.join(ROOT, 'firmware-scripts', 'doctor.sh'), '--dry-run', '--root', root], {
      encoding: 'utf8',
    });
    expect(doctor.status, doctor.stderr).toBe(0);
    expect(doctor.stderr).toContain('node --enable-source-maps appliance/dist/cli.js doctor');
    expect(manifest(root)).toEqual(after1);

    // A re-run without options keeps name, hall and access point, still changing nothing.
    const third = provision(root, ['--app', app], path.join(work, 'stub-3.log'));
    expect(third.code, third.out).toBe(0);
    expect(manifest(root)).toEqual(after1);
    expect(readLog(path.join(work, 'stub-3.log')).filter((l) => !l.startsWith('query '))).toEqual([]);
  });

  it('--dry-run prints what would change and changes nothing', () => {
    const root = path.join(work, 'dry');
    mkdirSync(root);
    const r = provision(
      root,
      ['--dry-run', '--name', 'hall-b', '--hall', 'hall-b', '--app', fakeApp()],
      path.join(work, 'dry.log'),
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('would create /etc/proctor-appliance/env (600)');
    expect(r.out).toContain('would run: systemctl enable proctor-appliance.service');
    expect(manifest(root)).toEqual([]);
    expect(readLog(path.join(work, 'dry.log')).filter((l) => !l.startsWith('query '))).toEqual([]);
  });

  it('refuses an app whose appliance is not built, and says how to build it', () => {
    const root = path.join(work, 'unbuilt');
    mkdirSync(root);
    const app = fakeApp();
    rmSync(path.join(app, 'appliance', 'dist'), { recursive: true });
    const r = provision(root, ['--name', 'x', '--hall', 'y', '--app', app], path.join(work, 'unbuilt.log'));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${app}/appliance/dist is not built: run \`npm ci && npm run build\` there first`);
    expect(manifest(root)).toEqual([]);
  });

  it('refuses a Node.js older than 24.11 (Node 20 is out of support), and says where 24 comes from', () => {
    const root = path.join(work, 'old-node');
    mkdirSync(root);
    const args = ['--name', 'x', '--hall', 'y', '--app', fakeApp()];
    const old = provision(root, args, path.join(work, 'old-node.log'), { STUB_NODE_VERSION: 'v20.19.0' });
    expect(old.code).toBe(1);
    expect(old.out).toContain("node v20.19.0 is too old (Debian's own is 18): need Node.js 24 (>= 24.11)");
    expect(old.out).toContain('NodeSource');
    const current = provision(root, args, path.join(work, 'node-24.log'), { STUB_NODE_VERSION: 'v24.11.0' });
    expect(current.code, current.out).toBe(0);
    expect(current.out).toContain('node v24.11.0');
  });

  it('refuses a read-only root without a data partition', () => {
    const root = path.join(work, 'refuse');
    mkdirSync(root);
    const r = provision(
      root,
      ['--name', 'x', '--hall', 'y', '--app', fakeApp(), '--read-only-root'],
      path.join(work, 'refuse.log'),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('--read-only-root needs --data-device');
    expect(manifest(root)).toEqual([]);
  });

  it('gives chrony the other boxes of the hall as peers (orphan mode), keeps them on a re-run, refuses junk', () => {
    const root = path.join(work, 'peers');
    mkdirSync(root);
    const app = fakeApp();
    const chrony = () => readFileSync(path.join(root, 'etc/chrony/conf.d/proctor-hall.conf'), 'utf8');
    const base = ['--name', 'hall-a', '--hall', 'hall-a', '--app', app];
    const alone = provision(root, base, path.join(work, 'peers-0.log'));
    expect(alone.code, alone.out).toBe(0);
    expect(chrony()).not.toMatch(/^peer /m);
    const first = provision(
      root,
      [...base, '--time-peer', 'hall-b.local', '--time-peer', '10.20.0.3'],
      path.join(work, 'peers-1.log'),
    );
    expect(first.code, first.out).toBe(0);
    expect(chrony().match(/^peer .*$/gm)).toEqual(['peer hall-b.local iburst', 'peer 10.20.0.3 iburst']);
    expect(chrony()).toMatch(/^local stratum 10 orphan$/m);
    const again = provision(root, base, path.join(work, 'peers-2.log'));
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('nothing to change');
    expect(chrony().match(/^peer .*$/gm)).toEqual(['peer hall-b.local iburst', 'peer 10.20.0.3 iburst']);
    const bad = provision(root, [...base, '--time-peer', 'x; rm -rf /'], path.join(work, 'peers-3.log'));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('--time-peer: a host name or address');
  });
});
