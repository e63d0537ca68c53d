/**
 * Makes the release tarball that a box installs with no internet (`provision.sh --release`):
 *
 *   npm run release [-- --arch arm64|x64|all] [--out DIR] [--skip-typecheck]
 *
 * Default arch arm64 (a Raspberry Pi 4/5 on 64-bit Raspberry Pi OS); output in dist/release/:
 * `proctor-appliance-<version>-linux-<arch>.tar.gz` and its `.sha256`. Each tarball holds one
 * folder of that name with
 *   - what provision.sh's APP_PATHS install from a checkout (package.json, appliance/src for the
 *     placeholder page, docs, examples, firmware-scripts, systemd, ...) without the tests,
 *   - appliance/dist and client/dist, built from this checkout into the release (the checkout's
 *     own appliance/dist and client/dist are not used or touched), after a type check,
 *   - node_modules: the production dependencies only (`npm ci --omit=dev`) installed for
 *     linux-<arch> (glibc) with install scripts off; every native module must find its binary for
 *     that architecture among the prebuilt ones, or the build fails (release-manifest.ts);
 *     prebuilt binaries for other platforms are left out,
 *   - node/bin/node: Node.js for linux-<arch>, the version .nvmrc names (the npm registry's
 *     node-linux-<arch> package, as scripts/toolchain.sh), so the box needs no NodeSource,
 *   - release.json: version, arch, commit, Node version and the SHA-256 of every file.
 * The version is package.json's plus `+g<commit>` (and `.dirty` with uncommitted changes), and the
 * release's package.json says it, so /api/health names the exact build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildAppliance } from './appliance-build.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  RELEASE_ARCHES,
  checkNativeModules,
  elfArch,
  formatManifest,
  releaseName,
  type ReleaseArch,
  type ReleaseManifest,
} from './release-manifest.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const PROVISION = path.join(REPO_ROOT, 'firmware-scripts', 'provision.sh');

/** provision.sh's APP_PATHS: what an installed app holds besides node_modules (one list for both). */
export function appPaths(): string[] {
  const line = /^APP_PATHS=\((.*)\)$/m.exec(readFileSync(PROVISION, 'utf8'))?.[1];
  if (line === undefined) throw new Error(`no APP_PATHS=(...) line in ${PROVISION}`);
  return line.trim().split(/\s+/);
}

/** Files of the checkout a box never needs: tests and browser tests. */
const NOT_SHIPPED = [/\.test\.tsx?$/, /(^|\/)e2e\//];

const run = (command: string, args: string[], cwd: string) => {
  const r = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${String(r.status ?? r.signal)})`);
};

const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();

/** Removes every prebuilds/<platform-arch> folder but linux-<arch> (node-gyp-build's layout). */
function pruneForeignPrebuilds(nodeModules: string, arch: ReleaseArch): number {
  let removed = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const p = path.join(dir, entry.name);
      if (entry.name === 'prebuilds') {
        for (const target of readdirSync(p))
          if (target !== `linux-${arch}`) {
            rmSync(path.join(p, target), { recursive: true, force: true });
            removed++;
          }
      } else walk(p);
    }
  };
  walk(nodeModules);
  return removed;
}

/** node_modules/.bin folders, nested ones too: command links the box never runs (a release holds no links). */
function removeBinLinks(nodeModules: string): void {
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name === '.bin') rmSync(path.join(dir, entry.name), { recursive: true, force: true });
      else walk(path.join(dir, entry.name));
    }
  };
  walk(nodeModules);
}

/** Every file under `dir`, relative; refuses links and other non-regular files. */
function regularFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) out.push(r);
      else throw new Error(`${r} in the release is neither a file nor a folder (a link?): releases hold files only`);
    }
  };
  walk('');
  return out;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Node.js for linux-<arch> from the registry's node-linux-<arch> package: bin/node and LICENSE. */
function fetchNode(version: string, arch: ReleaseArch, into: string, work: string): void {
  const packDir = path.join(work, `node-${arch}`);
  mkdirSync(packDir, { recursive: true });
  const tgz = execFileSync(
    'npm',
    ['pack', '--silent', '--pack-destination', packDir, `node-linux-${arch}@${version}`],
    { cwd: packDir, encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .at(-1)!;
  run('tar', ['-xzf', path.join(packDir, tgz), '-C', packDir, 'package/bin/node', 'package/LICENSE'], packDir);
  mkdirSync(path.join(into, 'bin'), { recursive: true });
  renameSync(path.join(packDir, 'package', 'bin', 'node'), path.join(into, 'bin', 'node'));
  renameSync(path.join(packDir, 'package', 'LICENSE'), path.join(into, 'LICENSE'));
  const found = elfArch(path.join(into, 'bin', 'node'));
  if (found !== arch) throw new Error(`node-linux-${arch}@${version}'s bin/node is ${found}, not ${arch}`);
}

