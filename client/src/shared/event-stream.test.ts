/**
 * The event stream's reconnecting, with the browser's globals stood in for (fetch answers with a
 * real Response whose body is a stream we write to): a dropped stream comes back by itself; one
 * the appliance replaced with a newer stream of the same session waits until its tab is looked
 * at, so tabs of one proctor do not take turns closing each other's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openEventStream, type StreamState } from './event-stream';

interface Page {
  visibility: 'visible' | 'hidden';
  focused: boolean;
  listeners: Map<string, Set<() => void>>;
}

let page: Page;
/** Each fetch of the stream: its writer, to send events and end it. */
let opened: WritableStreamDefaultWriter<Uint8Array>[];

const on = (type: string, f: () => void) => {
  const set = page.listeners.get(type) ?? new Set();
  set.add(f);
  page.listeners.set(type, set);
};
const off = (type: string, f: () => void) => page.listeners.get(type)?.delete(f);
const fire = (type: string) => {
  for (const f of page.listeners.get(type) ?? []) f();
};

beforeEach(() => {
  vi.useFakeTimers();
  page = { visibility: 'visible', focused: true, listeners: new Map() };
  opened = [];
  vi.stubGlobal('navigator', { onLine: true });
  vi.stubGlobal('window', { addEventListener: on, removeEventListener: off });
  vi.stubGlobal('document', {
    get visibilityState() {
      return page.visibility;
    },
    hasFocus: () => page.focused,
    addEventListener: on,
    removeEventListener: off,
  });
  vi.stubGlobal(
    'fetch',
    vi.fn(() => {
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      opened.push(writable.getWriter());
      return Promise.resolve(new Response(readable, { headers: { 'content-type': 'text/event-stream' } }));
    }),
  );
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const send = (i: number, event: string, data: unknown) =>
  opened[i]!.write(new TextEncoder().encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
/** Lets the stream's promises run (fake timers leave microtasks alone). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await vi.advanceTimersByTimeAsync(0);
};

function open() {
  const events: string[] = [];
  const states: StreamState[] = [];
  const close = openEventStream({
    url: '/api/proctor/exams/exam-1/monitor',
    headers: {},
    onEvent: (event) => events.push(event),
    onState: (s) => states.push(s),
  });
  return { events, states, close };
}

describe('the event stream', () => {
  it('comes back by itself after a drop', async () => {
    const s = open();
    await settle();
    expect(opened).toHaveLength(1);
    await send(0, 'snapshot', { rows: [] });
    await opened[0]!.close();
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(opened).toHaveLength(2);
    expect(s.events).toEqual(['snapshot']);
    s.close();
  });

  it('replaced by a newer stream of the same session: back only when its tab is looked at again', async () => {
    page.visibility = 'hidden';
    page.focused = false;
    const s = open();
    await settle();
    await send(0, 'snapshot', { rows: [] });
    await send(0, 'stream-closed', { code: 'stream-replaced', message: 'newer stream' });
    await opened[0]!.close();
    await settle();
    // A background tab does not fight for its stream back.
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(opened).toHaveLength(1);
    expect(s.states.at(-1)).toBe('connecting');
    // The proctor comes back to this tab: it reconnects at once.
    page.visibility = 'visible';
    fire('visibilitychange');
    page.focused = true;
    fire('focus');
    await settle();
    expect(opened).toHaveLength(2);
    // The closing event is the stream's business, not the app's.
    expect(s.events).toEqual(['snapshot']);
    s.close();
  });

  it('replaced while its tab is in front: reconnects as after a drop', async () => {
    const s = open();
    await settle();
    await send(0, 'stream-closed', { code: 'stream-replaced', message: 'newer stream' });
    await opened[0]!.close();
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(opened).toHaveLength(2);
    s.close();
  });
});
