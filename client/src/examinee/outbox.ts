/**
 * A small persistent outbox for reports the device must get to the appliance some time, not
 * now: resume-code entries (resume.ts), integrity events (integrity.ts) and questions to the
 * proctors (messages-panel.tsx). Each entry is written to localStorage before anything is sent,
 * so a reload, a crash or a Wi-Fi drop loses nothing, and entries go out oldest first, one at a
 * time (the appliance counts wrong resume codes in order).
 *
 * Each entry keeps the session token it was made under, so an entry left from an earlier session
 * on a shared laptop goes out with its own token (and is refused, and dropped, if that session is
 * gone) instead of being reported for whoever signed in since.
 *
 * What an answer means (`classify`, overridable per outbox):
 * - 2xx: sent, removed;
 * - no answer (network error) or 5xx, 408: kept, tried again with a growing pause (2 s doubling
 *   to 60 s) and at once when the browser's `online` event fires;
 * - any other 4xx: the appliance has decided and sending again will not change it, so the entry
 *   is dropped and recorded in the settled log (the last 50 outcomes, kept beside the queue for
 *   a look in devtools or a later screen), never retried forever.
 *
 * Two outboxes on one key in the same page (a screen mounted twice) share the in-flight set, so an
 * entry is never sent twice at once; across tabs an entry may go out twice, which each of the
 * three reports tolerates (the appliance refuses a second use of a resume code).
 */
import type { ApiResult } from '../shared/api';

/** What to do with an entry after an answer. */
export type Disposition = 'sent' | 'retry' | 'drop';

export interface OutboxEntry<T> {
  id: string;
  item: T;
  /** The session token the entry was made under. */
  token: string;
  /** Device time (ms) of add(). */
  queuedAt: number;
  /** Sends tried so far. */
  tries: number;
}

/** An entry that left the queue: sent, or dropped on a refusal. */
export interface SettledEntry<T> {
  id: string;
  item: T;
  outcome: 'sent' | 'dropped';
  /** The session token it was made under (a screen shows only its own session's). */
  token: string;
  /** HTTP status (0: no answer). */
  status: number;
  /** The refusal's error code, when dropped. */
  code?: string;
  /** The answer's body when sent (e.g. the messageId of a question). */
  body?: unknown;
  at: number;
}

/** The parts of Storage the outbox uses (localStorage, or a Map-backed fake in tests). */
export type OutboxStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface OutboxOptions<T> {
  /** localStorage key of the queue; the settled log is `${key}.settled`. */
  key: string;
  /** The token new entries are made under. */
  token: string;
  /** Sends one entry. */
  send: (item: T, token: string) => Promise<ApiResult<unknown>>;
  classify?: (result: ApiResult<unknown>) => Disposition;
  /** Default: localStorage (memory only where it is missing or refuses to store). */
  storage?: OutboxStorage;
  /** Where `online` fires. Default: window. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Default: navigator.onLine. */
  isOnline?: () => boolean;
  /** Default: Date.now. */
  now?: () => number;
  /** Pause before the first retry and the longest pause. Default 2 s and 60 s. */
  retryMs?: { first: number; max: number };
}

export interface Outbox<T> {
  /** Queues an entry (persisted at once) and tries to send; its id. */
  add(item: T): string;
  /** Sends what is queued, oldest first, until empty or the network fails. */
  flush(): Promise<void>;
  /** Entries still to send, oldest first. */
  pending(): OutboxEntry<T>[];
  /** The last outcomes, oldest first. */
  settled(): SettledEntry<T>[];
  /** Called after every change of the queue or the settled log. */
  subscribe(listener: () => void): () => void;
  /** Stops retrying and listening for `online`; the queue stays stored for the next outbox. */
  stop(): void;
}

const SETTLED_KEPT = 50;

/** The default rule: 2xx sent; no answer, 5xx or 408 retried; any other 4xx dropped. */
export function defaultDisposition(result: ApiResult<unknown>): Disposition {
  if (result.ok) return 'sent';
  if (result.code === 'network-error' || result.status === 0) return 'retry';
  if (result.status >= 500 || result.status === 408) return 'retry';
  return 'drop';
}

/** Entries being sent right now, per key, across every outbox of this page. */
const IN_FLIGHT = new Map<string, Set<string>>();
let idCounter = 0;

/** localStorage when there is one that works; else memory (private windows, tests). */
function defaultStorage(): OutboxStorage {
  try {
    if (typeof localStorage !== 'undefined') return localStorage;
  } catch {
    // Some browsers throw on merely reading localStorage when storage is blocked.
  }
  return memoryStorage();
}

/** A Storage in memory (also used by tests). */
export function memoryStorage(): OutboxStorage & { dump(): Record<string, string> } {
  const map = new Map<string, string>();
  return {
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
    dump: () => Object.fromEntries(map),
  };
}