export type ReleaseResult = { tarball: string; bytes: number; unpackedBytes: number; files: number; ms: number };

/** Builds one release for `arch` from the already built `build` folder (appliance/dist, client/dist). */
function packRelease(options: {
  arch: ReleaseArch;
  build: string;
  out: string;
  work: string;
  meta: Omit<ReleaseManifest, 'arch' | 'files' | 'format' | 'platform'>;
  /** The commit's time (seconds): every member's modification time. */
  commitTime: number;
}): ReleaseResult {
  const started = performance.now();
  const { arch, meta } = options;
  const name = releaseName(meta.version, arch);
  const top = path.join(options.work, arch, name);
  mkdirSync(top, { recursive: true });
  for (const p of appPaths()) {
    if (p === 'appliance/dist' || p === 'client/dist') continue;
    const from = path.join(REPO_ROOT, p);
    if (!existsSync(from)) continue;
    cpSync(from, path.join(top, p), {
      recursive: true,
      filter: (src) => !NOT_SHIPPED.some((re) => re.test(path.relative(REPO_ROOT, src))),
    });
  }
  for (const p of ['appliance/dist', 'client/dist'])
    cpSync(path.join(options.build, p), path.join(top, p), { recursive: true });
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(top, 'package.json'), `${JSON.stringify({ ...pkg, version: meta.version }, null, 2)}\n`);

  // Production dependencies for the box's platform, installed apart from the checkout's node_modules.
  const npmDir = path.join(options.work, arch, 'npm');
  mkdirSync(npmDir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(REPO_ROOT, f), path.join(npmDir, f));
  run(
    'npm',
    ['ci', '--omit=dev', '--os=linux', `--cpu=${arch}`, '--libc=glibc', '--ignore-scripts', '--no-audit', '--no-fund'],
    npmDir,
  );
  const nodeModules = path.join(top, 'node_modules');
  renameSync(path.join(npmDir, 'node_modules'), nodeModules);
  removeBinLinks(nodeModules);
  pruneForeignPrebuilds(nodeModules, arch);
  const native = checkNativeModules(nodeModules, arch);
  if (native.problems.length > 0)
    throw new Error(`the production node_modules cannot run on linux-${arch}:\n  ${native.problems.join('\n  ')}`);
  for (const m of native.modules) process.stdout.write(`  native ${m.name} (${m.kind}): ${m.binaries.join(', ')}\n`);

  fetchNode(meta.node, arch, path.join(top, 'node'), path.join(options.work, arch));

  const files = regularFiles(top);
  const manifest: ReleaseManifest = {
    format: MANIFEST_FORMAT,
    ...meta,
    platform: 'linux',
    arch,
    files: Object.fromEntries(files.map((f) => [f, sha256(path.join(top, f))])),
  };
  writeFileSync(path.join(top, MANIFEST_FILE), formatManifest(manifest));
  const unpackedBytes = files.reduce((n, f) => n + statSync(path.join(top, f)).size, 0);

  // release.json first (provision.sh reads it before unpacking the rest), then every folder and
  // file in order, owned by root, with the commit's time: the same commit packs the same bytes.
  mkdirSync(options.out, { recursive: true });
  const tarball = path.join(options.out, `${name}.tar.gz`);
  const dirs = new Set<string>();
  for (const f of files) for (let d = path.posix.dirname(f); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const members = [name, `${name}/${MANIFEST_FILE}`, ...[...dirs, ...files].sort().map((f) => `${name}/${f}`)];
  const list = path.join(options.work, arch, 'members');
  writeFileSync(list, `${members.join('\n')}\n`);
  const partial = `${tarball}.partial`;
  run(
    'tar',
    [
      ...['--create', '--gzip', '--file', partial, '--no-recursion', '--verbatim-files-from', '--files-from', list],
      ...['--owner=0', '--group=0', '--numeric-owner', '--mode=u+rw,go+r,go-w', `--mtime=@${options.commitTime}`],
    ],
    path.join(options.work, arch),
  );
  renameSync(partial, tarball);
  writeFileSync(`${tarball}.sha256`, `${sha256(tarball)}  ${path.basename(tarball)}\n`);
  return {
    tarball,
    bytes: statSync(tarball).size,
    unpackedBytes,
    files: files.length + 1,
    ms: performance.now() - started,
  };
}

