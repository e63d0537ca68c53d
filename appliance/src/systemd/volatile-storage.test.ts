/**
 * A data folder in memory: the mountinfo parser and the judgement on their own; then a real
 * appliance process whose data folder is on tmpfs (/dev/shm, and as root also a small tmpfs and
 * an overlayfs mounted for the test in a temp folder) refuses to start: exit 78, the reason and
 * what to do on stderr, a STATUS= to a fake systemd and never READY=1, nothing written. With
 * PROCTOR_ALLOW_VOLATILE_DATA=true it starts, warning. The doctor fails on such a folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ApplianceProcess,
  applianceEnv,
  MAIN_ENTRY,
  NODE_TSX,
  REPO_ROOT,
  runApplianceCli,
  withDeadline,
  type Exit,
} from '../../../tests/support/appliance-process.js';
import { FakeSystemd } from '../../../tests/support/fake-systemd.js';
import { dataStorageCheck } from '../doctor.js';
import { inspectDataStorage, judgeDataStorage, mountOf, parseMountInfo } from './volatile-storage.js';

const TMPFS_MAGIC = 0x01021994;
const EXT4_MAGIC = 0xef53;

const MOUNTINFO = [
  '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/mmcblk0p2 rw',
  '30 27 0:26 / /tmp rw,nosuid,nodev shared:7 - tmpfs tmpfs rw,size=1024k',
  '31 27 8:1 / /var/lib/proctor-appliance rw,noatime shared:8 - ext4 /dev/sda1 rw',
  '32 27 252:0 / /srv/zram\\040disk rw master:3 - ext4 /dev/zram0 rw',
  'nonsense',
].join('\n');

/** Folders and mounts made by this file, undone after it. */
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const undo of cleanups.reverse()) undo();
});

