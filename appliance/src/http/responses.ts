/** One shape for every refusal: `{ error: { code, message, detail? } }` with the code's status. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ERRORS, type ErrorCode, type Refusal } from '../../../domain/errors.js';

export function refusalBody(code: ErrorCode, detail?: string) {
  return { error: { code, message: ERRORS[code].message, ...(detail === undefined ? {} : { detail }) } };
}

export function sendRefusal(c: Context, code: ErrorCode, detail?: string): Response {
  // The rest of a too-slow body is not waited for: the connection closes after this answer.
  if (code === 'upload-too-slow') c.header('connection', 'close');
  return c.json(refusalBody(code, detail), ERRORS[code].status as ContentfulStatusCode);
}

export function sendResult(c: Context, refusal: Refusal): Response {
  if (refusal.retryAfterSeconds !== undefined) c.header('retry-after', String(refusal.retryAfterSeconds));
  return sendRefusal(c, refusal.code, refusal.detail);
}
