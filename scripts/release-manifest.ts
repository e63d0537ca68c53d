/**
 * The release tarball's manifest and the checks a release must pass before it is packed.
 *
 * Manifest (`release.json`, the first member of the tarball, in its top folder), written by
 * `formatManifest` with one key per line so that firmware-scripts/provision.sh can read it with
 * sed on a box that has no jq:
 *
 *   {
 *     "format": "proctor-appliance-release/1",
 *     "name": "proctor-appliance",
 *     "version": "0.1.0+g1a2b3c4d5e6f",        also the folder on the box: releases/<version>
 *     "packageVersion": "0.1.0",               package.json's version in the checkout
 *     "platform": "linux",
 *     "arch": "arm64",                         arm64 or x64 (Node's process.arch)
 *     "commit": "<40 hex digits>",
 *     "dirty": false,                          built from a tree with uncommitted changes
 *     "node": "24.22.3",                       the runtime in node/bin/node
 *     "files": {
 *       "<path>": "<SHA-256, hex>",            every regular file of the release but release.json,
 *       ...                                    sorted by path; no links, no other kinds of file
 *     }
 *   }
 *
 * Paths are relative to the top folder and use only the characters of PATH_PATTERN, so a line
 * `    "<path>": "<hex>",` needs no JSON unescaping. The SHA-256s catch a damaged or incomplete
 * copy; they are not a signature (whoever can change the tarball can change its manifest).
 */
import { openSync, readdirSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';

export const MANIFEST_FILE = 'release.json';
export const MANIFEST_FORMAT = 'proctor-appliance-release/1';
export const RELEASE_ARCHES = ['arm64', 'x64'] as const;
export type ReleaseArch = (typeof RELEASE_ARCHES)[number];
/** What a path in a release may hold: no quotes, backslashes, spaces or control characters. */
export const PATH_PATTERN = /^[A-Za-z0-9._@+~-]+(\/[A-Za-z0-9._@+~-]+)*$/;
/** A release's version: also a folder name on the box and part of the tarball's name. */
export const VERSION_PATTERN = /^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)*$/;

export type ReleaseManifest = {
  format: typeof MANIFEST_FORMAT;
  name: string;
  version: string;
  packageVersion: string;
  platform: 'linux';
  arch: ReleaseArch;
  commit: string;
  dirty: boolean;
  node: string;
  files: Record<string, string>;
};

/** The manifest as provision.sh reads it: two-space JSON, keys in this order, files sorted. */
export function formatManifest(manifest: ReleaseManifest): string {
  for (const file of Object.keys(manifest.files))
    if (!PATH_PATTERN.test(file) || file === MANIFEST_FILE) throw new Error(`a release cannot hold the path ${file}`);
  if (!VERSION_PATTERN.test(manifest.version)) throw new Error(`not a release version: ${manifest.version}`);
  const files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ ...manifest, files }, null, 2)}\n`;
}

/** The top folder of a release's tarball, and the tarball's name without `.tar.gz`. */
export function releaseName(version: string, arch: ReleaseArch): string {
  return `proctor-appliance-${version}-linux-${arch}`;
}

/** ELF e_machine of each architecture a release is built for. */
const ELF_MACHINE: Record<ReleaseArch, number> = { x64: 62, arm64: 183 };

/** The architecture an ELF file is built for ('x64', 'arm64', 'elf machine N'), or 'not ELF'. */
export function elfArch(file: string): string {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 20 || header.readUInt32BE(0) !== 0x7f454c46) return 'not ELF';
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  for (const arch of RELEASE_ARCHES) if (ELF_MACHINE[arch] === machine) return arch;
  return `elf machine ${machine}`;
}

type PackageJson = {
  name?: string;
  gypfile?: boolean;
  napi?: unknown;
  optionalDependencies?: Record<string, string>;
};

type InstalledPackage = { name: string; dir: string; json: PackageJson };

/** Every package folder under a node_modules folder, nested node_modules included. */
function installedPackages(nodeModules: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  const visit = (dir: string) => {
    let json: PackageJson;
    try {
      json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    } catch {
      return;
    }
    out.push({ name: json.name ?? path.basename(dir), dir, json });
    scan(path.join(dir, 'node_modules'));
  };
  const scan = (modules: string) => {
    let entries: string[];
    try {
      entries = readdirSync(modules);
    } catch {
      return;
    }
    for (const entry of entries.sort()) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        for (const scoped of readdirSync(path.join(modules, entry)).sort()) visit(path.join(modules, entry, scoped));
      } else visit(path.join(modules, entry));
    }
  };
  scan(nodeModules);
  return out;
}

/** A package's own files (not those of the packages nested in its node_modules). */
function ownFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(p);
      } else out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Where Node would find package `name` from folder `from` (the node_modules lookup). */
function resolvePackage(name: string, from: string, root: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (statSync(path.join(candidate, 'package.json'), { throwIfNoEntry: false })?.isFile()) return candidate;
    if (path.relative(root, dir) === '' || dir === path.dirname(dir)) return undefined;
  }
}

export type NativeModule = {
  /** The package that loads a native addon. */
  name: string;
  /** How it finds its binary: prebuilds/ or build/ in the package (node-gyp), or a napi-rs platform package. */
  kind: 'node-gyp' | 'napi-rs' | 'binary';
  /** The `.node` files for the release's architecture that it can load, relative to node_modules. */
  binaries: string[];
};

/**
 * Finds every package of a production node_modules that loads a native addon and checks that a
 * binary for linux-<arch> is there for each: node-gyp packages (binding.gyp or "gypfile") need a
 * prebuilt `prebuilds/linux-<arch>/*.node` or `build/Release/*.node` (the box has no compiler),
 * napi-rs packages (a "napi" key) need their `*-linux-<arch>-gnu` platform package installed, and
 * every `.node` file anywhere must be an ELF file for <arch>. `problems` empty: fit for the box.
 */
