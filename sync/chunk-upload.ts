/**
 * `POST /<hall db>/_bulk_docs` of blob chunk documents with `new_edits: false`, streamed: the
 * body is written piece by piece from the chunks' bytes (base64 made 48 KiB at a time), with its
 * exact Content-Length, so the push never holds a batch's base64 as one string (such strings
 * live in V8's large-object space until a full collection, which on a Pi is memory).
 */
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { base64Length, type BlobChunkHead, chunkDocJson } from './blob-chunks.js';
import { authHeaders, type CentralLink, hallDbName } from './central-link.js';

/** Raw bytes per base64 piece: a multiple of 3, so the pieces join without padding. */
const PIECE_BYTES = 48 * 1024;
/** A request that sends or receives nothing for this long is given up (the link hangs). */
const IDLE_TIMEOUT_MS = 60_000;

export interface ChunkToUpload {
  head: BlobChunkHead;
  bytes: Buffer;
}

/** One result row of `_bulk_docs` (with `new_edits: false` CouchDB lists only the failures). */
export interface BulkDocsRow {
  id?: string;
  rev?: string;
  ok?: boolean;
  error?: string;
  reason?: string;
}

/**
 * Sends the chunk documents; resolves with the server's rows, rejects when the link fails or the
 * server answers an error status (the error carries `status` and `reason`, as PouchDB's do).
 */
export async function uploadChunks(
  link: CentralLink,
  hallId: string,
  chunks: ChunkToUpload[],
  signal?: AbortSignal,
): Promise<BulkDocsRow[]> {
  const open = Buffer.from('{"new_edits":false,"docs":[');
  const close = Buffer.from(']}');
  const parts = chunks.map((c) => {
    const { prefix, suffix } = chunkDocJson(c.head);
    return { prefix: Buffer.from(prefix), suffix: Buffer.from(suffix), bytes: c.bytes };
  });
  let length = open.length + close.length + Math.max(0, parts.length - 1);
  for (const p of parts) length += p.prefix.length + base64Length(p.bytes.length) + p.suffix.length;

  const url = new URL(`${link.baseUrl}/${hallDbName(hallId)}/_bulk_docs`);
  const client = url.protocol === 'https:' ? https : http;
  const req = client.request(url, {
    method: 'POST',
    ...(signal ? { signal } : {}),
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': String(length),
      ...authHeaders(link),
    },
  });
  req.setTimeout(IDLE_TIMEOUT_MS, () =>
    req.destroy(Object.assign(new Error('the central server stopped answering'), { code: 'ETIMEDOUT' })),
  );
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  // Writing stops at the first failure; the response promise says what it was.
  response.catch(() => undefined);
  const write = async (buf: Buffer) => {
    if (req.destroyed) throw new Error('request ended');
    if (!req.write(buf)) await Promise.race([once(req, 'drain'), response]);
  };
  try {
    await write(open);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i > 0) await write(Buffer.from(','));
      await write(p.prefix);
      for (let o = 0; o < p.bytes.length; o += PIECE_BYTES) {
        await write(Buffer.from(p.bytes.subarray(o, o + PIECE_BYTES).toString('base64'), 'latin1'));
      }
      await write(p.suffix);
    }
    req.end(close);
  } catch {
    // The response (or its error) tells.
  }
  const res = await response;
  let text = '';
  res.setEncoding('utf8');
  for await (const piece of res) text += piece as string;
  const body = text === '' ? undefined : (JSON.parse(text) as unknown);
  const status = res.statusCode ?? 0;
  if (status >= 400) {
    const e = (body ?? {}) as { error?: string; reason?: string };
    throw Object.assign(new Error(e.reason ?? e.error ?? `HTTP ${status}`), {
      status,
      name: e.error ?? 'error',
      reason: e.reason,
    });
  }
  return Array.isArray(body) ? (body as BulkDocsRow[]) : [];
}
