/**
 * A refusal that goes out before the request body was read (too large by its Content-Length, no
 * session, already submitted...) waits until the rest of the body has arrived and been thrown
 * away. Node closes a connection whose request is still arriving when the answer is done, and a
 * client still sending then sees a reset instead of the 4xx that says what went wrong.
 */
import type { MiddlewareHandler } from 'hono';

/** A refused body is read (and thrown away) up to this size; past it the connection is closed. */
export const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/** Reads what is left of a request body nobody read, chunk by chunk, keeping none of it. */
export async function discardUnread(req: Request): Promise<void> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    if (!req.body || req.bodyUsed) return;
    reader = req.body.getReader();
  } catch {
    return; // Already taken by the handler (read or cancelled): nothing left to do here.
  }
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > MAX_DISCARD_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away: nothing to discard.
  }
}

/** Middleware: after a 4xx/5xx to a request with a body, discards what is left of the body. */
export const discardRefusedBodies: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.res.status >= 400) await discardUnread(c.req.raw);
};
