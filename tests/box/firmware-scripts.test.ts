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
  statSync,
  symlinkSync,
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
      else if (st.isBlockDevice()) out.push(`${rel} block ${st.rdev}`);
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

/**
 * A block device node at `<root>/dev/<name>` (mknod: needs root, as the box tests in CI run), with
 * udev-style relative links, e.g. `{ 'by-uuid': '0a1b-2c3d' }` for UUID=0a1b-2c3d.
 */
function fakeBlockDevice(root: string, name: string, links: Record<string, string> = {}, minor = 1): void {
  mkdirSync(path.join(root, 'dev'), { recursive: true });
  const r = spawnSync('mknod', [path.join(root, 'dev', name), 'b', '8', String(minor)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mknod (a fake block device) needs root: ${r.stderr}`);
  for (const [kind, id] of Object.entries(links)) {
    mkdirSync(path.join(root, 'dev', 'disk', kind), { recursive: true });
    symlinkSync(`../../${name}`, path.join(root, 'dev', 'disk', kind, id));
  }
}

/** Lines of the stub's mount table (`SOURCE TARGET FSTYPE OPTIONS 0 0`), as a test's box has them mounted. */
function mountTable(root: string, lines: string[]): void {
  mkdirSync(path.join(root, 'proc'), { recursive: true });
  writeFileSync(path.join(root, 'proc', 'mounts'), lines.map((l) => `${l} rw 0 0\n`).join(''));
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
    fakeBlockDevice(root, 'sda1', { 'by-uuid': '0a1b-2c3d' });
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
    // A dead or missing data disk must not stop the boot (nofail), and boot waits 30 s for it.
    expect(file('etc/fstab')).toMatch(
      /^UUID=0a1b-2c3d \/var\/lib\/proctor-appliance ext4 defaults,noatime,nofail,x-systemd\.device-timeout=30s 0 2$/m,
    );
    expect(log1).toContain('run mount /var/lib/proctor-appliance');
    expect(file('proc/mounts')).toBe('/dev/sda1 /var/lib/proctor-appliance ext4 rw 0 0\n');
    expect(file('etc/hostname')).toBe('hall-a\n');
    // The overlay covers the root only: recurse=0, or the data partition would be a tmpfs too.
    expect(file('boot/firmware/cmdline.txt')).toMatch(/(^| )overlayroot=tmpfs:recurse=0( |$)/m);
    expect(file('boot/firmware/cmdline.txt').match(/overlayroot=/g)).toHaveLength(1);
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

describe('the data partition and the read-only root', () => {
  const DATA = 'var/lib/proctor-appliance';
  const OLD = 'var/lib/proctor-appliance.before-data-device';
  const STAGED = 'run/proctor-appliance-data-move';
  let n = 0;
  /** A fresh box root, provisioned once without a data device (a box in use) unless `fresh`. */
  function box(options: { inUse?: boolean } = {}): { root: string; app: string } {
    const root = path.join(work, `data-${++n}`);
    mkdirSync(root);
    const app = fakeApp();
    if (options.inUse) {
      const r = provision(
        root,
        ['--name', 'hall-d', '--hall', 'hall-d', '--app', app],
        path.join(work, `data-${n}-0.log`),
      );
      expect(r.code, r.out).toBe(0);
    }
    return { root, app };
  }

  /** An exam day's data as the appliance leaves it: owned by proctor (999), private modes, links. */
  function examData(root: string): void {
    const data = path.join(root, DATA);
    for (const [file, text] of Object.entries({
      'journal/journal.log': 'record 1\nrecord 2\n',
      'db/hall/000005.ldb': 'leveldb',
      'blobs/ab/abcdef': 'answer file bytes',
      'secrets.json': '{"examKey":"k"}\n',
    })) {
      mkdirSync(path.dirname(path.join(data, file)), { recursive: true });
      writeFileSync(path.join(data, file), text);
    }
    symlinkSync('journal/journal.log', path.join(data, 'latest'));
    spawnSync('ln', [path.join(data, 'secrets.json'), path.join(data, 'secrets.hardlink')]);
    spawnSync('chmod', ['600', path.join(data, 'secrets.json')]);
    spawnSync('chmod', ['700', data, path.join(data, 'journal')]);
    spawnSync('chown', ['-hR', '999:999', data]);
  }

  /** Owner, mode, type and content of every entry under `dir` (what the move must keep). */
  function tree(dir: string): string[] {
    return manifest(dir).map((line) => {
      const rel = line.split(' ')[0]!.replace(/\/$/, '');
      const st = lstatSync(path.join(dir, rel));
      return `${line} ${st.uid}:${st.gid} links=${st.isDirectory() ? '-' : st.nlink}`;
    });
  }

  it('moves the data of a box in use onto the new device: copied, compared, the old copy kept; then nothing to change', () => {
    const { root, app } = box({ inUse: true });
    examData(root);
    const before = tree(path.join(root, DATA));
    fakeBlockDevice(root, 'sdb1', { 'by-label': 'proctor-data' }, 17);
    const args = ['--app', app, '--data-device', 'LABEL=proctor-data'];
    const stubLog = path.join(work, `data-${n}-1.log`);
    const r = provision(root, args, stubLog, { STUB_ACTIVE_UNITS: 'proctor-appliance.service' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('the copy on LABEL=proctor-data matches /var/lib/proctor-appliance');
    expect(r.out).toContain('the data as it was stays in /var/lib/proctor-appliance.before-data-device');
    // Stopped, mounted aside, copied, unmounted; only then the data folder is the device's.
    expect(readLog(stubLog).filter((l) => !l.startsWith('query '))).toEqual([
      'run systemctl stop proctor-appliance.service',
      'run mount -t ext4 /dev/sdb1 /run/proctor-appliance-data-move',
      'run umount /run/proctor-appliance-data-move',
      'run systemctl daemon-reload',
      'run mount /var/lib/proctor-appliance',
      'run systemctl restart proctor-appliance.service',
    ]);
    // What went onto the device (its mount point is a plain folder under --root): the same
    // entries, owners, modes, links and bytes; and the old copy untouched.
    expect(tree(path.join(root, STAGED))).toEqual(before);
    expect(tree(path.join(root, OLD))).toEqual(before);
    // The data folder the device is mounted on: empty, as private and owned as before.
    expect(readdirSync(path.join(root, DATA))).toEqual([]);
    const st = statSync(path.join(root, DATA));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o700, 999, 999]);
    expect(readFileSync(path.join(root, 'etc/fstab'), 'utf8')).toContain(
      'LABEL=proctor-data /var/lib/proctor-appliance ext4 defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2',
    );
    expect(readFileSync(path.join(root, 'proc/mounts'), 'utf8')).toBe(
      '/dev/sdb1 /var/lib/proctor-appliance ext4 rw 0 0\n',
    );

    const after = manifest(root);
    const again = provision(root, args, path.join(work, `data-${n}-2.log`));
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('nothing to change');
    expect(manifest(root)).toEqual(after);
  });

  it('refuses a device that is missing, not a block device, the root, holding the root, or mounted elsewhere; changes nothing', () => {
    const cases: [string, (root: string) => void, string][] = [
      [
        'UUID=feed-beef',
        () => {},
        '--data-device UUID=feed-beef: there is no such device (/dev/disk/by-uuid/feed-beef): is the disk plugged in?',
      ],
      [
        '/dev/sdb1',
        (root) => {
          mkdirSync(path.join(root, 'dev'), { recursive: true });
          writeFileSync(path.join(root, 'dev', 'sdb1'), 'an image file, not a device');
        },
        '--data-device /dev/sdb1: /dev/sdb1 is not a block device',
      ],
      [
        'UUID=root-uuid',
        (root) => {
          fakeBlockDevice(root, 'mmcblk0p2', { 'by-uuid': 'root-uuid' });
          mountTable(root, ['/dev/mmcblk0p2 / ext4']);
        },
        '--data-device UUID=root-uuid: /dev/mmcblk0p2 holds the root file system',
      ],
      [
        '/dev/mmcblk0',
        (root) => {
          fakeBlockDevice(root, 'mmcblk0');
          mountTable(root, ['/dev/mmcblk0p1 /boot/firmware vfat', '/dev/mmcblk0p2 / ext4']);
        },
        '--data-device /dev/mmcblk0: /dev/mmcblk0 holds the root file system',
      ],
      [
        'LABEL=usb-stick',
        (root) => {
          fakeBlockDevice(root, 'sdc1', { 'by-label': 'usb-stick' });
          mountTable(root, ['/dev/mmcblk0p2 / ext4', '/dev/sdc1 /media/usb ext4']);
        },
        '--data-device LABEL=usb-stick: /dev/sdc1 is in use: it (or a partition of it) is mounted at /media/usb. Unmount it first',
      ],
    ];
    for (const [device, setUp, message] of cases) {
      const { root, app } = box();
      setUp(root);
      const before = manifest(root);
      const stubLog = path.join(work, `data-${n}.log`);
      const r = provision(root, ['--name', 'x', '--hall', 'y', '--app', app, '--data-device', device], stubLog);
      expect(r.code, device).toBe(1);
      expect(r.out, device).toContain(`ERROR: ${message}`);
      expect(manifest(root), device).toEqual(before);
      expect(
        readLog(stubLog).filter((l) => !l.startsWith('query ')),
        device,
      ).toEqual([]);
    }
  });

  it('refuses a device that holds files already, and leaves the data where it was', () => {
    const { root, app } = box({ inUse: true });
    examData(root);
    const before = tree(path.join(root, DATA));
    fakeBlockDevice(root, 'sdb1', { 'by-uuid': 'full-disk' }, 17);
    // What the mounted device shows (its mount point is a plain folder under --root).
    mkdirSync(path.join(root, STAGED, 'lost+found'), { recursive: true });
    writeFileSync(path.join(root, STAGED, 'holiday.jpg'), 'photo');
    const r = provision(root, ['--app', app, '--data-device', 'UUID=full-disk'], path.join(work, `data-${n}-1.log`));
    expect(r.code).toBe(1);
    expect(r.out).toContain('ERROR: --data-device UUID=full-disk is not empty (it holds holiday.jpg');
    expect(tree(path.join(root, DATA))).toEqual(before);
    expect(lstatSync(path.join(root, OLD), { throwIfNoEntry: false })).toBeUndefined();
    expect(lstatSync(path.join(root, 'etc/fstab'), { throwIfNoEntry: false })).toBeUndefined();
    // Unmounted again: nothing left mounted aside.
    expect(readFileSync(path.join(root, 'proc/mounts'), 'utf8')).toBe('');
  });

  it('turns an earlier overlayroot=tmpfs (which overlays the data partition too) into recurse=0', () => {
    const { root, app } = box();
    fakeBlockDevice(root, 'sda1', { 'by-uuid': 'data-uuid' });
    mkdirSync(path.join(root, 'boot/firmware'), { recursive: true });
    writeFileSync(
      path.join(root, 'boot/firmware/cmdline.txt'),
      'overlayroot=tmpfs console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n',
    );
    const stubLog = path.join(work, `data-${n}.log`);
    const args = ['--name', 'x', '--hall', 'y', '--app', app, '--data-device', 'UUID=data-uuid', '--read-only-root'];
    const r = provision(root, args, stubLog);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(path.join(root, 'boot/firmware/cmdline.txt'), 'utf8')).toBe(
      'overlayroot=tmpfs:recurse=0 console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n',
    );
    expect(readLog(stubLog)).not.toContain('run raspi-config nonint do_overlayfs 0');
  });

  it('refuses to provision onto a root that is an overlay now (every change would vanish at reboot)', () => {
    const { root, app } = box();
    mountTable(root, ['overlayroot / overlay']);
    const before = manifest(root);
    const r = provision(root, ['--name', 'x', '--hall', 'y', '--app', app], path.join(work, `data-${n}.log`));
    expect(r.code).toBe(1);
    expect(r.out).toContain('ERROR: the root file system is a read-only overlay now');
    expect(r.out).toContain('raspi-config nonint do_overlayfs 1');
    expect(manifest(root)).toEqual(before);
  });
});
