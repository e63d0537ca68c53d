/**
 * Installing releases with provision.sh in --root mode (system commands stubbed and logged by
 * lib/system-command-stub.sh): small fake release tarballs in the format `npm run release` makes
 * (scripts/release-manifest.ts), installed, upgraded, upgraded to a release that never becomes
 * healthy (rolled back by itself), rolled back by hand, refused (another CPU, a damaged copy, a
 * file too many) and uninstalled with and without the data.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
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
import {
  MANIFEST_FORMAT,
  formatManifest,
  releaseName,
  type ReleaseArch,
  type ReleaseManifest,
} from '../../scripts/release-manifest.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROVISION = path.join(ROOT, 'firmware-scripts', 'provision.sh');
const work = mkdtempSync(path.join(tmpdir(), 'proctor-release-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type FakeRelease = { tarball: string; folder: string; version: string };

/**
 * A release tarball as `npm run release` packs it: one folder, release.json first, the built app,
 * the units, the firmware scripts and a node/bin/node (a stand-in: the stub answers for it).
 */
function fakeRelease(
  version: string,
  options: { arch?: ReleaseArch; tamper?: boolean; extraFile?: boolean; unitComment?: string } = {},
): FakeRelease {
  const arch = options.arch ?? 'arm64';
  const name = releaseName(version, arch);
  const base = path.join(
    work,
    'releases',
    `${name}${options.tamper ? '-tampered' : ''}${options.extraFile ? '-extra' : ''}`,
  );
  const top = path.join(base, name);
  const unit = readFileSync(path.join(ROOT, 'systemd', 'proctor-appliance.service'), 'utf8');
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify({ name: 'proctor-appliance', version }, null, 2)}\n`,
    'appliance/dist/main.js': `// appliance ${version}\n`,
    'appliance/dist/cli.js': `// cli ${version}\n`,
    'client/dist/index.html': `<!doctype html><title>${version}</title>\n`,
    'node_modules/hono/package.json': '{"name":"hono"}\n',
    'node/bin/node': '#!/bin/sh\n# a stand-in for Node.js: the stub answers for it\n',
    'systemd/proctor-appliance.service': options.unitComment ? `${unit}# ${options.unitComment}\n` : unit,
    'systemd/proctor-ap-address.service': readFileSync(
      path.join(ROOT, 'systemd', 'proctor-ap-address.service'),
      'utf8',
    ),
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(top, file)), { recursive: true });
    writeFileSync(path.join(top, file), text);
  }
  chmodSync(path.join(top, 'node/bin/node'), 0o755);
  // The real firmware scripts: an unpacked release provisions with its own provision.sh.
  cpSync(path.join(ROOT, 'firmware-scripts'), path.join(top, 'firmware-scripts'), { recursive: true });
  const listed: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(top, rel), { withFileTypes: true })) {
      const r = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(r);
      else
        listed[r] = createHash('sha256')
          .update(readFileSync(path.join(top, r)))
          .digest('hex');
    }
  };
  walk('');
  const manifest: ReleaseManifest = {
    format: MANIFEST_FORMAT,
    name: 'proctor-appliance',
    version,
    packageVersion: version.split('+')[0]!,
    commit: 'c'.repeat(40),
    dirty: false,
    node: '24.22.3',
    platform: 'linux',
    arch,
    files: listed,
  };
  writeFileSync(path.join(top, 'release.json'), formatManifest(manifest));
  if (options.tamper) writeFileSync(path.join(top, 'appliance/dist/main.js'), '// changed after the manifest\n');
  if (options.extraFile) writeFileSync(path.join(top, 'appliance/dist/extra.js'), '// not in the manifest\n');
  const tarball = path.join(base, `${name}.tar.gz`);
  const r = spawnSync(
    'tar',
    ['-czf', tarball, '-C', base, `${name}/release.json`, '--exclude', `${name}/release.json`, name],
    {
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return { tarball, folder: top, version };
}

function provision(
  root: string,
  args: string[],
  stubLog: string,
  env: Record<string, string> = {},
  script = PROVISION,
) {
  const r = spawnSync('bash', [script, '--root', root, '--health-timeout', '1', ...args], {
    encoding: 'utf8',
    env: { ...process.env, STUB_LOG: stubLog, ...env },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** path, type, mode and content hash (or link target) of everything under `dir`. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${(st.mode & 0o7777).toString(8)}`);
        walk(p);
      } else out.push(`${rel} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir);
  return out;
}

const readLog = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
const changes = (file: string) => readLog(file).filter((l) => !l.startsWith('query '));

describe('provision.sh --release', () => {
  const root = path.join(work, 'box');
  mkdirSync(root);
  const opt = (p = '') => path.join(root, 'opt/proctor-appliance', p);
  const link = (name: string) => readlinkSync(opt(name));
  const releases = () => readdirSync(opt('releases')).sort();
  const log = (n: string) => path.join(work, `box-${n}.log`);
  const first = fakeRelease('0.2.0+gaaaaaaaaaaaa');
  const second = fakeRelease('0.3.0+gbbbbbbbbbbbb');
  const broken = fakeRelease('0.4.0+gcccccccccccc', { unitComment: 'a unit the broken release changed' });
  const third = fakeRelease('0.4.1+gdddddddddddd');

  it('installs a release with no network: verified, unpacked into releases/<version>, current switched, health checked', () => {
    const r = provision(root, ['--name', 'hall-a', '--hall', 'hall-a', '--release', first.tarball], log('install'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/verified \d+ files against release\.json/);
    expect(releases()).toEqual([first.version]);
    expect(link('current')).toBe(`releases/${first.version}`);
    expect(existsSync(opt('previous'))).toBe(false);
    expect(readFileSync(opt('current/appliance/dist/main.js'), 'utf8')).toBe(`// appliance ${first.version}\n`);
    expect(readFileSync(opt('current/release.json'), 'utf8')).toContain(`"version": "${first.version}"`);
    expect(readFileSync(path.join(root, 'etc/systemd/system/proctor-appliance.service'), 'utf8')).toMatch(
      /^ExecStart=\/opt\/proctor-appliance\/current\/node\/bin\/node .* appliance\/dist\/main\.js$/m,
    );
    expect(readlinkSync(path.join(root, 'usr/local/sbin/proctor-doctor'))).toBe(
      '/opt/proctor-appliance/current/firmware-scripts/doctor.sh',
    );
    const stub = readLog(log('install'));
    // No Node.js from apt (the release brings its own), no npm: nothing that needs the internet.
    expect(stub.find((l) => l.startsWith('run apt-get install'))).not.toMatch(/nodejs/);
    expect(stub.filter((l) => / npm /.test(` ${l} `))).toEqual([]);
    expect(stub).toContain(
      `query /opt/proctor-appliance/releases/.incoming/${releaseName(first.version, 'arm64')}/node/bin/node --version`,
    );
    expect(stub).toContain('run systemctl restart proctor-appliance.service');
    expect(stub).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^query /opt/proctor-appliance/current/node/bin/node .*/health-probe\\.mjs https://127\\.0\\.0\\.1:443/api/health ${first.version.replace(/[.+]/g, '\\$&')}$`,
        ),
      ),
    );
    expect(existsSync(opt('releases/.incoming'))).toBe(false);

    const again = provision(root, ['--release', first.tarball], log('install-2'));
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('already installed');
    expect(again.out).toContain('nothing to change');
    expect(changes(log('install-2'))).toEqual([]);
  });

  it('upgrades: the new release beside the old, current switched, previous kept, the unit restarted', () => {
    const r = provision(root, ['--release', second.tarball], log('upgrade'));
    expect(r.code, r.out).toBe(0);
    expect(releases()).toEqual([first.version, second.version]);
    expect(link('current')).toBe(`releases/${second.version}`);
    expect(link('previous')).toBe(`releases/${first.version}`);
    expect(changes(log('upgrade'))).toEqual(['run systemctl restart proctor-appliance.service']);
    expect(readLog(log('upgrade')).some((l) => l.includes('health-probe.mjs') && l.endsWith(second.version))).toBe(
      true,
    );
  });

  it('a release that does not become healthy is rolled back by itself: the box is as it was', () => {
    const before = snapshot(root);
    const r = provision(root, ['--release', broken.tarball], log('broken'), { STUB_UNHEALTHY_RELEASE: broken.version });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`release ${broken.version} is not healthy: back to releases/${second.version}`);
    expect(r.out).toContain(`rolled back to releases/${second.version}, which is healthy`);
    // Current and previous as before, the failed release gone, the old unit back (the broken
    // release had changed it).
    expect(link('current')).toBe(`releases/${second.version}`);
    expect(link('previous')).toBe(`releases/${first.version}`);
    expect(snapshot(root)).toEqual(before);
    expect(changes(log('broken'))).toEqual([
      'run systemctl daemon-reload',
      'run systemctl restart proctor-appliance.service',
      'run systemctl daemon-reload',
      'run systemctl restart proctor-appliance.service',
    ]);
  });

  it('keeps only the current and the previous release, and --rollback switches back (and forth)', () => {
    const r = provision(root, ['--release', third.tarball], log('third'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`removing the old release /opt/proctor-appliance/releases/${first.version}`);
    expect(releases()).toEqual([second.version, third.version]);
    expect(link('current')).toBe(`releases/${third.version}`);
    expect(link('previous')).toBe(`releases/${second.version}`);

    const back = provision(root, ['--rollback'], log('rollback'));
    expect(back.code, back.out).toBe(0);
    expect(link('current')).toBe(`releases/${second.version}`);
    expect(link('previous')).toBe(`releases/${third.version}`);
    expect(changes(log('rollback'))).toEqual(['run systemctl restart proctor-appliance.service']);
    expect(readLog(log('rollback')).some((l) => l.includes('health-probe.mjs') && l.endsWith(second.version))).toBe(
      true,
    );

    const forth = provision(root, ['--rollback'], log('rollforth'));
    expect(forth.code, forth.out).toBe(0);
    expect(link('current')).toBe(`releases/${third.version}`);
    expect(link('previous')).toBe(`releases/${second.version}`);
  });

  it('refuses a release for another CPU, a damaged copy and a file too many, changing nothing', () => {
    const before = snapshot(root);
    const x64 = fakeRelease('0.5.0+geeeeeeeeeeee', { arch: 'x64' });
    const wrongArch = provision(root, ['--release', x64.tarball], log('x64'));
    expect(wrongArch.code).toBe(1);
    expect(wrongArch.out).toContain('is for linux-x64, this box is linux-arm64: use the linux-arm64 release');
    const tampered = provision(
      root,
      ['--release', fakeRelease('0.5.1+gffffffffffff', { tamper: true }).tarball],
      log('tampered'),
    );
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain("the release's files do not match their SHA-256s in release.json");
    const extra = provision(
      root,
      ['--release', fakeRelease('0.5.2+gabcabcabcabc', { extraFile: true }).tarball],
      log('extra'),
    );
    expect(extra.code).toBe(1);
    expect(extra.out).toMatch(/the release holds \d+ files, its release\.json lists \d+/);
    const junk = path.join(work, 'junk.tar.gz');
    writeFileSync(junk, 'not a tarball');
    const notRelease = provision(root, ['--release', junk], log('junk'));
    expect(notRelease.code).toBe(1);
    expect(notRelease.out).toContain('not a release tarball');
    expect(snapshot(root)).toEqual(before);
    for (const n of ['x64', 'tampered', 'extra', 'junk']) expect(changes(log(n))).toEqual([]);
  });

  it('an unpacked release provisions with its own provision.sh (no --release needed)', () => {
    const fresh = path.join(work, 'fresh');
    mkdirSync(fresh);
    const script = path.join(second.folder, 'firmware-scripts', 'provision.sh');
    const r = provision(fresh, ['--name', 'hall-b', '--hall', 'hall-b'], log('unpacked'), {}, script);
    expect(r.code, r.out).toBe(0);
    expect(readlinkSync(path.join(fresh, 'opt/proctor-appliance/current'))).toBe(`releases/${second.version}`);
    expect(readFileSync(path.join(fresh, 'opt/proctor-appliance/current/appliance/dist/cli.js'), 'utf8')).toBe(
      `// cli ${second.version}\n`,
    );
    // The box's commands run the release's own node.
    const cli = spawnSync(
      'bash',
      [path.join(ROOT, 'firmware-scripts', 'appliance-cli.sh'), '--dry-run', '--root', fresh, 'proctor', 'list'],
      {
        encoding: 'utf8',
      },
    );
    expect(cli.stderr).toContain(
      `/opt/proctor-appliance/releases/${second.version}/node/bin/node --enable-source-maps /opt/proctor-appliance/releases/${second.version}/appliance/dist/cli.js proctor list`,
    );
  });

  it('--uninstall removes the service, the app and the commands, keeps data and settings; --purge-data deletes them', () => {
    mkdirSync(path.join(root, 'var/lib/proctor-appliance'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/proctor-appliance/journal.log'), 'exam day\n');
    const r = provision(root, ['--uninstall'], log('uninstall'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('kept the data folder /var/lib/proctor-appliance');
    expect(existsSync(opt())).toBe(false);
    expect(existsSync(path.join(root, 'etc/systemd/system/proctor-appliance.service'))).toBe(false);
    expect(existsSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/proctor-appliance.service'))).toBe(
      false,
    );
    expect(existsSync(path.join(root, 'usr/local/sbin/proctor-doctor'))).toBe(false);
    expect(readFileSync(path.join(root, 'var/lib/proctor-appliance/journal.log'), 'utf8')).toBe('exam day\n');
    expect(readFileSync(path.join(root, 'etc/proctor-appliance/env'), 'utf8')).toMatch(/^PROCTOR_HALL_ID=hall-a$/m);
    expect(changes(log('uninstall'))).toEqual([
      'run systemctl disable --now proctor-appliance.service',
      'run systemctl disable --now proctor-ap-address.service',
      'run systemctl daemon-reload',
    ]);
    const again = provision(root, ['--uninstall'], log('uninstall-2'));
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('nothing to change');

    // The data folder is a data partition (the stub's mount table): emptied, its mount point kept.
    mkdirSync(path.join(root, 'proc'), { recursive: true });
    writeFileSync(path.join(root, 'proc/mounts'), '/dev/sda1 /var/lib/proctor-appliance ext4 rw 0 0\n');
    const purge = provision(root, ['--uninstall', '--purge-data'], log('purge'));
    expect(purge.code, purge.out).toBe(0);
    expect(purge.out).toContain('deleting everything in /var/lib/proctor-appliance');
    expect(readdirSync(path.join(root, 'var/lib/proctor-appliance'))).toEqual([]);
    expect(existsSync(path.join(root, 'etc/proctor-appliance'))).toBe(false);
    const refused = provision(root, ['--purge-data'], log('purge-alone'));
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('--purge-data goes with --uninstall only');
  });
});
