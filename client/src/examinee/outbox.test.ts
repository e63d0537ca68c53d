import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiResult } from '../shared/api';
import { createOutbox, memoryStorage, type Outbox, type OutboxEntry, type SettledEntry } from './outbox';

interface Note {
  n: number;
}

const ok = (body: unknown = {}): ApiResult<unknown> => ({ ok: true, status: 201, body });
const refused = (status: number, code: 'too-many-events' | 'validation-failed'): ApiResult<unknown> => ({
  ok: false,
  status,
  code,
  message: code,
});
const noAnswer: ApiResult<unknown> = { ok: false, status: 0, code: 'network-error', message: '' };
const serverError: ApiResult<unknown> = { ok: false, status: 503, code: 'unexpected-answer', message: '' };

/** A send whose answers the test decides, one per call, recording what was sent and when. */
function scriptedSend(answers: ApiResult<unknown>[], storage: ReturnType<typeof memoryStorage>, key: string) {
  const calls: { item: Note; token: string; storedAtSend: OutboxEntry<Note>[] }[] = [];
  const send = (item: Note, token: string) => {
    calls.push({ item, token, storedAtSend: JSON.parse(storage.getItem(key) ?? '[]') as OutboxEntry<Note>[] });
    return Promise.resolve(answers.shift() ?? ok());
  };
  return { calls, send };
}

const outboxes: Outbox<Note>[] = [];
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  for (const o of outboxes.splice(0)) o.stop();
  vi.useRealTimers();
});

function open(options: {
  key: string;
  storage: ReturnType<typeof memoryStorage>;
  send: (item: Note, token: string) => Promise<ApiResult<unknown>>;
  online?: () => boolean;
  events?: EventTarget;
  token?: string;
}): Outbox<Note> {
  const outbox = createOutbox<Note>({
    key: options.key,
    token: options.token ?? 'token-a',
    send: options.send,
    storage: options.storage,
    events: options.events ?? new EventTarget(),
    isOnline: options.online ?? (() => true),
    now: () => Date.now(),
    retryMs: { first: 100, max: 400 },
  });
  outboxes.push(outbox);
  return outbox;
}

