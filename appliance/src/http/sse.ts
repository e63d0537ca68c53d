/**
 * One way to hold a server-sent event stream open: the first events, then whatever the
 * subscription pushes, in order, with a ping every 15 s (so proxies and Wi-Fi power saving keep
 * the connection, and clients can re-measure their clock offset); everything is released when
 * the client goes away.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

export const PING_MS = 15_000;

export interface LiveStream {
  /** Events sent at once, before any change. */
  first: () => Array<{ event: string; data: unknown }>;
  /**
   * Starts delivering changes through `push`; returns the function that stops it. `end` closes
   * the stream once what was pushed before it is sent (e.g. the session is no longer valid).
   */
  subscribe: (push: (event: string, data: unknown) => void, end: () => void) => () => void;
  /** The ping's data. */
  ping: () => unknown;
}

export function liveStream(c: Context, live: LiveStream): Response {
  return streamSSE(c, async (stream) => {
    const queue: { event: string; data: unknown }[] = [];
    let wake: (() => void) | undefined;
    let open = true;
    let ending = false;
    const push = (event: string, data: unknown) => {
      if (ending) return;
      queue.push({ event, data });
      wake?.();
    };
    const end = () => {
      ending = true;
      wake?.();
    };
    const unsubscribe = live.subscribe(push, end);
    stream.onAbort(() => {
      open = false;
      wake?.();
    });
    const timer = setInterval(() => push('ping', live.ping()), PING_MS);
    try {
      for (const e of live.first()) await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
      while (open) {
        for (let next = queue.shift(); next !== undefined && open; next = queue.shift()) {
          await stream.writeSSE({ event: next.event, data: JSON.stringify(next.data) });
        }
        if (ending) break;
        if (open) await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      clearInterval(timer);
      unsubscribe();
    }
  });
}