/** A fresh folder on /dev/shm (tmpfs on Linux). */
function shmDir(prefix: string): string {
  const dir = mkdtempSync(path.join('/dev/shm', prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `mount ARGS...` as root, undone after the file; false when this machine does not allow it. */
function tryMount(args: string[], at: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('mount', [...args, at], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  cleanups.push(() => spawnSync('umount', [at]));
  return true;
}

/** Starts the appliance on `dataDir` and waits for its end (or READY, which fails the test). */
async function startAndWaitForExit(dataDir: string, env: Record<string, string>) {
  const [node, ...args] = [...NODE_TSX, MAIN_ENTRY];
  const child = spawn(node!, args, {
    cwd: REPO_ROOT,
    env: applianceEnv(dataDir, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  try {
    const exit = await withDeadline(exited, 30_000, () => `the appliance did not exit; stdout:\n${stdout}`);
    return { ...exit, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('where the data folder is stored', () => {
  it('reads mountinfo and finds the mount a path is on (longest mount point, escapes undone)', () => {
    const entries = parseMountInfo(MOUNTINFO);
    expect(entries).toHaveLength(4);
    expect(mountOf(entries, '/var/lib/proctor-appliance/db')).toMatchObject({ source: '/dev/sda1' });
    expect(mountOf(entries, '/var/lib/proctor-appliance-old')).toMatchObject({ mountPoint: '/' });
    expect(mountOf(entries, '/tmp/x')).toMatchObject({ fsType: 'tmpfs' });
    expect(mountOf(entries, '/srv/zram disk/data')).toMatchObject({ source: '/dev/zram0' });
    // Mounted over: the later entry wins.
    const over = parseMountInfo(`${MOUNTINFO}\n40 31 0:40 / /var/lib/proctor-appliance rw - overlay overlay rw`);
    expect(mountOf(over, '/var/lib/proctor-appliance')).toMatchObject({ fsType: 'overlay' });
  });

  it('calls tmpfs, ramfs, overlayfs and a zram disk volatile, ext4 on a disk not', () => {
    const entries = parseMountInfo(MOUNTINFO);
    expect(judgeDataStorage(EXT4_MAGIC, mountOf(entries, '/var/lib/proctor-appliance'))).toEqual({
      volatile: false,
      fsType: 'ext4',
      mountPoint: '/var/lib/proctor-appliance',
    });
    expect(judgeDataStorage(TMPFS_MAGIC, undefined)).toMatchObject({ volatile: true, fsType: 'tmpfs' });
    expect(judgeDataStorage(0x858458f6, undefined)).toMatchObject({ volatile: true, fsType: 'ramfs' });
    expect(judgeDataStorage(0x794c7630, undefined)).toMatchObject({ volatile: true, fsType: 'overlay' });
    expect(judgeDataStorage(EXT4_MAGIC, mountOf(entries, '/srv/zram disk'))).toMatchObject({
      volatile: true,
      fsType: 'ext4 on /dev/zram0',
    });
  });

  it('looks at the nearest existing parent of a data folder not made yet', async () => {
    const dir = shmDir('proctor-volatile-');
    expect(await inspectDataStorage(path.join(dir, 'not', 'yet'))).toMatchObject({ volatile: true, fsType: 'tmpfs' });
    expect(await inspectDataStorage(REPO_ROOT)).toMatchObject({ volatile: false });
  });
});

describe('the appliance on a data folder in memory', () => {
  const volatileDirs: [string, () => string | undefined][] = [
    ['/dev/shm', () => path.join(shmDir('proctor-refuse-'), 'data')],
    [
      'a tmpfs mounted for the test (as root)',
      () => {
        const at = mkdtempSync(path.join(tmpdir(), 'proctor-tmpfs-'));
        cleanups.push(() => rmSync(at, { recursive: true, force: true }));
        return tryMount(['-t', 'tmpfs', '-o', 'size=8m', 'proctor-test'], at) ? path.join(at, 'data') : undefined;
      },
    ],
    [
      'an overlayfs, as a read-only root without recurse=0 makes it (as root)',
      () => {
        const base = mkdtempSync(path.join(tmpdir(), 'proctor-overlay-'));
        cleanups.push(() => rmSync(base, { recursive: true, force: true }));
        for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(path.join(base, d));
        const options = `lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work`;
        return tryMount(['-t', 'overlay', 'overlay', '-o', options], path.join(base, 'merged'))
          ? path.join(base, 'merged', 'data')
          : undefined;
      },
    ],
  ];

  for (const [what, make] of volatileDirs) {
    it(`refuses to start on ${what}: exit 78, says what to do, no READY=1, nothing written`, async (ctx) => {
      const dataDir = make();
      if (dataDir === undefined) return ctx.skip(`cannot mount here (needs root and mount rights): ${what}`);
      const socketDir = shmDir('proctor-refuse-notify-');
      const systemd = await FakeSystemd.start(path.join(socketDir, 'notify.sock'));
      try {
        const r = await startAndWaitForExit(dataDir, {
          PROCTOR_ALLOW_VOLATILE_DATA: 'false',
          NOTIFY_SOCKET: systemd.path,
        });
        expect(r.code, r.stderr).toBe(78);
        expect(r.stderr).toContain(`refusing to start: the data folder ${dataDir} is on `);
        expect(r.stderr).toContain('a power cut or a reboot would lose every answer');
        expect(r.stderr).toContain('firmware-scripts/provision.sh --data-device');
        expect(r.stderr).toContain('PROCTOR_ALLOW_VOLATILE_DATA=true');
        if (what.startsWith('an overlayfs')) expect(r.stderr).toContain('overlayroot=tmpfs:recurse=0');
        expect(r.stdout).not.toMatch(/^READY/m);
        await systemd.waitFor((m) => m.startsWith('STATUS=Refused to start'), 'the refusal STATUS=');
        expect(systemd.messages.some((m) => m.split('\n').includes('READY=1'))).toBe(false);
        // Refused before the storage was opened: the data folder was never made.
        expect(readdirSync(path.dirname(dataDir))).not.toContain('data');
      } finally {
        systemd.close();
      }
    });
  }

  it('starts on tmpfs with PROCTOR_ALLOW_VOLATILE_DATA=true (development), warning', async () => {
    const dataDir = path.join(shmDir('proctor-allowed-'), 'data');
    const appliance = await ApplianceProcess.start({ dataDir, env: { PROCTOR_ALLOW_VOLATILE_DATA: 'true' } });
    try {
      expect(appliance.stderr).toContain('PROCTOR_ALLOW_VOLATILE_DATA=true, so starting although the data folder');
      expect((await fetch(`${appliance.baseUrl}/api/health`)).status).toBe(200);
    } finally {
      expect((await appliance.stop()).code).toBe(0);
    }
  });
});

describe('the doctor on a data folder in memory', () => {
  it('fails it (a warning when allowed), and passes a folder on disk', async () => {
    const dir = shmDir('proctor-doctor-volatile-');
    expect(await dataStorageCheck(dir)).toMatchObject({
      name: 'data on disk',
      status: 'fail',
      detail: expect.stringContaining(`the data folder ${dir} is on tmpfs`),
    });
    expect(await dataStorageCheck(dir, { allowVolatileData: true })).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^allowed by PROCTOR_ALLOW_VOLATILE_DATA=true \(development only\)/),
    });
    expect(await dataStorageCheck(REPO_ROOT)).toMatchObject({ status: 'ok' });
  });

  it('`appliance doctor` prints FAIL data on disk and exits 1', async () => {
    const dir = shmDir('proctor-doctor-cli-');
    const r = await runApplianceCli(
      ['doctor', '--url', 'http://127.0.0.1:9/api/health'],
      applianceEnv(dir, { PROCTOR_ALLOW_VOLATILE_DATA: 'false' }),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^FAIL +data on disk +the data folder ${dir} is on tmpfs`, 'm'));
  });
});
