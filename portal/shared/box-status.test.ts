import { describe, expect, it } from 'vitest';
import type { Heartbeat } from './api.js';
import { boxStatus } from './box-status.js';

const NOW = Date.parse('2026-06-15T10:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function hb(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    applianceId: 'box-1',
    hallId: 'a101',
    version: '0.1.0',
    at: ago(30),
    clockTrusted: true,
    state: 'idle',
    lastContactAt: ago(30),
    lastSuccessAt: ago(30),
    pending: { docs: 0, bytes: 0 },
    refused: 0,
    startedAt: ago(3600),
    ...overrides,
  };
}

const colour = (h: Heartbeat) => {
  const s = boxStatus(h, NOW);
  return [s.colour, s.label];
};

describe('a box colour from its heartbeat', () => {
  it('is green when it reported and synced recently', () => {
    expect(colour(hb())).toEqual(['green', 'Synced']);
    expect(colour(hb({ state: 'syncing', pending: { docs: 3, bytes: 10 } }))).toEqual(['green', 'Syncing (3 pending)']);
  });

  it('is amber when the heartbeat is stale, it never synced, or documents wait too long', () => {
    expect(colour(hb({ at: ago(200) }))).toEqual(['amber', 'Stale: no heartbeat for 3 min']);
    expect(colour(hb({ lastSuccessAt: null }))).toEqual(['amber', 'Never synced']);
    expect(colour(hb({ pending: { docs: 5, bytes: 1 }, lastSuccessAt: ago(400) }))).toEqual([
      'amber',
      '5 pending, last sync 7 min ago',
    ]);
  });

  it('is red when offline, in error, refused, on an untrusted clock, or silent for long', () => {
    expect(colour(hb({ state: 'offline' }))[0]).toBe('red');
    expect(colour(hb({ state: 'error' }))).toEqual(['red', 'Sync error']);
    expect(colour(hb({ clockTrusted: false }))).toEqual(['red', 'Clock not trusted']);
    expect(colour(hb({ refused: 2 }))).toEqual(['red', '2 document(s) refused']);
    expect(colour(hb({ at: ago(601) }))).toEqual(['red', 'No heartbeat for 10 min']);
    expect(colour(hb({ at: 'not a time' }))).toEqual(['red', 'No heartbeat']);
  });

  it('takes the thresholds given', () => {
    expect(boxStatus(hb({ at: ago(60) }), NOW, { staleSeconds: 30, offlineSeconds: 90 }).colour).toBe('amber');
    expect(boxStatus(hb({ at: ago(100) }), NOW, { staleSeconds: 30, offlineSeconds: 90 }).colour).toBe('red');
  });
});
