/** The page's calls to the portal server: JSON in and out, refusals as ApiError with their words. */
import type { PortalRefusal } from '../../shared/api.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `file:line:column path: message` lines of an import that failed. */
    readonly errors: string[] = [],
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', 'The portal cannot be reached. Check the connection.');
  }
  const body = (await res.json().catch(() => undefined)) as (PortalRefusal & { errors?: string[] }) | T | undefined;
  if (!res.ok) {
    const refusal = body as (PortalRefusal & { errors?: string[] }) | undefined;
    const message = refusal?.error
      ? `${refusal.error.message}${refusal.error.detail ? ` (${refusal.error.detail})` : ''}`
      : `The portal answered ${res.status}.`;
    throw new ApiError(res.status, refusal?.error?.code ?? 'unknown', message, refusal?.errors ?? []);
  }
  return body as T;
}
