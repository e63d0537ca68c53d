import { afterEach, describe, expect, it } from 'vitest';
import { ForegroundLoad } from './foreground-load.js';
import { idlePriorityPbkdf2Sha256, nodePbkdf2Sha256 } from './resume-codes.js';
import { FakeClock } from '../../domain/clock.js';
import { openTestAppliance, removeDir, type TestAppliance } from '../../tests/support/appliance.js';

describe('ForegroundLoad: background work waits while requests pile up', () => {
  it('is quiet with a trickle of requests, busy above the limit, quiet again only after settling', () => {
    let now = 1_000;
    const load = new ForegroundLoad({ maxInFlight: 2, settleMs: 100, now: () => now });
    expect(load.isQuiet()).toBe(true);
    const ends = [load.begin(), load.begin()];
    expect(load.isQuiet()).toBe(true); // two autosaves at once: still quiet
    ends.push(load.begin());
    expect(load.inFlight).toBe(3);
    expect(load.isQuiet()).toBe(false);
    now += 500;
    expect(load.isQuiet()).toBe(false); // a storm lasts as long as its requests
    ends[2]!();
    ends[2]!(); // ending twice counts once
    expect(load.inFlight).toBe(2);
    expect(load.isQuiet()).toBe(false); // just dropped back: not settled yet
    now += 99;
    expect(load.isQuiet()).toBe(false);
    now += 1;
    expect(load.isQuiet()).toBe(true);
  });

  it('is idle only with nothing in flight and no request begun or ended for a while', () => {
    let now = 1_000;
    const load = new ForegroundLoad({ now: () => now });
    expect(load.isIdle()).toBe(true);
    const end = load.begin();
    now += 5_000;
    expect(load.isIdle()).toBe(false); // one slow request in flight
    end();
    now += 999;
    expect(load.isIdle()).toBe(false);
    now += 1;
    expect(load.isIdle()).toBe(true);
    expect(load.isIdle(2_000)).toBe(false);
  });

  it('under a CPU quota the background worker keeps to SERVED_QUOTA_SHARE of it while the hall is served', async () => {
    let now = 0;
    let idle = false;
    const rests: number[] = [];
    const pbkdf2 = idlePriorityPbkdf2Sha256({
      cpuQuota: 0.3,
      isIdle: () => idle,
      now: () => now,
      sleep: async (ms) => {
        rests.push(ms);
        now += ms;
      },
    });
    const run = () => pbkdf2(new Uint8Array([1]), new Uint8Array([2]), 100_000, 32);
    // Each job really ran on the worker; its thread CPU (some ms) sets the rest before the next.
    await Promise.all([run(), run(), run()]);
    expect(rests).toHaveLength(2);
    for (const rest of rests) expect(rest).toBeGreaterThan(0);
    // A job of c ms of CPU is followed by c / 0.075 ms in all: at most 7.5 % of a core.
    rests.length = 0;
    idle = true;
    await Promise.all([run(), run()]);
    expect(rests).toEqual([]); // nobody served: the whole quota
  });

  it('whenQuiet resolves at once when quiet and waits out a storm otherwise', async () => {
    const load = new ForegroundLoad({ maxInFlight: 0, settleMs: 20 });
    await load.whenQuiet();
    const end = load.begin();
    let resolved = false;
    const waiting = load.whenQuiet().then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 80));
    expect(resolved).toBe(false);
    const endedAt = performance.now();
    end();
    await waiting;
    expect(performance.now() - endedAt).toBeGreaterThanOrEqual(19);
  });

  it('holds the idle-priority PBKDF2 worker’s jobs until quiet, then runs them one by one', async () => {
    let open = false;
    const gates: (() => void)[] = [];
    const pbkdf2 = idlePriorityPbkdf2Sha256({
      whenQuiet: () => (open ? Promise.resolve() : new Promise<void>((r) => gates.push(r))),
    });
    const salt = new Uint8Array([9, 9]);
    const password = new TextEncoder().encode('pw');
    const done: number[] = [];
    const jobs = [1, 2, 3].map((i) => pbkdf2(password, salt, 1_000 * i, 32).then(() => done.push(i)));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toEqual([]);
    expect(gates).toHaveLength(1); // one job asks at a time
    open = true;
    gates.shift()!();
    await Promise.all(jobs);
    expect(done).toEqual([1, 2, 3]);
    expect(Buffer.from(await pbkdf2(password, salt, 1_000, 32))).toEqual(
      Buffer.from(await nodePbkdf2Sha256(password, salt, 1_000, 32)),
    );
  });
});

describe('the app counts its requests in flight', () => {
  let t: TestAppliance | undefined;
  afterEach(async () => {
    await t?.close();
    if (t) await removeDir(t.dataDir);
    t = undefined;
  });

  it('while a request is being answered, and not after', async () => {
    t = await openTestAppliance(new FakeClock(Date.parse('2026-06-01T08:00:00Z')));
    const { foreground } = t.services;
    let seen = -1;
    t.app.get('/test/in-flight', (c) => {
      seen = foreground.inFlight;
      return c.text('ok');
    });
    expect(foreground.inFlight).toBe(0);
    expect((await t.app.request('/test/in-flight')).status).toBe(200);
    expect(seen).toBe(1);
    expect(foreground.inFlight).toBe(0);
    expect((await t.app.request('/api/no-such-route')).status).toBe(404);
    expect(foreground.inFlight).toBe(0);
  });
});