describe('outbox', () => {
  it('stores an entry before sending it, sends it with its token, and logs it as sent', async () => {
    const storage = memoryStorage();
    const { calls, send } = scriptedSend([ok({ messageId: 'm-1' })], storage, 'box');
    const outbox = open({ key: 'box', storage, send });
    outbox.add({ n: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.token).toBe('token-a');
    // Persisted before the request left.
    expect(calls[0]!.storedAtSend.map((e) => e.item)).toEqual([{ n: 1 }]);
    expect(outbox.pending()).toEqual([]);
    expect(outbox.settled()).toMatchObject([
      { item: { n: 1 }, outcome: 'sent', status: 201, token: 'token-a', body: { messageId: 'm-1' } },
    ]);
    expect(JSON.parse(storage.getItem('box') ?? 'null')).toEqual([]);
  });

  it('keeps an entry and tries again on no answer and on 5xx, with a growing pause', async () => {
    const storage = memoryStorage();
    const { calls, send } = scriptedSend([noAnswer, serverError, ok()], storage, 'box');
    const outbox = open({ key: 'box', storage, send });
    outbox.add({ n: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(outbox.pending()).toMatchObject([{ item: { n: 1 }, tries: 1 }]);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(outbox.pending()).toMatchObject([{ item: { n: 1 }, tries: 2 }]);
    // The second pause is twice the first.
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    expect(outbox.pending()).toEqual([]);
    expect(outbox.settled().map((s) => s.outcome)).toEqual(['sent']);
  });

  it('treats a send that throws as no answer', async () => {
    const storage = memoryStorage();
    let n = 0;
    const outbox = open({
      key: 'box',
      storage,
      send: () => (n++ === 0 ? Promise.reject(new TypeError('Failed to fetch')) : Promise.resolve(ok())),
    });
    outbox.add({ n: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(outbox.pending()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(outbox.pending()).toEqual([]);
  });

  it('drops an entry the appliance refuses (4xx) and records why in the settled log', async () => {
    const storage = memoryStorage();
    const { calls, send } = scriptedSend(
      [refused(422, 'validation-failed'), refused(429, 'too-many-events'), ok()],
      storage,
      'box',
    );
    const outbox = open({ key: 'box', storage, send });
    outbox.add({ n: 1 });
    outbox.add({ n: 2 });
    outbox.add({ n: 3 });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.item.n)).toEqual([1, 2, 3]);
    expect(outbox.pending()).toEqual([]);
    const settled: SettledEntry<Note>[] = outbox.settled();
    expect(settled.map((s) => [s.item.n, s.outcome, s.status, s.code])).toEqual([
      [1, 'dropped', 422, 'validation-failed'],
      [2, 'dropped', 429, 'too-many-events'],
      [3, 'sent', 201, undefined],
    ]);
    // Never tried again.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(3);
  });

  it('sends oldest first and holds later entries while the first waits for a retry', async () => {
    const storage = memoryStorage();
    const { calls, send } = scriptedSend([noAnswer], storage, 'box');
    const outbox = open({ key: 'box', storage, send });
    outbox.add({ n: 1 });
    await vi.advanceTimersByTimeAsync(0);
    outbox.add({ n: 2 });
    outbox.add({ n: 3 });
    await vi.advanceTimersByTimeAsync(0);
    // Only the first went out (and failed); the others wait behind it.
    expect(calls.map((c) => c.item.n)).toEqual([1]);
    expect(outbox.pending().map((e) => e.item.n)).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.map((c) => c.item.n)).toEqual([1, 1, 2, 3]);
    expect(outbox.settled().map((s) => s.item.n)).toEqual([1, 2, 3]);
  });

  it('waits while offline and sends at once on the online event', async () => {
    const storage = memoryStorage();
    const events = new EventTarget();
    let online = false;
    const { calls, send } = scriptedSend([], storage, 'box');
    const outbox = open({ key: 'box', storage, send, events, online: () => online });
    outbox.add({ n: 1 });
    outbox.add({ n: 2 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(0);
    expect(outbox.pending().map((e) => e.item.n)).toEqual([1, 2]);
    online = true;
    events.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.item.n)).toEqual([1, 2]);
    expect(outbox.pending()).toEqual([]);
  });

  it('the online event cuts a long retry pause short', async () => {
    const storage = memoryStorage();
    const events = new EventTarget();
    const { calls, send } = scriptedSend([noAnswer, noAnswer, noAnswer], storage, 'box');
    const outbox = open({ key: 'box', storage, send, events });
    outbox.add({ n: 1 });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(3);
    // The next pause would be 400 ms; the online event does not wait for it.
    events.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(4);
    expect(outbox.pending()).toEqual([]);
  });

  it('a new outbox on the same storage (a reload) sends what the last one left, with the old token', async () => {
    const storage = memoryStorage();
    let online = false;
    const first = scriptedSend([], storage, 'box');
    const before = open({ key: 'box', storage, send: first.send, online: () => online, token: 'old-token' });
    before.add({ n: 1 });
    before.stop();
    expect(first.calls).toHaveLength(0);

    online = true;
    const second = scriptedSend([], storage, 'box');
    const after = open({ key: 'box', storage, send: second.send, token: 'new-token' });
    await vi.advanceTimersByTimeAsync(0);
    expect(second.calls.map((c) => [c.item.n, c.token])).toEqual([[1, 'old-token']]);
    expect(after.pending()).toEqual([]);
  });

  it('keeps entries in memory when storage refuses them', async () => {
    const storage = memoryStorage();
    const refusing = {
      ...storage,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    let online = false;
    const sent: number[] = [];
    const events = new EventTarget();
    const outbox = createOutbox<Note>({
      key: 'box',
      token: 't',
      storage: refusing,
      events,
      isOnline: () => online,
      send: (item) => {
        sent.push(item.n);
        return Promise.resolve(ok());
      },
    });
    outboxes.push(outbox);
    outbox.add({ n: 7 });
    expect(outbox.pending().map((e) => e.item.n)).toEqual([7]);
    online = true;
    events.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([7]);
  });
});
