/**
 * The body of an upload, to stream to disk. Under @hono/node-server it is the node:http request
 * itself (`c.env.incoming`): Node 20's Readable.toWeb, behind `c.req.raw.body`, reads the socket
 * without backpressure, so in a storm of 1,000 answer files every body would sit whole in memory
 * while it waits for the disk. Elsewhere (app.request() in tests) it is the Request's web stream.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { UploadBody } from '../store/blob-store.js';

export function uploadBody(c: Context): UploadBody | null {
  const env: unknown = c.env;
  const incoming =
    typeof env === 'object' && env !== null && 'incoming' in env ? (env as { incoming: unknown }).incoming : undefined;
  if (isNodeRequest(incoming) && !incoming.readableDidRead) return incoming;
  return c.req.raw.body;
}

function isNodeRequest(value: unknown): value is IncomingMessage {
  return typeof value === 'object' && value !== null && 'headers' in value && Symbol.asyncIterator in value;
}
