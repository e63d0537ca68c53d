/**
 * Live updates while a page is open: the portal follows each hall database's `_changes` feed
 * (longpoll, from `now`, as the page's signed-in user) and says which hall changed and what kind
 * of documents; the page then reads that hall's totals again. Chunks (`blob:`) and receipt keys
 * change no total and are not reported. A failed poll is retried after 1 s doubling to 30 s; a
 * session CouchDB no longer knows ends the stream.
 */
import { hallDbName } from '../../sync/central-link.js';
import type { HallChanged } from '../shared/api.js';
import type { Couch, CouchSession } from './couch.js';

/** Document kinds that change what the page shows (the id's first part). */
const SHOWN_KINDS = new Set(['exam', 'examinee', 'event', 'submission', 'appliance-status', '_design']);

export const LONGPOLL_TIMEOUT_MS = 25_000;
/** Changes that arrive within this time are reported once. */
export const COALESCE_MS = 250;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Follows one hall's changes until `signal` aborts; `onChange` gets the kinds that changed,
 * `onSessionEnded` is called (once, and the follow stops) when CouchDB refuses the session.
 */
export async function followHall(
  couch: Couch,
  session: CouchSession,
  hallId: string,
  signal: AbortSignal,
  onChange: (changed: HallChanged) => void,
  onSessionEnded: () => void,
): Promise<void> {
  let since = 'now';
  let backoff = 1_000;
  let pending = new Set<string>();
  let flush: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(flush), { once: true });
  while (!signal.aborted) {
    try {
      const res = await couch.request(session, 'GET', `/${hallDbName(hallId)}/_changes`, {
        query: { feed: 'longpoll', since, timeout: String(LONGPOLL_TIMEOUT_MS), heartbeat: '10000' },
        signal,
      });
      if (res.status === 401) {
        await res.body?.cancel();
        onSessionEnded();
        return;
      }
      if (!res.ok) throw new Error(`${res.status}`);
      // A heartbeat is a newline before the JSON; JSON.parse skips white space.
      const body = JSON.parse(await res.text()) as { results?: { id: string }[]; last_seq?: unknown };
      if (body.last_seq !== undefined)
        since = typeof body.last_seq === 'string' ? body.last_seq : JSON.stringify(body.last_seq);
      for (const r of body.results ?? []) {
        const kind = r.id.startsWith('_design/') ? '_design' : r.id.split(':')[0]!;
        if (SHOWN_KINDS.has(kind)) pending.add(kind);
      }
      if (pending.size > 0 && flush === undefined) {
        flush = setTimeout(() => {
          flush = undefined;
          const kinds = [...pending].sort();
          pending = new Set();
          if (!signal.aborted) onChange({ hallId, kinds });
        }, COALESCE_MS);
      }
      backoff = 1_000;
    } catch {
      if (signal.aborted) return;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
}