/** Type check, then appliance/dist and client/dist built into `build` (not the checkout's). */
async function buildInto(build: string, typecheck: boolean): Promise<void> {
  if (typecheck) run('npm', ['run', '--silent', 'typecheck'], REPO_ROOT);
  await buildAppliance(path.join(build, 'appliance', 'dist'));
  run(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--logLevel',
      'warn',
      '--outDir',
      path.join(build, 'client', 'dist'),
      '--emptyOutDir',
    ],
    REPO_ROOT,
  );
  for (const f of ['appliance/dist/main.js', 'appliance/dist/cli.js', 'client/dist/index.html', 'client/dist/sw.js'])
    if (!existsSync(path.join(build, f))) throw new Error(`the build made no ${f}`);
}

export async function makeReleases(options: {
  arches: ReleaseArch[];
  out: string;
  typecheck: boolean;
}): Promise<ReleaseResult[]> {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const commit = git('rev-parse', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const meta = {
    name: pkg.name,
    version: `${pkg.version}+g${commit.slice(0, 12)}${dirty ? '.dirty' : ''}`,
    packageVersion: pkg.version,
    commit,
    dirty,
    node: readFileSync(path.join(REPO_ROOT, '.nvmrc'), 'utf8').trim(),
  };
  const commitTime = Number(git('log', '-1', '--format=%ct', 'HEAD'));
  const work = mkdtempSync(path.join(tmpdir(), 'proctor-release-'));
  try {
    const build = path.join(work, 'build');
    await buildInto(build, options.typecheck);
    const results: ReleaseResult[] = [];
    for (const arch of options.arches)
      results.push(packRelease({ arch, build, out: options.out, work, meta, commitTime }));
    return results;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function parseArches(value: string): ReleaseArch[] {
  if (value === 'all') return [...RELEASE_ARCHES];
  if ((RELEASE_ARCHES as readonly string[]).includes(value)) return [value as ReleaseArch];
  throw new Error(`--arch: arm64, x64 or all (${value})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'dist', 'release') },
      'skip-typecheck': { type: 'boolean', default: false },
    },
  });
  // `npm run release --arch x64` (no `--`) hands --arch to npm, which passes it on as npm_config_arch.
  const arches = parseArches(values.arch ?? process.env.npm_config_arch ?? 'arm64');
  const started = performance.now();
  const results = await makeReleases({ arches, out: path.resolve(values.out), typecheck: !values['skip-typecheck'] });
  for (const r of results)
    process.stdout.write(
      `Release ${path.relative(process.cwd(), r.tarball)}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB ` +
        `(${(r.unpackedBytes / 2 ** 20).toFixed(1)} MiB unpacked, ${r.files} files; packed in ${(r.ms / 1000).toFixed(1)} s)\n`,
    );
  process.stdout.write(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((err: unknown) => {
    process.stderr.write(`release: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