export function checkNativeModules(
  nodeModules: string,
  arch: ReleaseArch,
): { modules: NativeModule[]; problems: string[] } {
  const root = path.dirname(nodeModules);
  const modules: NativeModule[] = [];
  const problems: string[] = [];
  const rel = (file: string) => path.relative(nodeModules, file);
  for (const pkg of installedPackages(nodeModules)) {
    const addons = ownFiles(pkg.dir).filter((f) => f.endsWith('.node'));
    const fitting: string[] = [];
    for (const addon of addons) {
      const found = elfArch(addon);
      if (found === arch) fitting.push(addon);
      else
        problems.push(
          `${rel(addon)} is ${found === 'not ELF' ? 'not a Linux (ELF) binary' : `for ${found}`}, not linux-${arch}`,
        );
    }
    const gyp = pkg.json.gypfile === true || statSync(path.join(pkg.dir, 'binding.gyp'), { throwIfNoEntry: false });
    if (gyp) {
      const loadable = fitting.filter((f) => {
        const inPackage = path.relative(pkg.dir, f).split(path.sep);
        return (inPackage[0] === 'prebuilds' && inPackage[1] === `linux-${arch}`) || inPackage[0] === 'build';
      });
      if (loadable.length === 0)
        problems.push(
          `${pkg.name} (${rel(pkg.dir)}) has no prebuilt binary for linux-${arch} in prebuilds/linux-${arch}/: ` +
            'the box has no compiler to build one',
        );
      modules.push({ name: pkg.name, kind: 'node-gyp', binaries: loadable.map(rel) });
    } else if (pkg.json.napi !== undefined) {
      const wanted = Object.keys(pkg.json.optionalDependencies ?? {}).filter((d) => d.endsWith(`-linux-${arch}-gnu`));
      const binaries: string[] = [];
      for (const platformPackage of wanted) {
        const dir = resolvePackage(platformPackage, pkg.dir, root);
        if (dir !== undefined)
          binaries.push(
            ...ownFiles(dir)
              .filter((f) => f.endsWith('.node') && elfArch(f) === arch)
              .map(rel),
          );
      }
      if (binaries.length === 0)
        problems.push(
          wanted.length === 0
            ? `${pkg.name} (napi-rs) names no linux-${arch}-gnu platform package in its optionalDependencies`
            : `${pkg.name} (napi-rs) needs ${wanted.join(' or ')} with a linux-${arch} binary: not installed ` +
                `(install with --os=linux --cpu=${arch} --libc=glibc)`,
        );
      modules.push({ name: pkg.name, kind: 'napi-rs', binaries });
    } else if (addons.length > 0) {
      modules.push({ name: pkg.name, kind: 'binary', binaries: fitting.map(rel) });
    }
  }
  return { modules, problems };
}
