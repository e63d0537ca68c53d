/**
 * Integrity events from the examinee's device (POST /api/exam/integrity): the page hidden (tab
 * switched, window minimised), the window losing focus, full screen left, paste and copy.
 *
 * One incident, one report. Leaving the exam makes browsers fire several events within a few
 * milliseconds, in an order that differs between browsers (a tab switch is `blur` then
 * `visibilitychange` in one, the other way round in another; Esc out of full screen may also
 * blur). So events of one kind of incident are gathered for `settleMs` (600 ms) from the first,
 * then reported once as the most telling of them (fullscreen-exit > visibility-hidden >
 * window-blur), the others named in the detail. Pastes and copies are gathered the same way, each
 * on its own, the detail in words for the proctors' integrity report: "312 characters pasted",
 * "40 characters copied in 2 copies". A gathered incident is reported at
 * once when the page is being hidden for good (`pagehide`) or the watch stops, never lost in a
 * timer.
 *
 * Reports go through a persistent outbox (outbox.ts): queued offline, sent on `online`. The
 * appliance keeps at most 30 a minute per examinee; over that it answers 429 `too-many-events`,
 * and like any other refusal the report is dropped (recorded in the outbox's settled log), not
 * retried.
 */
import type { IntegrityEventType } from '../../../domain/events.js';
import { callApi } from '../shared/api';
import { apiHeaders } from './api';
import { createOutbox, type Outbox, type OutboxOptions } from './outbox';

export type { IntegrityEventType };

/** The largest detail the appliance takes. */
export const MAX_DETAIL_LENGTH = 200;
/** How long the events of one incident are gathered. */
export const SETTLE_MS = 600;

type Reporter = (type: IntegrityEventType, detail?: string) => void;

/** The parts of `document` the watch uses (a fake in tests). */
export type WatchedDocument = Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & {
  readonly visibilityState: DocumentVisibilityState;
  readonly fullscreenElement: Element | null;
};

