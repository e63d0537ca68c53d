/**
 * Proctoring snapshots on the examinee's device: while the exam runs, a small JPEG of the camera
 * (320 px wide) and/or of the screen (960 px wide) every `intervalSeconds`, sent to the appliance
 * (POST /api/exam/snapshots). The appliance says what to take (GET /api/exam, and live on the
 * exam's event stream when a proctor changes it).
 *
 * - The camera starts by itself (the browser asks for permission once); screen sharing needs the
 *   examinee's click (browsers allow getDisplayMedia only then), so it waits for `startScreen`.
 * - A refusal, a missing device, a non-secure page (no camera API) or sharing stopped from the
 *   browser's own bar is reported once per change (POST /api/exam/snapshots/problem): the
 *   proctors see it; the exam goes on unless it requires the camera (the session shows a step).
 * - Offline, the newest few pictures per source wait in memory and go at the next tick; older
 *   ones are dropped (a snapshot is evidence of presence, not an answer: answers never wait on it).
 * - The first picture of a source is taken a second after it starts, so the examinee sees at once
 *   that it works; then one per interval.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SnapshotProblem, SnapshotSource } from '../../../domain/exam-options.js';
import { apiHeaders, type ProctoringConfig } from './api';

export type { ProctoringConfig } from './api';

export type SourceState = 'off' | 'starting' | 'on' | SnapshotProblem;

export interface SnapshotStatus {
  camera: SourceState;
  screen: SourceState;
  /** Epoch ms of the last picture the appliance accepted. */
  lastAt: number | undefined;
  taken: number;
}

const WIDTH: Record<SnapshotSource, number> = { camera: 320, screen: 960 };
const QUALITY = 0.6;
/** Pictures kept per source while the appliance cannot be reached. */
const KEEP_OFFLINE = 3;

/** Why getUserMedia / getDisplayMedia failed, as the proctors are told. */
export function problemOf(err: unknown): SnapshotProblem {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'unavailable';
}

async function openStream(source: SnapshotSource): Promise<MediaStream> {
  const media = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  // No camera API outside a secure context (http:// to a LAN address), or in an old browser.
  if (!media) throw Object.assign(new Error('no media devices'), { name: 'NotFoundError' });
  if (source === 'camera')
    return media.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  return media.getDisplayMedia({ video: true, audio: false });
}

/** One frame of a playing video as a JPEG, `width` pixels wide at most. */
async function grab(video: HTMLVideoElement, width: number): Promise<Uint8Array | undefined> {
  if (video.videoWidth === 0) return undefined;
  const scale = Math.min(1, width / video.videoWidth);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext('2d')?.drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  return blob ? new Uint8Array(await blob.arrayBuffer()) : undefined;
}

interface Running {
  stream: MediaStream;
  video: HTMLVideoElement;
}

export class Snapshotter {
  private config: ProctoringConfig | undefined;
  private readonly running = new Map<SnapshotSource, Running>();
  private readonly waiting: Record<SnapshotSource, Uint8Array[]> = { camera: [], screen: [] };
  private readonly reported = new Map<SnapshotSource, SnapshotProblem>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private status: SnapshotStatus = { camera: 'off', screen: 'off', lastAt: undefined, taken: 0 };
  private stopped = false;

  constructor(
    private readonly token: string,
    private readonly onStatus: (status: SnapshotStatus) => void,
  ) {}

  /** Follows what the appliance asks for; `active` false stops everything (submitted, left). */
  configure(config: ProctoringConfig | undefined, active: boolean): void {
    if (this.stopped) return;
    const wanted = active && config ? config.sources : [];
    const intervalChanged = config?.intervalSeconds !== this.config?.intervalSeconds;
    this.config = config;
    for (const source of ['camera', 'screen'] as const) {
      if (!wanted.includes(source)) this.end(source, 'off');
      else if (source === 'camera' && this.status.camera === 'off') void this.start('camera');
    }
    if (wanted.length === 0) this.clearTimer();
    else if (intervalChanged || this.timer === undefined) this.armTimer();
  }

  /** From the examinee's click: share the screen (or try the camera again). */
  startScreen(): Promise<void> {
    return this.start('screen');
  }

  retryCamera(): Promise<void> {
    return this.start('camera');
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    for (const source of ['camera', 'screen'] as const) this.end(source, 'off');
  }

  private set(patch: Partial<SnapshotStatus>): void {
    this.status = { ...this.status, ...patch };
    this.onStatus(this.status);
  }

  private async start(source: SnapshotSource): Promise<void> {
    if (!this.config?.sources.includes(source) || this.running.has(source) || this.stopped) return;
    this.set({ [source]: 'starting' });
    let stream: MediaStream;
    try {
      stream = await openStream(source);
    } catch (err) {
      this.fail(source, problemOf(err));
      return;
    }
    if (this.stopped || !this.config?.sources.includes(source)) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play().catch(() => undefined);
    this.running.set(source, { stream, video });
    // Sharing stopped from the browser's own "Stop sharing" bar, or the camera unplugged.
    for (const track of stream.getVideoTracks()) track.addEventListener('ended', () => this.fail(source, 'stopped'));
    this.reported.delete(source);
    this.set({ [source]: 'on' });
    setTimeout(() => void this.take(source), 1_000);
  }

  private fail(source: SnapshotSource, problem: SnapshotProblem): void {
    this.end(source, problem);
    if (this.reported.get(source) === problem) return;
    this.reported.set(source, problem);
    void fetch('/api/exam/snapshots/problem', {
      method: 'POST',
      headers: { ...apiHeaders(this.token), 'content-type': 'application/json' },
      body: JSON.stringify({ source, problem }),
    }).catch(() => this.reported.delete(source));
  }

  private end(source: SnapshotSource, state: SourceState): void {
    const r = this.running.get(source);
    if (r) {
      this.running.delete(source);
      for (const track of r.stream.getTracks()) track.stop();
      r.video.srcObject = null;
    }
    if (this.status[source] !== state) this.set({ [source]: state });
  }

  private armTimer(): void {
    this.clearTimer();
    const ms = (this.config?.intervalSeconds ?? 60) * 1_000;
    this.timer = setInterval(() => {
      for (const source of this.running.keys()) void this.take(source);
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one picture and sends it, after any that waited for the network. */
  private async take(source: SnapshotSource): Promise<void> {
    const r = this.running.get(source);
    if (!r) return;
    const jpeg = await grab(r.video, WIDTH[source]).catch(() => undefined);
    if (jpeg) this.waiting[source] = [...this.waiting[source], jpeg].slice(-KEEP_OFFLINE);
    while (this.waiting[source].length > 0) {
      const next = this.waiting[source][0]!;
      const sent = await this.send(source, next);
      if (sent === 'retry') return;
      this.waiting[source] = this.waiting[source].slice(1);
    }
  }

  private async send(source: SnapshotSource, jpeg: Uint8Array): Promise<'done' | 'retry'> {
    try {
      const res = await fetch(`/api/exam/snapshots?source=${source}`, {
        method: 'POST',
        headers: {
          ...apiHeaders(this.token),
          'content-type': 'image/jpeg',
          'x-content-sha256': bytesToHex(sha256(jpeg)),
        },
        body: jpeg as Uint8Array<ArrayBuffer>,
      });
      if (res.ok) this.set({ lastAt: Date.now(), taken: this.status.taken + 1 });
      // A refusal (no longer asked for, submitted, too many) is final for this picture.
      return res.status >= 500 ? 'retry' : 'done';
    } catch {
      return 'retry';
    }
  }
}
