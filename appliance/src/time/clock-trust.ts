/**
 * The appliance's clock and whether it can be trusted (DESIGN.md "Time"; docs/https-and-time.md).
 *
 * A box without a real-time clock may boot with a wrong time. The clock is trusted when NTP has
 * synchronised it (chrony or systemd-timesyncd, read through `timedatectl` or systemd-timesyncd's
 * flag file, behind an injectable probe), or when a chief proctor has confirmed it or set it from
 * their device's time. Setting never touches the system clock (no settimeofday): it sets an
 * offset that this clock adds to the system's, and every part of the appliance reads the time
 * from here (it is the store's clock).
 *
 * `<dataDir>/clock.json` keeps a proctor's confirmation and offset for the current boot only
 * (`/proc/sys/kernel/random/boot_id`): an appliance restart keeps them, a reboot (when the clock
 * may be wrong again) does not. When NTP synchronises, the offset is dropped: the system clock is
 * then right.
 *
 * PROCTOR_CLOCK_TRUST: `auto` (NTP decides; on a machine without systemd, such as a developer's
 * laptop or a container, the clock counts as trusted and this is logged), `trusted`, `untrusted`
 * (only a proctor can make it trusted, whatever NTP says).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../../domain/clock.js';

export type ClockTrustMode = 'auto' | 'trusted' | 'untrusted';
/** What NTP says: synchronised, not (yet), or no way to ask (no systemd). */
export type TimeSyncState = 'synchronised' | 'unsynchronised' | 'unavailable';
export type TimeSyncProbe = () => Promise<TimeSyncState>;
/** Why the clock is (or is not) trusted. */
export type ClockSource =
  'ntp' | 'proctor-confirmed' | 'proctor-set' | 'configured' | 'no-time-sync-service' | 'unsynchronised';

export interface ClockStatus {
  trusted: boolean;
  source: ClockSource;
  /** What this clock adds to the system clock (ms); non-zero only after a proctor set the time. */
  offsetMs: number;
  /** The proctor who confirmed or set the time, and when (appliance time, ms). */
  confirmedBy?: string;
  confirmedAt?: number;
}

interface ClockFile {
  schemaVersion: 1;
  bootId: string;
  offsetMs: number;
  source: 'proctor-confirmed' | 'proctor-set';
  by: string;
  at: number;
}

const CLOCK_FILE = 'clock.json';
const BOOT_ID = '/proc/sys/kernel/random/boot_id';
/** How often the "not synchronised" warning is repeated while it lasts. */
const UNSYNC_REMINDER_MS = 60 * 60_000;

/** Reads NTP's state the way systemd and chrony publish it; never throws. */
export const systemTimeSync: TimeSyncProbe = async () => {
  // systemd-timesyncd touches this file once it has synchronised.
  if (existsSync('/run/systemd/timesync/synchronized')) return 'synchronised';
  // Without systemd as init there is no timedatectl to ask (containers, macOS, WSL without systemd).
  if (!existsSync('/run/systemd/system')) return 'unavailable';
  return new Promise((resolve) => {
    // timedatectl reads the kernel's NTP status (adjtimex), which chrony keeps too.
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5_000 }, (err, stdout) => {
      if (err) resolve('unavailable');
      else resolve(stdout.trim() === 'yes' ? 'synchronised' : 'unsynchronised');
    });
  });
};