export interface WatchIntegrityOptions {
  report: Reporter;
  settleMs?: number;
  /** Default: document. */
  doc?: WatchedDocument;
  /** The text being copied (a fake in tests). Default: the page's selection. */
  selectedText?: () => string;
  /** Where blur and pagehide fire. Default: window. */
  win?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

/** Losing the exam window: one incident however many of these fire. Higher is more telling. */
const FOCUS_RANK: Partial<Record<IntegrityEventType, number>> = {
  'window-blur': 1,
  'visibility-hidden': 2,
  'fullscreen-exit': 3,
};

interface Incident {
  types: IntegrityEventType[];
  count: number;
  characters: number;
  cut: number;
  timer: ReturnType<typeof setTimeout>;
}

const clip = (detail: string) => detail.slice(0, MAX_DETAIL_LENGTH);
const inTimes = (n: number, what: string) => (n === 1 ? '' : ` in ${n} ${what}`);
const characters = (n: number) => (n === 1 ? '1 character' : `${n} characters`);

/** Starts watching; the returned function stops (reporting anything still being gathered). */
export function watchIntegrity(options: WatchIntegrityOptions): () => void {
  const doc = options.doc ?? document;
  const win = options.win ?? window;
  const settleMs = options.settleMs ?? SETTLE_MS;
  const incidents = new Map<'focus' | 'paste' | 'copy', Incident>();
  let wasFullscreen = doc.fullscreenElement !== null;

  const settle = (group: 'focus' | 'paste' | 'copy') => {
    const incident = incidents.get(group);
    if (!incident) return;
    clearTimeout(incident.timer);
    incidents.delete(group);
    if (group === 'focus') {
      const ranked = [...new Set(incident.types)].sort((a, b) => (FOCUS_RANK[b] ?? 0) - (FOCUS_RANK[a] ?? 0));
      const [top, ...others] = ranked;
      if (top === undefined) return;
      options.report(top, others.length === 0 ? undefined : clip(`also ${others.join(', ')}`));
    } else if (group === 'paste') {
      options.report('paste', clip(`${characters(incident.characters)} pasted${inTimes(incident.count, 'pastes')}`));
    } else {
      const verb = incident.cut === incident.count ? 'cut' : incident.cut > 0 ? 'copied or cut' : 'copied';
      options.report('copy', clip(`${characters(incident.characters)} ${verb}${inTimes(incident.count, 'copies')}`));
    }
  };

  const note = (
    group: 'focus' | 'paste' | 'copy',
    type: IntegrityEventType,
    extra: { characters?: number; cut?: boolean } = {},
  ) => {
    let incident = incidents.get(group);
    if (!incident) {
      incident = { types: [], count: 0, characters: 0, cut: 0, timer: setTimeout(() => settle(group), settleMs) };
      incidents.set(group, incident);
    }
    incident.types.push(type);
    incident.count += 1;
    incident.characters += extra.characters ?? 0;
    if (extra.cut) incident.cut += 1;
  };

  const onVisibility = () => {
    if (doc.visibilityState === 'hidden') note('focus', 'visibility-hidden');
  };
  const onBlur = () => note('focus', 'window-blur');
  const onFullscreen = () => {
    const now = doc.fullscreenElement !== null;
    if (wasFullscreen && !now) note('focus', 'fullscreen-exit');
    wasFullscreen = now;
  };
  const onPaste = (e: Event) => {
    const text = (e as ClipboardEvent).clipboardData?.getData('text/plain') ?? '';
    note('paste', 'paste', { characters: text.length });
  };
  const selected = () => options.selectedText?.() ?? globalThis.getSelection?.()?.toString() ?? '';
  const onCopy = () => note('copy', 'copy', { characters: selected().length });
  const onCut = () => note('copy', 'copy', { characters: selected().length, cut: true });
  const flushAll = () => {
    for (const group of [...incidents.keys()]) settle(group);
  };

  doc.addEventListener('visibilitychange', onVisibility);
  doc.addEventListener('fullscreenchange', onFullscreen);
  doc.addEventListener('paste', onPaste);
  doc.addEventListener('copy', onCopy);
  doc.addEventListener('cut', onCut);
  win.addEventListener('blur', onBlur);
  win.addEventListener('pagehide', flushAll);

  return () => {
    doc.removeEventListener('visibilitychange', onVisibility);
    doc.removeEventListener('fullscreenchange', onFullscreen);
    doc.removeEventListener('paste', onPaste);
    doc.removeEventListener('copy', onCopy);
    doc.removeEventListener('cut', onCut);
    win.removeEventListener('blur', onBlur);
    win.removeEventListener('pagehide', flushAll);
    flushAll();
  };
}

/** One integrity event as POST /api/exam/integrity takes it. */
export interface IntegrityReport {
  type: IntegrityEventType;
  detail?: string;
}

export const INTEGRITY_OUTBOX_KEY = 'exam-hall.outbox.integrity';

/**
 * The persistent outbox of integrity events. Any refusal, `too-many-events` (429) included, is
 * dropped; network errors and 5xx are retried.
 */
export function integrityOutbox(
  token: string,
  options: Partial<Omit<OutboxOptions<IntegrityReport>, 'key' | 'token' | 'send'>> = {},
): Outbox<IntegrityReport> & { report: Reporter } {
  const outbox = createOutbox<IntegrityReport>({
    key: INTEGRITY_OUTBOX_KEY,
    token,
    send: (item, itemToken) =>
      callApi('/api/exam/integrity', { method: 'POST', headers: apiHeaders(itemToken), json: item }),
    ...options,
  });
  return {
    ...outbox,
    report: (type, detail) => void outbox.add(detail === undefined ? { type } : { type, detail: clip(detail) }),
  };
}

/** Whether the page is in full screen now. */
export function isFullscreen(doc: Pick<Document, 'fullscreenElement'> = document): boolean {
  return doc.fullscreenElement !== null && doc.fullscreenElement !== undefined;
}

/** Whether this browser lets the page go full screen at all (iPhones do not). */
export function canFullscreen(doc: Pick<Document, 'fullscreenEnabled'> = document): boolean {
  return doc.fullscreenEnabled === true;
}

/**
 * Asks for full screen. Browsers grant it only during a user's click or key press (call it from
 * the handler, or within a few seconds after one); false when refused or unsupported.
 */
export async function requestFullscreen(element: Element = document.documentElement): Promise<boolean> {
  if (isFullscreen(element.ownerDocument)) return true;
  if (typeof element.requestFullscreen !== 'function') return false;
  try {
    await element.requestFullscreen({ navigationUI: 'hide' });
    return true;
  } catch {
    return false;
  }
}
