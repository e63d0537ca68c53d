/**
 * systemd's notify protocol against a fake NOTIFY_SOCKET: a small python3 process binds the unix
 * datagram socket (Node cannot), answers systemd-notify's barrier as systemd does (by closing the
 * file descriptor that comes with BARRIER=1) and prints every datagram; the real appliance runs as
 * a child process with WATCHDOG_USEC small, and the test sees READY=1, then WATCHDOG=1 pings, then
 * STOPPING=1 on SIGTERM. Needs python3 and systemd-notify (.ci/run installs both).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApplianceProcess,
  makeTempDir,
  removeTempDir,
  withDeadline,
} from '../../../tests/support/appliance-process.js';
import { FakeSystemd } from '../../../tests/support/fake-systemd.js';
import { createNotifier, startWatchdog, watchdogIntervalMs } from './notify.js';

const lines = (m: string) => m.split('\n');

describe('watchdogIntervalMs', () => {
  it('is half of WATCHDOG_USEC, for this PID only', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 42)).toBeUndefined();
  });

  it('sends to an abstract-namespace socket (NOTIFY_SOCKET=@name)', async () => {
    const name = `@proctor-notify-test-${process.pid}`;
    const systemd = await FakeSystemd.start(name);
    try {
      const n = createNotifier({ NOTIFY_SOCKET: name }, (l) => {
        throw new Error(l);
      });
      await n.notify('READY=1');
      n.close();
      expect(await systemd.waitFor((m) => m === 'READY=1', 'READY=1', 5_000)).toBe('READY=1');
    } finally {
      systemd.close();
    }
  });

  it('sends nothing without NOTIFY_SOCKET', async () => {
    const n = createNotifier({}, () => {});
    expect(n.enabled).toBe(false);
    await n.notify('READY=1');
  });
});

describe('sd_notify', () => {
  let dir: string;
  let systemd: FakeSystemd;
  let appliance: ApplianceProcess | undefined;

  beforeAll(async () => {
    dir = await makeTempDir('proctor-notify-');
    systemd = await FakeSystemd.start(path.join(dir, 'notify.sock'));
  });

  afterAll(async () => {
    await appliance?.kill();
    systemd?.close();
    if (dir) await removeTempDir(dir);
  });

  it('pings WATCHDOG=1 only while the health check passes', async () => {
    const notifier = createNotifier({ NOTIFY_SOCKET: systemd.path }, (l) => {
      throw new Error(l);
    });
    let healthy = false;
    let checks = 0;
    const logged: string[] = [];
    const stop = startWatchdog({
      notifier,
      intervalMs: 20,
      check: () => {
        checks++;
        return Promise.resolve(healthy);
      },
      log: (_level, line) => logged.push(line),
    });
    try {
      await withDeadline(
        new Promise<void>((resolve) => {
          const t = setInterval(() => checks >= 5 && (clearInterval(t), resolve()), 5);
        }),
        5_000,
        () => 'no 5 checks',
      );
      expect(systemd.messages.filter((m) => m === 'WATCHDOG=1')).toEqual([]);
      expect(logged.some((l) => l.includes('health check failed'))).toBe(true);
      healthy = true;
      await systemd.waitFor((m) => m === 'WATCHDOG=1', 'WATCHDOG=1 once healthy', 5_000);
    } finally {
      stop();
      notifier.close();
    }
    systemd.messages.length = 0;
  });

  it('tells a fake systemd READY=1 after storage and listen, then WATCHDOG=1, then STOPPING=1', async () => {
    const data = path.join(dir, 'data');
    appliance = await ApplianceProcess.start({
      dataDir: data,
      // 400 ms watchdog: a ping every 200 ms.
      env: { NOTIFY_SOCKET: systemd.path, WATCHDOG_USEC: '400000' },
    });
    const ready = await systemd.waitFor((m) => lines(m).includes('READY=1'), 'READY=1');
    expect(lines(ready)).toContain(`MAINPID=${appliance.serverPid}`);
    expect(ready).toMatch(/STATUS=Serving hall test-hall on port \d+/);
    const readyAt = systemd.messages.indexOf(ready);
    await systemd.waitFor(
      (m) => m === 'WATCHDOG=1' && systemd.messages.indexOf(m, readyAt) > readyAt,
      'WATCHDOG=1 after READY=1',
    );
    // Several pings, not one.
    await withDeadline(
      new Promise<void>((resolve) => {
        const t = setInterval(
          () => systemd.messages.filter((m) => m === 'WATCHDOG=1').length >= 3 && (clearInterval(t), resolve()),
          20,
        );
      }),
      10_000,
      () => `fewer than 3 pings: ${JSON.stringify(systemd.messages)}`,
    );
    const exit = await appliance.stop('SIGTERM');
    expect(exit.code).toBe(0);
    await systemd.waitFor((m) => m === 'STOPPING=1', 'STOPPING=1');
    expect(systemd.messages.indexOf('STOPPING=1')).toBeGreaterThan(readyAt);
  });
});
