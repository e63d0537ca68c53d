import { describe, expect, it } from 'vitest';
import type { ParticipantRow } from './api';
import { applyRowChanges, HIDDEN_FLUSH_MS, rowBatcher, type FrameScheduler } from './row-batch';

const row = (studentId: string, downloads = 0) => ({ studentId, name: studentId, downloads }) as ParticipantRow;

/** Frames and timers run by hand. */
function manualScheduler() {
  let frames: (() => void)[] = [];
  let timers: { run: () => void; ms: number }[] = [];
  const scheduler: FrameScheduler = {
    requestFrame(run) {
      frames.push(run);
      return () => (frames = frames.filter((f) => f !== run));
    },
    setTimer(run, ms) {
      const t = { run, ms };
      timers.push(t);
      return () => (timers = timers.filter((x) => x !== t));
    },
  };
  return {
    scheduler,
    frame: () => frames.splice(0).forEach((f) => f()),
    timer: () => timers.splice(0).forEach((t) => t.run()),
    waiting: () => ({ frames: frames.length, timers: timers.map((t) => t.ms) }),
  };
}

describe('row batches', () => {
  it('puts changed rows in place and new ones at the end', () => {
    const rows = [row('S1'), row('S2'), row('S3')];
    const next = applyRowChanges(
      rows,
      new Map([
        ['S2', row('S2', 1)],
        ['S9', row('S9')],
      ]),
    );
    expect(next.map((r) => [r.studentId, r.downloads])).toEqual([
      ['S1', 0],
      ['S2', 1],
      ['S3', 0],
      ['S9', 0],
    ]);
    expect(next[0]).toBe(rows[0]);
  });

  it('applies a burst of rows once, on the next frame, the last row of each examinee winning', () => {
    const m = manualScheduler();
    const batches: string[][] = [];
    const b = rowBatcher((c) => batches.push([...c.values()].map((r) => `${r.studentId}:${r.downloads}`)), m.scheduler);
    for (let i = 0; i < 20; i++) b.push(row(`S${i % 5}`, i));
    expect(batches).toEqual([]);
    expect(m.waiting()).toEqual({ frames: 1, timers: [HIDDEN_FLUSH_MS] });
    m.frame();
    expect(batches).toEqual([['S0:15', 'S1:16', 'S2:17', 'S3:18', 'S4:19']]);
    // The timer went with the frame; the next row schedules anew.
    expect(m.waiting()).toEqual({ frames: 0, timers: [] });
    b.push(row('S1', 99));
    m.frame();
    expect(batches[1]).toEqual(['S1:99']);
  });

  it('flushes by the timer when no frame comes (a hidden tab), losing nothing', () => {
    const m = manualScheduler();
    const seen = new Map<string, number>();
    const b = rowBatcher((c) => c.forEach((r) => seen.set(r.studentId, r.downloads)), m.scheduler);
    b.push(row('S1', 1));
    b.push(row('S2', 2));
    m.timer();
    expect([...seen]).toEqual([
      ['S1', 1],
      ['S2', 2],
    ]);
    expect(m.waiting().frames).toBe(0);
  });

  it('flushes at once on demand, and forgets queued rows when a snapshot replaces them', () => {
    const m = manualScheduler();
    const batches: number[] = [];
    const b = rowBatcher((c) => batches.push(c.size), m.scheduler);
    b.push(row('S1'));
    b.flush();
    expect(batches).toEqual([1]);
    b.push(row('S2'));
    b.clear();
    m.frame();
    m.timer();
    expect(batches).toEqual([1]);
  });
});
