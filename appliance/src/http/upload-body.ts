/**
 * The body of an upload, to stream to disk. Under @hono/node-server it is the node:http request
 * itself (`c.env.incoming`): Node 20's Readable.toWeb, behind `c.req.raw.body`, reads the socket
 * without backpressure, so in a storm of 1,000 answer files every body would sit whole in memory
 * while it waits for the disk. Elsewhere (app.request() in tests) it is the Request's web stream.
 * Either is read at the app's UploadPace at least (`paceUploads`): a trickle is cut with 408.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { UploadBody } from '../store/blob-store.js';
import { pacedBody, type UploadPace } from '../upload-pace.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The slowest a request body may arrive (set by `paceUploads`; none: no minimum). */
    uploadPace: UploadPace | undefined;
  }
}

/** Middleware: every body read on this request (uploads, JSON, refused bodies) is held to `pace`. */
export function paceUploads(pace: UploadPace): MiddlewareHandler {
  return async (c, next) => {
    c.set('uploadPace', pace);
    await next();
  };
}

/** The pace this request's body is held to, if any. */
export function uploadPaceOf(c: Context): UploadPace | undefined {
  return c.get('uploadPace');
}

export function uploadBody(c: Context): UploadBody | null {
  const env: unknown = c.env;
  const incoming =
    typeof env === 'object' && env !== null && 'incoming' in env ? (env as { incoming: unknown }).incoming : undefined;
  const body = isNodeRequest(incoming) && !incoming.readableDidRead ? incoming : c.req.raw.body;
  const pace = uploadPaceOf(c);
  return body && pace ? pacedBody(body, pace) : body;
}

function isNodeRequest(value: unknown): value is IncomingMessage {
  return typeof value === 'object' && value !== null && 'headers' in value && Symbol.asyncIterator in value;
}
