/**
 * Calls to the appliance's API. Every outcome is a value: the parsed body, or what went wrong
 * in words for the person at the screen (the appliance's refusal, by its error code from
 * domain/errors.ts, or "cannot reach the appliance").
 */
import type { ErrorCode } from '../../../domain/errors.js';
import { t } from '../i18n';

export type ApiResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; code: ErrorCode | 'network-error' | 'unexpected-answer'; message: string };

interface RefusalBody {
  error: { code: ErrorCode; message: string; detail?: string };
}

const isRefusal = (body: unknown): body is RefusalBody => {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
};

/** `fetch` to the appliance with a JSON body (if any), answered as an ApiResult. */
export async function callApi<T>(
  path: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.json === undefined ? init.body : JSON.stringify(init.json),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, status: 0, code: 'network-error', message: t.common.networkError };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.ok && body !== undefined) return { ok: true, status: res.status, body: body as T };
  if (isRefusal(body)) {
    const { code, message } = body.error;
    return { ok: false, status: res.status, code, message: t.errors[code] ?? message };
  }
  return { ok: false, status: res.status, code: 'unexpected-answer', message: t.common.unexpectedAnswer(res.status) };
}
