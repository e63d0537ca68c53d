/**
 * Validation at the edge: every JSON body goes through a schema here, and everything after it
 * trusts its types. Failures become 4xx refusals with the shared codes.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ProtoKey, refuseProtoKeys } from '../../../domain/proto-keys.js';
import { pacedPull, UploadTooSlow, type UploadPace } from '../upload-pace.js';
import { sendRefusal } from './responses.js';
import { uploadPaceOf } from './upload-body.js';

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}

/** A validated value, or the refusal to send. */
export type Validated<T> = { ok: true; value: T } | { ok: false; response: Response };

/**
 * Reads and validates a JSON body of at most `maxBytes` (checked while reading, so a lying
 * Content-Length cannot make the appliance buffer more). Hono's json validator is not used:
 * it reads the whole body before any limit applies.
 */
export async function readJson<S extends z.ZodType>(
  c: Context,
  schema: S,
  maxBytes = 64 * 1024,
): Promise<Validated<z.output<S>>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return { ok: false, response: sendRefusal(c, 'unsupported-media-type', 'send Content-Type: application/json') };
  }
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes)
    return { ok: false, response: sendRefusal(c, 'payload-too-large', `at most ${maxBytes} bytes`) };
  let text: string;
  try {
    text = await readLimited(c.req.raw, maxBytes, uploadPaceOf(c));
  } catch (err) {
    if (err instanceof TooLarge)
      return { ok: false, response: sendRefusal(c, 'payload-too-large', `at most ${maxBytes} bytes`) };
    if (err instanceof UploadTooSlow) return { ok: false, response: sendRefusal(c, 'upload-too-slow', err.message) };
    return { ok: false, response: sendRefusal(c, 'bad-request', 'the body could not be read') };
  }
  let json: unknown;
  try {
    json = JSON.parse(text, refuseProtoKeys);
  } catch (err) {
    if (err instanceof ProtoKey) return { ok: false, response: sendRefusal(c, 'validation-failed', err.message) };
    return { ok: false, response: sendRefusal(c, 'invalid-json') };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, response: sendRefusal(c, 'validation-failed', describe(parsed.error)) };
  return { ok: true, value: parsed.data as z.output<S> };
}

/** Validates query parameters (each taken once). */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): Validated<z.output<S>> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) return { ok: false, response: sendRefusal(c, 'validation-failed', describe(parsed.error)) };
  return { ok: true, value: parsed.data as z.output<S> };
}

class TooLarge extends Error {}

/**
 * Reads a body as text, stopping as soon as it passes `maxBytes` (a lying Content-Length too) or
 * arrives slower than `pace` (UploadTooSlow).
 */
async function readLimited(req: Request, maxBytes: number, pace: UploadPace | undefined): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const read = pace ? pacedPull(() => reader.read(), pace) : () => reader.read();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}
