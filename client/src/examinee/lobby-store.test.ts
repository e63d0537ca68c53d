import { describe, expect, it } from 'vitest';
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import type { ExamInfo } from './api';
import { forgetLobby, saveLobby, saveLobbyTriples, savedLobby } from './lobby-store';
import { memoryStorage } from './outbox';

const info = (examId = 'exam-1', left = 2): ExamInfo => ({
  exam: { examId, title: 'Chemistry 201 — Final', durationMinutes: 60 },
  examinee: { studentId: 'S1', name: 'Examinee 1' },
  status: 'logged-in',
  schedule: {
    officialStart: '2026-11-22T10:00:00.000Z',
    deadline: '2026-11-22T11:00:00.000Z',
    downloadWindow: { opens: '2026-11-22T09:00:00.000Z', closes: '2026-11-22T10:30:00.000Z' },
  },
  countdown: { serverNow: Date.parse('2026-11-22T09:50:00.000Z'), msUntilStart: 600_000, msLeft: 0 },
  downloads: { used: 2 - left, max: 2, left },
});
const triple: ResumeTriple = { challenge: 'K7QH3M9P', salt: '00'.repeat(16), hash: '11'.repeat(32), iterations: 1 };

describe('the lobby kept on the device', () => {
  it('gives back the last exam info and the triples, under the session token they were fetched with', () => {
    const storage = memoryStorage();
    expect(savedLobby('token-a', storage)).toBeUndefined();
    saveLobby('token-a', info(), storage);
    saveLobbyTriples('token-a', [triple], storage);
    saveLobby('token-a', info('exam-1', 1), storage);
    const kept = savedLobby('token-a', storage);
    expect(kept?.info).toEqual(info('exam-1', 1));
    expect(kept?.triples).toEqual([triple]);
    expect(kept?.schemaVersion).toBe(1);
  });

  it('is not shown to another session, and a new session’s lobby replaces it', () => {
    const storage = memoryStorage();
    saveLobby('token-a', info(), storage);
    saveLobbyTriples('token-a', [triple], storage);
    expect(savedLobby('token-b', storage)).toBeUndefined();
    // Triples of another session are not taken over.
    saveLobbyTriples('token-b', [triple], storage);
    saveLobby('token-b', info('exam-2'), storage);
    expect(savedLobby('token-a', storage)).toBeUndefined();
    expect(savedLobby('token-b', storage)?.triples).toEqual([]);
  });

  it('drops the triples when the session’s exam changes, and forgets everything on request', () => {
    const storage = memoryStorage();
    saveLobby('token-a', info(), storage);
    saveLobbyTriples('token-a', [triple], storage);
    saveLobby('token-a', info('exam-2'), storage);
    expect(savedLobby('token-a', storage)?.triples).toEqual([]);
    forgetLobby(storage);
    expect(savedLobby('token-a', storage)).toBeUndefined();
  });

  it('ignores an entry that is damaged or of another shape', () => {
    const storage = memoryStorage();
    for (const raw of [
      '{',
      'null',
      JSON.stringify({ schemaVersion: 2, token: 'token-a', info: info(), triples: [] }),
      JSON.stringify({ schemaVersion: 1, token: 'token-a', info: { exam: { title: 'x' } }, triples: [] }),
    ]) {
      storage.setItem('exam-hall.lobby', raw);
      expect(savedLobby('token-a', storage)).toBeUndefined();
    }
  });

  it('keeps working when the storage refuses to write', () => {
    const full = {
      ...memoryStorage(),
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(() => saveLobby('token-a', info(), full)).not.toThrow();
    expect(savedLobby('token-a', full)).toBeUndefined();
  });
});
