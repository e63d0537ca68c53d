/**
 * A refusal that goes out before the request body was read (too large by its Content-Length, no
 * session, already submitted...) waits until the rest of the body has arrived and been thrown
 * away. Node closes a connection whose request is still arriving when the answer is done, and a
 * client still sending then sees a reset instead of the 4xx that says what went wrong.
 */
import type { MiddlewareHandler } from 'hono';
import { pacedPull, type UploadPace } from '../upload-pace.js';
import { uploadPaceOf } from './upload-body.js';

/** A refused body is read (and thrown away) up to this size; past it the connection is closed. */
export const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Reads what is left of a request body nobody read, chunk by chunk, keeping none of it; a body
 * slower than `pace` is left (the connection closes after the answer).
 */
export async function discardUnread(req: Request, pace?: UploadPace): Promise<void> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    if (!req.body || req.bodyUsed) return;
    reader = req.body.getReader();
  } catch {
    return; // Already taken by the handler (read or cancelled): nothing left to do here.
  }
  let size = 0;
  const read = pace ? pacedPull(() => reader.read(), pace) : () => reader.read();
  try {
    for (;;) {
      const { done, value } = await read();
      if (done) return;
      size += value.byteLength;
      if (size > MAX_DISCARD_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away (nothing to discard) or sends too slowly (given up).
  }
}

/**
 * Middleware: after a 4xx/5xx to a request with a body, discards what is left of the body; not
 * after a 408 (the body was cut for being too slow: the connection closes instead).
 */
export const discardRefusedBodies: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.res.status >= 400 && c.res.status !== 408)
    await discardUnread(c.req.raw, uploadPaceOf(c));
};
