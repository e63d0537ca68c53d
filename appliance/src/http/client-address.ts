import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

/** The client's address when served by Node (`local` under app.request in tests without an env). */
export function clientAddress(c: Context): string {
  const env = c.env as { incoming?: IncomingMessage } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'local';
}
