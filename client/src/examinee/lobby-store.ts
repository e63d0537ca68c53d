/**
 * What the lobby showed last, kept on the device so that a reload with no network can show it
 * again (the offline lobby): the exam info of the last answer of GET /api/exam (title, examinee,
 * schedule, downloads) and the resume-code triples fetched in the lobby (so that an exam started
 * offline with the exam password can still lock and be resumed). One localStorage key, tied to
 * the session token it was fetched with: another session (a new sign-in) never sees it, and it is
 * forgotten when the appliance says the session is gone.
 *
 * The triples are safe to keep here: they are made to be checked on the device with no network
 * and are slow to brute-force even with full access to its storage (docs/resume-codes.md).
 */
import type { ResumeTriple } from '../../../domain/resume-codes.js';
import type { ExamInfo } from './api';

const LOBBY_KEY = 'exam-hall.lobby';
const SCHEMA_VERSION = 1;

/** The part of Storage used (localStorage in the app, a map in tests). */
export type LobbyStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface SavedLobby {
  schemaVersion: typeof SCHEMA_VERSION;
  /** The session token the info was fetched with. */
  token: string;
  info: ExamInfo;
  /** Resume-code triples for this exam and examinee (empty until fetched). */
  triples: ResumeTriple[];
}

/** Just enough of a shape check that an old or damaged entry is ignored rather than shown broken. */
function isSavedLobby(v: unknown): v is SavedLobby {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<SavedLobby>;
  const info = s.info as Partial<ExamInfo> | undefined;
  return (
    s.schemaVersion === SCHEMA_VERSION &&
    typeof s.token === 'string' &&
    Array.isArray(s.triples) &&
    typeof info?.exam?.title === 'string' &&
    typeof info.exam.examId === 'string' &&
    typeof info.examinee?.studentId === 'string' &&
    typeof info.schedule?.officialStart === 'string' &&
    typeof info.schedule.deadline === 'string' &&
    typeof info.schedule.downloadWindow?.opens === 'string' &&
    typeof info.countdown?.serverNow === 'number' &&
    typeof info.downloads?.left === 'number'
  );
}

/** The lobby as last shown under this session token, if the device keeps it. */
export function savedLobby(token: string, storage: LobbyStorage = localStorage): SavedLobby | undefined {
  const raw = storage.getItem(LOBBY_KEY);
  if (raw === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return isSavedLobby(parsed) && parsed.token === token ? parsed : undefined;
}

/** Keeps the latest exam info of this session (and the triples already kept for it). */
export function saveLobby(token: string, info: ExamInfo, storage: LobbyStorage = localStorage): void {
  const before = savedLobby(token, storage);
  const sameExam = before?.info.exam.examId === info.exam.examId;
  write(storage, { schemaVersion: SCHEMA_VERSION, token, info, triples: sameExam ? before.triples : [] });
}

/** Keeps the resume-code triples fetched in the lobby next to its info. */
export function saveLobbyTriples(token: string, triples: ResumeTriple[], storage: LobbyStorage = localStorage): void {
  const before = savedLobby(token, storage);
  if (before) write(storage, { ...before, triples });
}

/** Forgets the lobby (the session is gone). */
export function forgetLobby(storage: LobbyStorage = localStorage): void {
  storage.removeItem(LOBBY_KEY);
}

function write(storage: LobbyStorage, lobby: SavedLobby): void {
  try {
    storage.setItem(LOBBY_KEY, JSON.stringify(lobby));
  } catch {
    // Storage full or blocked: the lobby works online as before; only the offline reload cannot show it.
  }
}
