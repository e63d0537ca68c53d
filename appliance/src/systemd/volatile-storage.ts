/**
 * Is the data folder in memory? A data folder on tmpfs, ramfs, overlayfs or a zram disk loses
 * every answer and proctor action at a power cut, even though every write and fsync succeeds (so
 * the storage check cannot tell). The classic way in: Raspberry Pi OS's read-only root
 * (`overlayroot=tmpfs`) overlays every mount in /etc/fstab too unless told `recurse=0`, or the
 * data partition did not come up and the folder is the overlaid root's. The appliance refuses to
 * start on such a folder and the doctor fails; PROCTOR_ALLOW_VOLATILE_DATA=true (development and
 * tests only) lets it start.
 *
 * How: statfs(2)'s f_type of the data folder (or its nearest existing parent, before the first
 * start), and /proc/self/mountinfo for the mount it is on (its mount point and source, for the
 * message and for zram, whose file system is an ordinary ext4).
 */
import { readFile, realpath, statfs } from 'node:fs/promises';
import path from 'node:path';

/** statfs f_type magic numbers (linux/magic.h) of file systems that live in memory. */
const VOLATILE_MAGIC: ReadonlyMap<number, string> = new Map([
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x794c7630, 'overlay'],
]);
const VOLATILE_TYPES = new Set(['tmpfs', 'ramfs', 'overlay']);

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

export type DataStorage =
  | { volatile: false; fsType: string; mountPoint: string | undefined }
  | { volatile: true; fsType: string; mountPoint: string | undefined; source: string | undefined };

/** `\040` and friends: mountinfo escapes space, tab, newline and backslash in octal. */
const unescape = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/**
 * Parses /proc/<pid>/mountinfo (proc(5)): `id parent major:minor root mountPoint options
 * [optional fields...] - fsType source superOptions`. Lines it cannot read are skipped.
 */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash === -1 || fields[4] === undefined || fields[dash + 1] === undefined) continue;
    out.push({ mountPoint: unescape(fields[4]), fsType: fields[dash + 1]!, source: unescape(fields[dash + 2] ?? '') });
  }
  return out;
}

/** The mount a (real, absolute) path is on: the longest mount point above it, the latest mounted on ties. */
export function mountOf(entries: readonly MountEntry[], realPath: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const above = e.mountPoint === '/' || realPath === e.mountPoint || realPath.startsWith(`${e.mountPoint}/`);
    if (above && (best === undefined || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

/**
 * Judges a data folder from its statfs f_type and its mount (if /proc told): volatile when either
 * names a file system in memory, or the mount's source is a zram disk.
 */
export function judgeDataStorage(fType: number, mount: MountEntry | undefined): DataStorage {
  const byMagic = VOLATILE_MAGIC.get(fType);
  const fsType = byMagic ?? mount?.fsType ?? `0x${fType.toString(16)}`;
  const mountPoint = mount?.mountPoint;
  const zram = mount !== undefined && /^\/dev\/zram\d+/.test(mount.source);
  if (byMagic !== undefined || (mount !== undefined && VOLATILE_TYPES.has(mount.fsType)) || zram)
    return {
      volatile: true,
      fsType: zram ? `${fsType} on ${mount.source}` : fsType,
      mountPoint,
      source: mount?.source,
    };
  return { volatile: false, fsType, mountPoint };
}

/** The data folder itself, or its nearest parent that exists (before the first start). */
async function nearestExisting(dir: string): Promise<string> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      return await realpath(at);
    } catch {
      const up = path.dirname(at);
      if (up === at) return at;
      at = up;
    }
  }
}

/** What the data folder is stored on; `mountInfo` is /proc/self/mountinfo's text (tests pass their own). */
export async function inspectDataStorage(dataDir: string, mountInfo?: string): Promise<DataStorage> {
  const real = await nearestExisting(dataDir);
  const { type } = await statfs(real);
  const info = mountInfo ?? (await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  return judgeDataStorage(type, mountOf(parseMountInfo(info), real));
}

/** Why a volatile data folder is refused, and what to do (the appliance's refusal and the doctor's). */
export function volatileDataMessage(dataDir: string, storage: DataStorage & { volatile: true }): string {
  const where = `${dataDir} is on ${storage.fsType}${storage.mountPoint ? ` (mounted at ${storage.mountPoint})` : ''}`;
  const overlayHint =
    storage.fsType === 'overlay'
      ? ' On a box with a read-only root: the data partition is not mounted there, or the overlay covers it' +
        ' (/boot/firmware/cmdline.txt needs overlayroot=tmpfs:recurse=0; re-run firmware-scripts/provision.sh' +
        ' --read-only-root, docs/box.md).'
      : '';
  return (
    `the data folder ${where}: it is kept in memory, and a power cut or a reboot would lose every answer ` +
    `and proctor action of the exam day.${overlayHint} Put the data folder on a disk: PROCTOR_DATA_DIR, or ` +
    `on the box the data partition (firmware-scripts/provision.sh --data-device). For development and ` +
    `tests only, PROCTOR_ALLOW_VOLATILE_DATA=true starts anyway.`
  );
}
