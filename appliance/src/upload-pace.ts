/**
 * The slowest a request body may arrive. A body read through here must bring at least
 * `minBytesPerSecond × windowMs` bytes within every `windowMs` of the appliance WAITING for it;
 * time the appliance spends elsewhere (writing to disk, a lock, backpressure) does not count, so
 * a busy box never cuts a healthy upload. A body that is too slow ends the read with
 * UploadTooSlow: the route answers 408 upload-too-slow and nothing of it is kept. The underlying
 * body is then left as it is (not destroyed), so the 408 still reaches a client that is sending.
 */

export interface UploadPace {
  minBytesPerSecond: number;
  windowMs: number;
}

/** The body arrived slower than its UploadPace. */
export class UploadTooSlow extends Error {
  constructor(readonly pace: UploadPace) {
    super(
      `less than ${pace.minBytesPerSecond} bytes a second arrived over ${Math.round(pace.windowMs / 1_000)} seconds`,
    );
    this.name = 'UploadTooSlow';
  }
}

type Chunk = { done: true; value?: undefined } | { done: false; value: Uint8Array };
/** One read's result, as a web stream reader or an async iterator gives it. */
type Read = { done?: boolean; value?: Uint8Array | undefined };

const WINDOW_OVER = Symbol('window over');

/** `pull` (one read of a body), held to `pace`: a read rejects with UploadTooSlow when it is. */
export function pacedPull<R extends Read>(
  pull: () => Promise<R>,
  pace: UploadPace,
  now: () => number = () => performance.now(),
): () => Promise<R> {
  const needed = (pace.minBytesPerSecond * pace.windowMs) / 1_000;
  let waited = 0;
  let got = 0;
  const windowOver = () => {
    if (got < needed) throw new UploadTooSlow(pace);
    waited = 0;
    got = 0;
  };
  return async () => {
    const pending = pull();
    // Abandoned when too slow: its later failure (the socket closed) is no one's business.
    pending.catch(() => undefined);
    let since = now();
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const window = new Promise<typeof WINDOW_OVER>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, pace.windowMs - waited), WINDOW_OVER);
      });
      const result = await Promise.race([pending, window]).finally(() => clearTimeout(timer));
      const t = now();
      waited += t - since;
      since = t;
      if (result !== WINDOW_OVER) {
        if (result.done === true) return result;
        got += result.value?.byteLength ?? 0;
        if (waited >= pace.windowMs) windowOver();
        return result;
      }
      if (waited >= pace.windowMs) windowOver();
    }
  };
}

/** A body (web stream or async iterable, e.g. a node:http request) read at `pace` at least. */
export function pacedBody(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  pace: UploadPace,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let pull: () => Promise<Chunk>;
      let stop: () => Promise<unknown>;
      if ('getReader' in body) {
        const reader = body.getReader();
        pull = async () => {
          const r = await reader.read();
          return r.done ? { done: true } : { done: false, value: r.value };
        };
        stop = () => reader.cancel().catch(() => undefined);
      } else {
        const it = body[Symbol.asyncIterator]();
        pull = async () => {
          const r = await it.next();
          return r.done === true ? { done: true } : { done: false, value: r.value };
        };
        // Leaving a for-await early (past a size limit) ends the body as before.
        stop = async () => it.return?.();
      }
      const next = pacedPull(pull, pace);
      return {
        next: async (): Promise<IteratorResult<Uint8Array>> => {
          const r = await next();
          return r.done ? { done: true, value: undefined } : r;
        },
        return: async (): Promise<IteratorResult<Uint8Array>> => {
          await stop();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
