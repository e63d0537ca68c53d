import { describe, expect, it } from 'vitest';
import { loadPortalConfig } from './config.js';
import { PortalSessions } from './sessions.js';

describe('the portal configuration', () => {
  it('has defaults and needs only the CouchDB URL', () => {
    const r = loadPortalConfig({ PORTAL_COUCH_URL: 'https://couch.example.edu:6984' });
    expect(r).toEqual({
      ok: true,
      config: expect.objectContaining({ host: '127.0.0.1', port: 8090, halls: [], origin: '', sessionIdleMinutes: 60 }),
    });
  });

  it('names the variable of every bad value', () => {
    const r = loadPortalConfig({
      PORTAL_COUCH_URL: 'https://admin:secret@couch.example.edu',
      PORTAL_PORT: 'eighty',
      PORTAL_HALLS: 'a101, B 202',
      PORTAL_ORIGIN: 'ftp://x',
    });
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors;
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'PORTAL_COUCH_URL',
      'PORTAL_PORT',
      'PORTAL_HALLS',
      'PORTAL_ORIGIN',
    ]);
    expect(errors[0]).toContain('without credentials');
    expect(loadPortalConfig({}).ok).toBe(false);
  });

  it('reads a hall list and an origin', () => {
    const r = loadPortalConfig({
      PORTAL_COUCH_URL: 'http://127.0.0.1:5984',
      PORTAL_HALLS: 'a101, b202,',
      PORTAL_ORIGIN: 'https://portal.example.edu/some/path',
    });
    expect(r.ok && r.config.halls).toEqual(['a101', 'b202']);
    expect(r.ok && r.config.origin).toBe('https://portal.example.edu');
  });
});

describe('portal sessions', () => {
  it('end after the idle time, and on sign-out', () => {
    let now = 0;
    const sessions = new PortalSessions(60_000, () => now);
    const token = sessions.start({ cookie: 'c', name: 'n', roles: [] });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    now = 59_000;
    expect(sessions.touch(token)?.name).toBe('n');
    now = 118_000;
    expect(sessions.touch(token)?.name).toBe('n');
    now = 179_000;
    expect(sessions.touch(token)).toBeUndefined();
    const other = sessions.start({ cookie: 'c', name: 'm', roles: [] });
    expect(sessions.end(other)?.name).toBe('m');
    expect(sessions.touch(other)).toBeUndefined();
  });
});