async function readBootId(): Promise<string | undefined> {
  try {
    return (await readFile(BOOT_ID, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

export class ClockTrust implements Clock {
  private offsetMs = 0;
  private source: ClockSource;
  /** When the "not synchronised" warning was last logged (the system clock's time). */
  private unsyncToldAt: number | undefined;
  private confirmedBy: string | undefined;
  private confirmedAt: number | undefined;
  private readonly listeners = new Set<(status: ClockStatus) => void>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly base: Clock,
    private readonly mode: ClockTrustMode,
    private readonly probe: TimeSyncProbe,
    private readonly file: string | undefined,
    private readonly bootId: string | undefined,
    private readonly log: (level: 'info' | 'warn', line: string) => void,
  ) {
    this.source = mode === 'trusted' ? 'configured' : 'unsynchronised';
  }

  /** A clock that is always trusted (tests, and tools that need no trust). */
  static alwaysTrusted(base: Clock): ClockTrust {
    return new ClockTrust(
      base,
      'trusted',
      async () => 'unavailable',
      undefined,
      undefined,
      () => undefined,
    );
  }

  /** Opens the clock: restores this boot's confirmation and asks NTP once. */
  static async open(options: {
    base: Clock;
    mode: ClockTrustMode;
    dataDir?: string;
    probe?: TimeSyncProbe;
    /** Defaults to the kernel's boot id. */
    bootId?: string;
    log?: (level: 'info' | 'warn', line: string) => void;
  }): Promise<ClockTrust> {
    const bootId = options.bootId ?? (await readBootId());
    const clock = new ClockTrust(
      options.base,
      options.mode,
      options.probe ?? systemTimeSync,
      options.dataDir === undefined ? undefined : path.join(options.dataDir, CLOCK_FILE),
      bootId,
      options.log ?? (() => undefined),
    );
    await clock.restore();
    await clock.refresh();
    return clock;
  }

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  get trusted(): boolean {
    return this.source !== 'unsynchronised';
  }

  status(): ClockStatus {
    return {
      trusted: this.trusted,
      source: this.source,
      offsetMs: this.offsetMs,
      ...(this.confirmedBy === undefined ? {} : { confirmedBy: this.confirmedBy }),
      ...(this.confirmedAt === undefined ? {} : { confirmedAt: this.confirmedAt }),
    };
  }

  /** Calls `listener` whenever the status changes (e.g. to re-check the certificate's dates). */
  onChange(listener: (status: ClockStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    const status = this.status();
    for (const l of this.listeners) l(status);
  }

  private async restore(): Promise<void> {
    if (this.file === undefined || this.mode === 'trusted') return;
    let saved: ClockFile;
    try {
      saved = JSON.parse(await readFile(this.file, 'utf8')) as ClockFile;
    } catch {
      return;
    }
    if (this.bootId === undefined || saved.bootId !== this.bootId) {
      this.log('info', 'clock: a proctor confirmed the time before the last reboot; it must be confirmed again');
      return;
    }
    this.offsetMs = saved.offsetMs;
    this.source = saved.source;
    this.confirmedBy = saved.by;
    this.confirmedAt = saved.at;
  }

  private async persist(): Promise<void> {
    if (this.file === undefined) return;
    if (this.source !== 'proctor-confirmed' && this.source !== 'proctor-set') return;
    const content: ClockFile = {
      schemaVersion: 1,
      bootId: this.bootId ?? '',
      offsetMs: this.offsetMs,
      source: this.source,
      by: this.confirmedBy ?? '',
      at: this.confirmedAt ?? this.now(),
    };
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
  }

  /** Asks NTP; a synchronised clock becomes (and stays) trusted and drops any proctor offset. */
  async refresh(): Promise<ClockStatus> {
    if (this.mode === 'trusted' || this.source === 'ntp') return this.status();
    const state = await this.probe();
    if (this.mode === 'auto' && state === 'synchronised') {
      const hadOffset = this.offsetMs !== 0;
      this.offsetMs = 0;
      this.source = 'ntp';
      this.log(
        'info',
        `clock: NTP synchronised; the clock is trusted${hadOffset ? ' (the proctor’s offset is dropped)' : ''}`,
      );
      this.changed();
    } else if (this.mode === 'auto' && state === 'unavailable' && this.source === 'unsynchronised') {
      this.source = 'no-time-sync-service';
      this.log(
        'warn',
        'clock: no systemd time synchronisation to ask (not a box?): the system clock counts as trusted ' +
          '(PROCTOR_CLOCK_TRUST=untrusted to make a proctor confirm it)',
      );
      this.changed();
    } else if (this.source === 'unsynchronised') {
      // Said when first seen, then hourly: the check runs every 15 s, the journal need not.
      const now = this.base.now();
      if (this.unsyncToldAt === undefined || Math.abs(now - this.unsyncToldAt) >= UNSYNC_REMINDER_MS) {
        this.unsyncToldAt = now;
        this.log('warn', 'clock: not synchronised by NTP: exams will not open until a chief proctor confirms the time');
      }
    }
    return this.status();
  }

  /** Asks NTP every `intervalMs` while the clock is not trusted. */
  watch(intervalMs = 15_000): void {
    this.timer = setInterval(() => {
      if (!this.trusted) void this.refresh();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A chief proctor confirms the appliance's time as it is. */
  async confirm(by: string): Promise<ClockStatus> {
    if (this.source !== 'ntp' && this.source !== 'configured') {
      this.source = this.offsetMs === 0 ? 'proctor-confirmed' : 'proctor-set';
      this.confirmedBy = by;
      this.confirmedAt = this.now();
      await this.persist();
      this.log('info', `clock: ${by} confirmed the time ${new Date(this.now()).toISOString()}`);
      this.changed();
    }
    return this.status();
  }

  /**
   * A chief proctor sets the time from their device: from now on this clock reads `deviceNow`
   * (plus the time that passes). Refused (false) while NTP keeps the clock.
   */
  async set(deviceNow: number, by: string): Promise<{ ok: boolean; previousOffsetMs: number; status: ClockStatus }> {
    const previousOffsetMs = this.offsetMs;
    if (this.source === 'ntp' || this.source === 'configured')
      return { ok: false, previousOffsetMs, status: this.status() };
    this.offsetMs = deviceNow - this.base.now();
    this.source = 'proctor-set';
    this.confirmedBy = by;
    this.confirmedAt = this.now();
    await this.persist();
    this.log(
      'info',
      `clock: ${by} set the time to ${new Date(this.now()).toISOString()} (offset ${this.offsetMs} ms from the system clock)`,
    );
    this.changed();
    return { ok: true, previousOffsetMs, status: this.status() };
  }
}
