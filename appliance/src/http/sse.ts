/**
 * One way to hold a server-sent event stream open: the first events, then whatever the
 * subscription pushes, in order, with a ping every 15 s (so proxies and Wi-Fi power saving keep
 * the connection, and clients can re-measure their clock offset); everything is released when
 * the client goes away. Streams are capped (stream-caps.ts): per session the oldest is closed
 * with a `stream-closed` event (code stream-replaced), per address the new one is refused with
 * 429 too-many-streams.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { clientAddress } from './client-address.js';
import { refusalBody, sendRefusal } from './responses.js';
import type { StreamCaps } from './stream-caps.js';

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

/** Whose stream it is, for the caps: `session` is the examinee's token or the proctor's session. */
export interface StreamOwner {
  caps: StreamCaps;
  session: string;
}

export function liveStream(c: Context, live: LiveStream, owner?: StreamOwner): Response {
  const queue: { event: string; data: unknown }[] = [];
  let wake: (() => void) | undefined;
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
  const taken = owner?.caps.open(owner.session, clientAddress(c), () => {
    push('stream-closed', refusalBody('stream-replaced').error);
    end();
  });
  if (taken && !taken.ok) return sendRefusal(c, taken.code, taken.detail);
  const slot = taken?.slot;
  return streamSSE(c, async (stream) => {
    let open = true;
    // Replaced before it began (a burst of reloads): nothing to subscribe to.
    const unsubscribe = ending ? () => undefined : live.subscribe(push, end);
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
      slot?.release();
    }
  });
}
