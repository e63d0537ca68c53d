/**
 * A server-sent event stream read with fetch (EventSource cannot send the examinee's bearer
 * token), reconnected with a growing pause (1 s doubling to 15 s) when it drops. Nothing is
 * requested while the browser says it is offline; the stream comes back at the `online` event.
 * The state callback drives the small connection indicator.
 *
 * A stream the appliance closed because the same session opened more than it keeps (a proctor
 * with many tabs: `stream-closed`, code `stream-replaced`) comes back only when its tab is looked
 * at again (shown or focused): reconnecting at once would close another tab's, and the tabs would
 * take turns for ever.
 */

export type StreamState = 'connecting' | 'live' | 'offline';

export interface StreamOptions {
  url: string;
  headers: Record<string, string>;
  onEvent: (event: string, data: unknown) => void;
  onState: (state: StreamState) => void;
  /** Called when the appliance refuses the stream (4xx): reconnecting will not help. */
  onRefused?: (status: number) => void;
}

const MIN_PAUSE_MS = 1_000;
const MAX_PAUSE_MS = 15_000;
/** No byte for this long (pings come every 15 s) means the connection is dead. */
const SILENCE_MS = 35_000;

/** Parses one SSE block ("event: x\ndata: y") into its event name and JSON data. */
export function parseSseBlock(block: string): { event: string; data: unknown } | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return undefined;
  try {
    return { event, data: JSON.parse(data.join('\n')) as unknown };
  } catch {
    return undefined;
  }
}

/** Opens the stream; the returned function closes it for good. */
export function openEventStream(options: StreamOptions): () => void {
  let closed = false;
  /** Closed by the appliance for a newer stream of this session: wait to be looked at. */
  let replaced = false;
  let pause = MIN_PAUSE_MS;
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const again = () => {
    if (closed) return;
    clearTimeout(timer);
    if (!navigator.onLine) {
      options.onState('offline');
      return; // the `online` event reconnects
    }
    timer = setTimeout(() => void connect(), pause);
    pause = Math.min(MAX_PAUSE_MS, pause * 2);
  };

  const connect = async () => {
    if (closed) return;
    if (!navigator.onLine) {
      options.onState('offline');
      return;
    }
    options.onState('connecting');
    controller = new AbortController();
    const mine = controller;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const watchdog = () => {
      clearTimeout(silence);
      silence = setTimeout(() => mine.abort(), SILENCE_MS);
    };
    try {
      const res = await fetch(options.url, {
        headers: { ...options.headers, accept: 'text/event-stream' },
        cache: 'no-store',
        signal: mine.signal,
      });
      if (!res.ok || res.body === null) {
        if (res.status >= 400 && res.status < 500) {
          options.onRefused?.(res.status);
          closed = true;
          return;
        }
        throw new Error(`stream answered ${res.status}`);
      }
      options.onState('live');
      pause = MIN_PAUSE_MS;
      watchdog();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        watchdog();
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const parsed = parseSseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (parsed?.event === 'stream-closed' && isReplaced(parsed.data)) replaced = true;
          else if (parsed) options.onEvent(parsed.event, parsed.data);
        }
      }
    } catch {
      // dropped, aborted or unreachable: below
    } finally {
      clearTimeout(silence);
    }
    if (!closed) {
      options.onState(navigator.onLine ? 'connecting' : 'offline');
      if (replaced && !lookedAt()) return; // `seen` reconnects
      replaced = false;
      again();
    }
  };

  const lookedAt = () => document.visibilityState === 'visible' && document.hasFocus();
  const seen = () => {
    if (!replaced || closed || !lookedAt()) return;
    replaced = false;
    pause = MIN_PAUSE_MS;
    clearTimeout(timer);
    void connect();
  };

  const online = () => {
    pause = MIN_PAUSE_MS;
    clearTimeout(timer);
    void connect();
  };
  const offline = () => {
    options.onState('offline');
    controller?.abort();
  };
  window.addEventListener('online', online);
  window.addEventListener('offline', offline);
  window.addEventListener('focus', seen);
  document.addEventListener('visibilitychange', seen);
  void connect();

  return () => {
    closed = true;
    clearTimeout(timer);
    controller?.abort();
    window.removeEventListener('online', online);
    window.removeEventListener('offline', offline);
    window.removeEventListener('focus', seen);
    document.removeEventListener('visibilitychange', seen);
  };
}

const isReplaced = (data: unknown): boolean => (data as { code?: unknown } | null)?.code === 'stream-replaced';
