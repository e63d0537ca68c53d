/**
 * Content-addressed files (answer files and file answers): `blobs/<2 hex>/<sha256>`.
 *
 * An upload is streamed to `blobs/tmp/` while it is hashed and counted (never buffered whole),
 * refused as soon as it passes its size limit, then fsynced, renamed to its content address
 * and the directory fsynced: only then is it durable, and only then may the request be answered.
 * An fsync that fails is answered 503 `blob-not-durable` (StorageUnavailableError): the received
 * file is removed, nothing is acknowledged, and health says `degraded` until a later blob is made
 * durable. A retried upload whose blob is already there (`keep`) checks the stored file first:
 * one that went missing or was damaged is replaced by the bytes just received, hashed on receipt.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { blobPath, inspectBlob, type BlobCondition } from './blob-check.js';
import { fsyncDir } from './fs-durable.js';
import { StorageUnavailableError, type StorageProblem } from './storage-problems.js';
import { UploadTooSlow } from '../upload-pace.js';

/** A received upload waiting for commit or discard. */
export interface ReceivedBlob {
  /** Empty when received with `hash: false` until the caller has hashed it. */
  sha256: string;
  size: number;
  tmpPath: string;
  /** The temp file's fsync (and close), started when it was received; commit waits for it. */
  synced: Promise<void>;
}

/**
 * An upload body: the web stream of a Request, or (on the appliance) the node:http request
 * itself, whose backpressure holds at most a socket buffer per upload in memory.
 */
/** What is read and thrown away of an upload past its limit before the refusal is sent. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/**
 * An upload is written in pieces of about this size: a 200 KB answer file in one or two writes
 * rather than one per network chunk, while an upload in flight holds at most this much.
 */
const WRITE_BATCH_BYTES = 64 * 1024;

export type UploadBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export type ReceiveOutcome =
  { ok: true; blob: ReceivedBlob } | { ok: false; code: 'payload-too-large' | 'bad-request' | 'upload-too-slow' };

const SHA256 = /^[0-9a-f]{64}$/;

export class BlobStore {
  private readonly tmpDir: string;
  /** An open handle per shard folder, kept to fsync it after a rename (no open and close each time). */
  private readonly shardHandles = new Map<string, Promise<FileHandle>>();
  /** The last fsync failure, until a blob is made durable again. */
  #notDurable: StorageProblem | undefined;
  /** Told of a fault and of the recovery from it (HallStore: the log). */
  onProblem: (line: string) => void = () => undefined;

  private constructor(readonly dir: string) {
    this.tmpDir = path.join(dir, 'tmp');
  }

  /** Opens the store, creating its 256 shard folders once and clearing leftover temp files. */
  static async open(dir: string): Promise<BlobStore> {
    const store = new BlobStore(dir);
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    let created = false;
    for (let i = 0; i < 256; i++) {
      const shard = path.join(dir, i.toString(16).padStart(2, '0'));
      const made = await mkdir(shard, { recursive: true });
      if (made !== undefined) created = true;
    }
    if (created) await fsyncDir(dir);
    return store;
  }