export function createOutbox<T>(options: OutboxOptions<T>): Outbox<T> {
  const storage = options.storage ?? defaultStorage();
  const events = options.events ?? (typeof window === 'undefined' ? undefined : window);
  const isOnline = options.isOnline ?? (() => typeof navigator === 'undefined' || navigator.onLine);
  const now = options.now ?? (() => Date.now());
  const classify = options.classify ?? defaultDisposition;
  const retry = options.retryMs ?? { first: 2_000, max: 60_000 };
  const settledKey = `${options.key}.settled`;
  let inFlight = IN_FLIGHT.get(options.key);
  if (!inFlight) IN_FLIGHT.set(options.key, (inFlight = new Set()));
  const sending = inFlight;

  // What storage would not take (quota, blocked) is kept here for as long as the page lives.
  const fallback = new Map<string, string>();
  const read = <V>(key: string): V[] => {
    let raw: string | null;
    try {
      raw = storage.getItem(key);
    } catch {
      raw = null;
    }
    raw ??= fallback.get(key) ?? null;
    if (raw === null) return [];
    try {
      const value: unknown = JSON.parse(raw);
      return Array.isArray(value) ? (value as V[]) : [];
    } catch {
      return [];
    }
  };
  const write = (key: string, value: unknown[]) => {
    const raw = JSON.stringify(value);
    try {
      storage.setItem(key, raw);
      fallback.delete(key);
    } catch {
      fallback.set(key, raw);
    }
  };

  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of [...listeners]) l();
  };

  let stopped = false;
  let flushing: Promise<void> | undefined;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pause = retry.first;

  const settle = (entry: OutboxEntry<T>, outcome: SettledEntry<T>) => {
    write(
      options.key,
      read<OutboxEntry<T>>(options.key).filter((e) => e.id !== entry.id),
    );
    write(settledKey, [...read<SettledEntry<T>>(settledKey), outcome].slice(-SETTLED_KEPT));
    changed();
  };

  const scheduleRetry = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void outbox.flush();
    }, pause);
    pause = Math.min(retry.max, pause * 2);
  };

  const run = async () => {
    for (;;) {
      if (stopped || !isOnline()) return;
      const entry = read<OutboxEntry<T>>(options.key).find((e) => !sending.has(e.id));
      if (!entry) return;
      // Older entries still being sent by another outbox of this page go first.
      if (read<OutboxEntry<T>>(options.key)[0]?.id !== entry.id) return;
      sending.add(entry.id);
      let result: ApiResult<unknown>;
      try {
        result = await options.send(entry.item, entry.token);
      } catch {
        result = { ok: false, status: 0, code: 'network-error', message: '' };
      } finally {
        sending.delete(entry.id);
      }
      const disposition = classify(result);
      if (disposition === 'retry') {
        write(
          options.key,
          read<OutboxEntry<T>>(options.key).map((e) => (e.id === entry.id ? { ...e, tries: e.tries + 1 } : e)),
        );
        changed();
        scheduleRetry();
        return;
      }
      pause = retry.first;
      settle(entry, {
        id: entry.id,
        item: entry.item,
        outcome: disposition === 'sent' ? 'sent' : 'dropped',
        token: entry.token,
        status: result.status,
        ...(result.ok ? { body: result.body } : { code: result.code }),
        at: now(),
      });
    }
  };

  const onOnline = () => {
    pause = retry.first;
    clearTimeout(timer);
    timer = undefined;
    void outbox.flush();
  };

  const outbox: Outbox<T> = {
    add(item) {
      const id = `${now().toString(36)}-${(idCounter++).toString(36)}`;
      write(options.key, [
        ...read<OutboxEntry<T>>(options.key),
        { id, item, token: options.token, queuedAt: now(), tries: 0 },
      ]);
      changed();
      // While a retry is pending the appliance was just unreachable: the retry takes this one too.
      if (timer === undefined) void outbox.flush();
      return id;
    },
    flush() {
      if (stopped) return Promise.resolve();
      // One run at a time; a flush asked for during a run makes it look once more at the end.
      if (flushing) {
        again = true;
        return flushing;
      }
      flushing = (async () => {
        do {
          again = false;
          await run();
        } while (again && !stopped && timer === undefined);
      })().finally(() => {
        flushing = undefined;
      });
      return flushing;
    },
    pending: () => read<OutboxEntry<T>>(options.key),
    settled: () => read<SettledEntry<T>>(settledKey),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      events?.removeEventListener('online', onOnline);
      listeners.clear();
    },
  };

  events?.addEventListener('online', onOnline);
  // Whatever an earlier page left behind goes out now.
  void outbox.flush();
  return outbox;
}
