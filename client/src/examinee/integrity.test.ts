import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from './outbox';
import { integrityOutbox, MAX_DETAIL_LENGTH, SETTLE_MS, watchIntegrity, type IntegrityEventType } from './integrity';

// integrity.ts reaches the API module, whose version Vite defines at build time.
vi.hoisted(() => Object.assign(globalThis, { __CLIENT_VERSION__: '0.0.0-test' }));

/** The parts of a document the watch reads, set by the test. */
class FakeDocument extends EventTarget {
  visibilityState: DocumentVisibilityState = 'visible';
  fullscreenElement: Element | null = null;
}

/** A paste event carrying `text` (Node has no ClipboardEvent). */
const paste = (text: string) => Object.assign(new Event('paste'), { clipboardData: { getData: () => text } });

let doc: FakeDocument;
let win: EventTarget;
let reports: [IntegrityEventType, string | undefined][];
let stop: () => void;

beforeEach(() => {
  vi.useFakeTimers();
  doc = new FakeDocument();
  win = new EventTarget();
  reports = [];
  stop = watchIntegrity({
    report: (type, detail) => reports.push([type, detail]),
    doc,
    win,
    selectedText: () => 'copied',
  });
});
afterEach(() => {
  stop();
  vi.useRealTimers();
});

const hide = () => {
  doc.visibilityState = 'hidden';
  doc.dispatchEvent(new Event('visibilitychange'));
};
const show = () => {
  doc.visibilityState = 'visible';
  doc.dispatchEvent(new Event('visibilitychange'));
};
const blur = () => win.dispatchEvent(new Event('blur'));
const enterFullscreen = () => {
  doc.fullscreenElement = {} as Element;
  doc.dispatchEvent(new Event('fullscreenchange'));
};
const leaveFullscreen = () => {
  doc.fullscreenElement = null;
  doc.dispatchEvent(new Event('fullscreenchange'));
};

describe('watchIntegrity', () => {
  it('reports a tab switch once, however the browser orders blur and visibilitychange', async () => {
    blur();
    hide();
    await vi.advanceTimersByTimeAsync(SETTLE_MS - 1);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports).toEqual([['visibility-hidden', 'also window-blur']]);

    show();
    hide();
    blur();
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports).toEqual([
      ['visibility-hidden', 'also window-blur'],
      ['visibility-hidden', 'also window-blur'],
    ]);
  });

  it('reports only a blur when only the window lost focus', async () => {
    blur();
    blur();
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports).toEqual([['window-blur', undefined]]);
  });

  it('ranks leaving full screen above the page hidden and the blur that come with it', async () => {
    enterFullscreen();
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports).toEqual([]);
    blur();
    leaveFullscreen();
    hide();
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports).toEqual([['fullscreen-exit', 'also visibility-hidden, window-blur']]);
  });

  it('gathers a burst of pastes into one report with how many and how many characters', async () => {
    doc.dispatchEvent(paste('hello'));
    doc.dispatchEvent(paste('world!'));
    doc.dispatchEvent(paste(''));
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports).toEqual([['paste', '11 characters pasted in 3 pastes']]);
    doc.dispatchEvent(paste('x'));
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports[1]).toEqual(['paste', '1 character pasted']);
  });

  it('counts copies and cuts apart from pastes and from leaving the page', async () => {
    doc.dispatchEvent(new Event('copy'));
    doc.dispatchEvent(new Event('cut'));
    blur();
    doc.dispatchEvent(paste('abc'));
    await vi.advanceTimersByTimeAsync(SETTLE_MS);
    expect(reports.sort()).toEqual([
      ['copy', '12 characters copied or cut in 2 copies'],
      ['paste', '3 characters pasted'],
      ['window-blur', undefined],
    ]);
  });

  it('reports what it is still gathering when the page goes away or the watch stops', () => {
    hide();
    win.dispatchEvent(new Event('pagehide'));
    expect(reports).toEqual([['visibility-hidden', undefined]]);
    doc.dispatchEvent(paste('abc'));
    stop();
    expect(reports).toEqual([
      ['visibility-hidden', undefined],
      ['paste', '3 characters pasted'],
    ]);
    // Stopped: nothing more is heard.
    blur();
    doc.dispatchEvent(paste('more'));
    vi.advanceTimersByTime(SETTLE_MS * 2);
    expect(reports).toHaveLength(2);
  });
});

describe('integrityOutbox', () => {
  it('posts each report to /api/exam/integrity, with the detail cut to what the appliance takes', async () => {
    const bodies: unknown[] = [];
    const auth: string[] = [];
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      expect(url).toBe('/api/exam/integrity');
      bodies.push(JSON.parse(init.body as string));
      auth.push((init.headers as Record<string, string>).authorization ?? '');
      return Promise.resolve(new Response(JSON.stringify({ ok: true }), { status: 201 }));
    });
    try {
      const outbox = integrityOutbox('tok-9', {
        storage: memoryStorage(),
        events: new EventTarget(),
        isOnline: () => true,
      });
      outbox.report('paste', '3 characters pasted');
      outbox.report('copy', 'x'.repeat(500));
      outbox.report('window-blur');
      await vi.waitFor(() => expect(outbox.settled()).toHaveLength(3));
      outbox.stop();
      expect(bodies).toEqual([
        { type: 'paste', detail: '3 characters pasted' },
        { type: 'copy', detail: 'x'.repeat(MAX_DETAIL_LENGTH) },
        { type: 'window-blur' },
      ]);
      expect(auth).toEqual(['Bearer tok-9', 'Bearer tok-9', 'Bearer tok-9']);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