  /** Where a blob lives. */
  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return blobPath(this.dir, sha256);
  }

  /**
   * Streams a body to a temp file, hashing it (unless `hash: false`); stops reading past
   * `maxBytes`. What arrives is gathered into writes of up to WRITE_BATCH_BYTES; the file's fsync
   * starts once it is all written and runs while the caller checks it (`synced`).
   */
  async receive(body: UploadBody | null, maxBytes: number, options: { hash?: boolean } = {}): Promise<ReceiveOutcome> {
    const tmpPath = path.join(this.tmpDir, randomBytes(12).toString('hex'));
    const file = await open(tmpPath, 'w', 0o600);
    // Answer files are hashed where they are checked (the answer-file worker), not here.
    const hash = options.hash === false ? undefined : createHash('sha256');
    let size = 0;
    let outcome: ReceiveOutcome | undefined;
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async () => {
      const chunks = batch;
      batch = [];
      batchBytes = 0;
      await writeAll(file, chunks);
    };
    /** Takes one chunk; false once the body is over the limit. */
    const take = async (value: Uint8Array): Promise<boolean> => {
      size += value.byteLength;
      if (size > maxBytes) {
        outcome = { ok: false, code: 'payload-too-large' };
        return false;
      }
      hash?.update(value);
      batch.push(value);
      batchBytes += value.byteLength;
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
      return true;
    };
    try {
      if (body && 'getReader' in body) {
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!(await take(value))) {
            await reader.cancel().catch(() => undefined);
            break;
          }
        }
      } else if (body) {
        // A node:http request. Leaving a for-await loop early would destroy it, and with it the
        // socket: a client still sending would see a reset instead of the 413. So past the limit
        // the rest is read and thrown away (as http/discard-unread.ts does for refusals made
        // before reading), up to DISCARD_LIMIT_BYTES, past which the connection is given up.
        let discarded = 0;
        for await (const value of body) {
          if (outcome) {
            discarded += value.byteLength;
            if (discarded > DISCARD_LIMIT_BYTES) break;
            continue;
          }
          await take(value);
        }
      }
      if (!outcome) await flush();
    } catch (err) {
      // The client went away, sent a broken body or sent too slowly: nothing was stored.
      outcome = { ok: false, code: err instanceof UploadTooSlow ? 'upload-too-slow' : 'bad-request' };
    }
    if (outcome) {
      await file.close();
      await rm(tmpPath, { force: true });
      return outcome;
    }
    // The fsync runs while the caller checks the file (commit waits for it), then the file closes.
    const synced = file.sync().finally(() => file.close());
    synced.catch(() => undefined); // seen by commit or discard
    return { ok: true, blob: { sha256: hash?.digest('hex') ?? '', size, tmpPath, synced } };
  }

  /**
   * Makes a received blob durable at its content address: once its fsync is done, it is renamed
   * and its folder fsynced. A blob already there is replaced by the same bytes, and the
   * folder is fsynced all the same: present is not durable (a commit cut off by a kill between its
   * rename and its folder fsync leaves the name only in memory), and the caller answers after this.
   * @throws StorageUnavailableError (`blob-not-durable`) when an fsync fails; the temp file is gone.
   */
  async commit(blob: ReceivedBlob): Promise<string> {
    const target = this.pathOf(blob.sha256);
    await this.durably(blob, async () => {
      await blob.synced;
      await rename(blob.tmpPath, target);
      await this.syncShard(path.dirname(target));
    });
    return target;
  }

  /**
   * Makes a received blob durable where its address may be taken already (a retried upload, the
   * same snapshot twice): the stored file is checked (size and SHA-256); an intact one stays (its
   * folder is fsynced all the same) and the received copy is thrown away; a missing or damaged one
   * is replaced by the received bytes. Returns what the address held before.
   */
  async keep(blob: ReceivedBlob): Promise<BlobCondition> {
    const target = this.pathOf(blob.sha256);
    const before = await inspectBlob(target, blob.sha256, blob.size);
    if (before.state !== 'intact') {
      await this.commit(blob);
      this.onProblem(
        `blob ${blob.sha256}: ${before.state === 'missing' ? 'was missing' : `was damaged (${before.detail})`}; ` +
          'stored again from the bytes just received',
      );
      return before;
    }
    await this.discard(blob);
    await this.durably(blob, () => this.syncShard(path.dirname(target)));
    return before;
  }

  /** Storage faults going on now: an fsync of a blob that failed, until one succeeds again. */
  get problem(): StorageProblem | undefined {
    return this.#notDurable;
  }

  /** Runs the fsyncs of a commit; a failure removes the temp file and becomes a StorageUnavailableError. */
  private async durably(blob: ReceivedBlob, steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (err) {
      await rm(blob.tmpPath, { force: true }).catch(() => undefined);
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      const detail = `an fsync of blob ${blob.sha256} (${blob.size} bytes) failed: ${reason}`;
      this.#notDurable = { code: 'blob-not-durable', since: new Date().toISOString(), detail };
      this.onProblem(`${detail}; answered 503 blob-not-durable, nothing acknowledged`);
      throw new StorageUnavailableError('blob-not-durable', detail, { cause: err });
    }
    if (this.#notDurable) {
      this.onProblem(`blobs are made durable again (after: ${this.#notDurable.detail})`);
      this.#notDurable = undefined;
    }
  }

  private async syncShard(dir: string): Promise<void> {
    let handle = this.shardHandles.get(dir);
    if (!handle) {
      handle = open(dir, 'r');
      this.shardHandles.set(dir, handle);
      handle.catch(() => this.shardHandles.delete(dir));
    }
    const fh = await handle;
    try {
      await fh.sync();
    } catch (err) {
      // A handle whose fsync failed may report success next time for what was lost (Linux
      // reports a writeback error once per descriptor): the next fsync opens the folder afresh.
      if (this.shardHandles.get(dir) === handle) this.shardHandles.delete(dir);
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Closes the folder handles kept for fsync. */
  async close(): Promise<void> {
    const handles = [...this.shardHandles.values()];
    this.shardHandles.clear();
    await Promise.all(handles.map((h) => h.then((fh) => fh.close()).catch(() => undefined)));
  }

  /** Stores bytes the appliance made itself (e.g. the draft kept at time-up) durably; returns their SHA-256. */
  async put(bytes: Uint8Array): Promise<string> {
    const received = await this.receive(
      (async function* () {
        yield bytes;
      })(),
      Math.max(1, bytes.byteLength),
      { hash: true },
    );
    if (!received.ok) throw new Error(`storing ${bytes.byteLength} bytes failed: ${received.code}`);
    await this.keep(received.blob);
    return received.blob.sha256;
  }

  /** The first `n` bytes of a received blob (to check what it is before keeping it). */
  async head(blob: ReceivedBlob, n: number): Promise<Buffer> {
    const file = await open(blob.tmpPath, 'r');
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(n), 0, n, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  /** Throws a received blob away. */
  async discard(blob: ReceivedBlob): Promise<void> {
    await blob.synced.catch(() => undefined);
    await rm(blob.tmpPath, { force: true });
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  read(sha256: string): Promise<Buffer> {
    return readFile(this.pathOf(sha256));
  }
}

/** Writes every chunk (writev may write less than asked, e.g. on a full disk: then it throws). */
async function writeAll(file: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    const total = rest.reduce((n, c) => n + c.byteLength, 0);
    const { bytesWritten } = await file.writev(rest);
    if (bytesWritten === total) return;
    if (bytesWritten === 0) throw new Error('no progress writing an upload');
    let skip = bytesWritten;
    const next: Uint8Array[] = [];
    for (const c of rest) {
      if (skip >= c.byteLength) skip -= c.byteLength;
      else {
        next.push(skip > 0 ? c.subarray(skip) : c);
        skip = 0;
      }
    }
    rest = next;
  }
}
