/**
 * Pushes this appliance's blobs (answer files, file answers, photos, snapshots) to the central
 * server straight from the blob files, as the chunk documents of blob-chunks.ts — the same ids,
 * fields, attachment and revisions the central database always held — without writing their
 * content into the box's LevelDB first.
 *
 * Protocol, per batch of chunks (at most `batch.chunks` chunks and `batch.bytes` of content):
 *   1. read the chunks from the blob files, in order, hashing each whole blob as it is read (a
 *      blob whose content is not what its SHA-256 says is not sent: its last chunk waits for the
 *      check, as when chunk documents were written locally);
 *   2. `POST _revs_diff` with the batch's ids and revisions: what the server has is not sent again
 *      (a batch the server stored before a link cut, a blob another box sent);
 *   3. write the batch's chunk markers into the local database: the chunk document without its
 *      attachment, with the same id and revision, so that the pull (which takes everything the
 *      hall database holds) sees the box already has these revisions and never brings the
 *      content back into LevelDB;
 *   4. `POST _bulk_docs` with `new_edits: false` and the missing documents, attachments inline as
 *      base64 (what PouchDB's replicator sends); a document refused by validate_doc_update is
 *      reported (`denied`) and kept in the sync's refused list;
 *   5. the checkpoint — the local seq up to which every blob named by an event is central — moves
 *      past the blobs the batch completed (saved in `_local/sync-state` by the sync).
 * A failed request is retried with the sync's backoff; after a cut only what the server lacks is
 * sent again. Memory: one batch at a time in one reused buffer (default 4 MiB), its body streamed
 * (chunk-upload.ts), plus the queue of blob names and sizes.
 *
 * The blobs to push come from the local changes feed (this appliance's events whose data names a
 * `sha256`, blobOfEvent), followed from the checkpoint; losing the checkpoint in a crash only
 * means blobs are offered again and found central by `_revs_diff`.
 */
import { createHash, type Hash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { blobOfEvent, CHUNK_BYTES, chunkCount, chunkDocHead, chunkLength, readFully } from './blob-chunks.js';
import type { CentralLink } from './central-link.js';
import { type ChunkToUpload, uploadChunks } from './chunk-upload.js';

export interface BlobPusherOptions {
  db: PouchDB.Database;
  /** Where a blob file lives. */
  blobPath: (sha256: string) => string;
  applianceId: string;
  /** The central server and the hall, whose database `_bulk_docs` is posted to. */
  link: CentralLink;
  hallId: string;
  log?: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** Most chunks and bytes of content per `_bulk_docs`. Default 64 chunks, 4 MiB. */
  batch?: { chunks?: number; bytes?: number };
}

interface QueuedBlob {
  sha256: string;
  /** Size the event names (the file's own size counts once it is opened). */
  size: number;
  seq: number | string;
  /** While being read: the open file, its size, the next chunk to read and the running hash. */
  reading?: { fh: FileHandle; size: number; next: number; hash: Hash };
  /** Chunks the server has confirmed. */
  confirmed: number;
}

interface Batch {
  /** The chunks, their bytes in the pusher's batch buffer. */
  chunks: ChunkToUpload[];
  /** Blobs whose last chunk (or failure) is in this batch, queue order: done once it is sent. */
  completes: number;
  /** Chunks of each blob in the batch. */
  perBlob: Map<QueuedBlob, number>;
}

/** A document the central server refused. */
export interface DeniedChunk {
  id: string;
  reason: string;
}

/**
 * One connection's push, with the events of a live PouchDB replication that HallSync watches:
 * `active`, `paused` (with the error after a failure, retried), `change` ({ docs }) and `denied`.
 */
export class BlobPush extends EventEmitter {
  cancelled = false;
  /** Aborts the upload in flight when the push is cancelled (a hanging link must not hold stop()). */
  readonly aborter = new AbortController();
  private readonly wakers = new Set<() => void>();

  cancel(): void {
    this.cancelled = true;
    this.aborter.abort();
    for (const w of [...this.wakers]) w();
  }

  /** Waits `ms`, or less if cancelled. */
  sleep(ms: number): Promise<void> {
    return this.wait((wake) => {
      const timer = setTimeout(wake, ms);
      return () => clearTimeout(timer);
    });
  }

  /** Waits until `arm`'s wake is called or the push is cancelled; `arm` returns its clean-up. */
  wait(arm: (wake: () => void) => () => void): Promise<void> {
    return new Promise((resolve) => {
      if (this.cancelled) return resolve();
      const done = () => {
        disarm();
        this.wakers.delete(done);
        resolve();
      };
      this.wakers.add(done);
      const disarm = arm(done);
    });
  }
}

export class BlobPusher {
  private feed: PouchDB.ChangesEmitter | undefined;
  private readonly queue: QueuedBlob[] = [];
  /** The batch read but not yet confirmed by the server: sent again as it is after a failure. */
  private prepared: Batch | undefined;
  private lastSeq: number | string | undefined;
  private reportedSeq: number | string | undefined;
  /** The local seq the feed must reach before the queue is known to hold every blob. */
  private catchUpTo: number | undefined;
  private caughtUp = false;
  private current: BlobPush | undefined;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly maxChunks: number;
  private readonly maxBytes: number;
  /** The content of the one batch being sent (reused: a batch is prepared only once the last is done). */
  private readonly batchBuf: Buffer;

  constructor(
    private readonly options: BlobPusherOptions,
    /** The new checkpoint: every blob named by a change up to this seq is central. */
    private readonly onProgress: (seq: number | string) => void,
  ) {
    this.maxChunks = Math.max(1, options.batch?.chunks ?? 64);
    this.maxBytes = Math.max(CHUNK_BYTES, options.batch?.bytes ?? 4 * 2 ** 20);
    this.batchBuf = Buffer.allocUnsafe(this.maxBytes);
  }

  /** Follows the local changes feed from the checkpoint `since`; `onAnyChange` on every change. */
  async start(since: number | string, onAnyChange: () => void): Promise<void> {
    const { db, applianceId } = this.options;
    const info = await db.info();
    this.catchUpTo = typeof info.update_seq === 'number' ? info.update_seq : Number(info.update_seq);
    this.lastSeq = since;
    this.reportedSeq = since;
    this.caughtUp = !(Number(since) < this.catchUpTo);
    if (this.stopped) return;
    this.feed = db.changes({ since, live: true, include_docs: true, return_docs: false });
    this.feed.on('change', (c) => {
      onAnyChange();
      const blob = c.doc && c.doc.applianceId === applianceId ? blobOfEvent(c.doc) : undefined;
      if (blob) this.queue.push({ sha256: blob.sha256, size: Math.max(0, blob.size), seq: c.seq, confirmed: 0 });
      this.lastSeq = c.seq;
      if (!this.caughtUp && Number(c.seq) >= (this.catchUpTo ?? 0)) this.caughtUp = true;
      this.wake?.();
    });
    this.feed.on('error', (err) => {
      if (!this.stopped) this.options.log?.('error', `sync: the local changes feed failed: ${String(err)}`);
    });
  }

  /** Pushes to `remote` until cancelled (a new call replaces the previous push). */
  pushTo(remote: PouchDB.Database, backOff: (delay: number) => number): BlobPush {
    this.current?.cancel();
    const push = new BlobPush();
    this.current = push;
    const previous = this.running ?? Promise.resolve();
    this.running = previous.then(() => this.run(push, remote, backOff));
    return push;
  }

  /** Blobs named by events but not yet central: their chunks and bytes (an upper bound). */
  backlog(): { docs: number; bytes: number } {
    let docs = 0;
    let bytes = 0;
    for (const b of this.queue) {
      const size = b.reading?.size ?? b.size;
      docs += Math.max(0, chunkCount(size) - b.confirmed);
      bytes += Math.max(0, size - b.confirmed * CHUNK_BYTES);
    }
    return { docs, bytes };
  }

  /** Whether blobs wait to be pushed (or the feed has not yet told which). */
  get busy(): boolean {
    return this.queue.length > 0 || !this.caughtUp;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.feed?.cancel();
    this.current?.cancel();
    this.wake?.();
    await this.running;
    for (const b of this.queue) await b.reading?.fh.close().catch(() => undefined);
  }

  /**
   * Offers refused chunks again (read from their blob files, whole blob checked): returns the ids
   * the server took (or had) and those refused again with the reason; undefined when the server
   * could not be reached.
   */
  async offer(
    remote: PouchDB.Database,
    ids: readonly string[],
  ): Promise<{ taken: string[]; refused: Map<string, string> } | undefined> {
    const taken: string[] = [];
    const refused = new Map<string, string>();
    const bySha = new Map<string, Set<number>>();
    for (const id of ids) {
      const [, sha, index] = id.split(':');
      if (sha === undefined || index === undefined) continue;
      bySha.set(sha, (bySha.get(sha) ?? new Set()).add(Number(index)));
    }
    for (const [sha, indices] of bySha) {
      let docs: ChunkToUpload[];
      try {
        docs = await this.readChunks(sha, indices);
      } catch (err) {
        this.options.log?.('error', `sync: cannot offer blob ${sha} again: ${String(err)}`);
        continue;
      }
      try {
        const denied = await this.send(remote, docs);
        for (const { head } of docs) {
          const reason = denied.get(head._id);
          if (reason === undefined) taken.push(head._id);
          else refused.set(head._id, reason);
        }
      } catch {
        return undefined;
      }
    }
    return { taken, refused };
  }

  // ---- The push loop ----

  private async run(push: BlobPush, remote: PouchDB.Database, backOff: (delay: number) => number): Promise<void> {
    let active = false;
    let paused = false;
    let delay = 0;
    while (!push.cancelled && !this.stopped) {
      let batch: Batch | undefined;
      try {
        batch = this.prepared ??= await this.prepare();
      } catch (err) {
        // Reading the local files or database failed (not the link): say so, try again later.
        this.options.log?.('error', `sync: reading blobs to push failed: ${String(err)}`);
        await push.sleep(backOff(delay));
        continue;
      }
      if (!batch) {
        if (this.caughtUp) {
          this.reportCheckpoint(this.lastSeq);
          if (active || !paused) push.emit('paused');
          active = false;
          paused = true;
        }
        if (this.queue.length > 0) continue;
        await push.wait((wake) => {
          this.wake = wake;
          return () => (this.wake = undefined);
        });
        continue;
      }
      if (!active) {
        push.emit('active');
        active = true;
        paused = false;
      }
      try {
        const denied = await this.sendBatch(remote, batch, push.aborter.signal);
        delay = 0;
        this.prepared = undefined;
        this.confirm(batch);
        for (const [id, reason] of denied) push.emit('denied', { id, reason });
        push.emit('change', { docs: batch.chunks.map((c) => ({ _id: c.head._id })) });
      } catch (err) {
        if (push.cancelled || this.stopped) break;
        active = false;
        paused = true;
        push.emit('paused', err);
        delay = backOff(delay);
        await push.sleep(delay);
      }
    }
  }

  /** The blobs a confirmed batch completed leave the queue; the checkpoint moves past them. */
  private confirm(batch: Batch): void {
    for (const [blob, n] of batch.perBlob) blob.confirmed += n;
    let last: QueuedBlob | undefined;
    for (let i = 0; i < batch.completes; i++) last = this.queue.shift();
    if (last) this.reportCheckpoint(this.queue.length === 0 ? this.lastSeq : last.seq);
  }

  private reportCheckpoint(seq: number | string | undefined): void {
    if (seq === undefined || seq === this.reportedSeq) return;
    this.reportedSeq = seq;
    this.onProgress(seq);
  }

  /** Reads the next batch from the blob files at the head of the queue; undefined: nothing to do. */
  private async prepare(): Promise<Batch | undefined> {
    const batch: Batch = { chunks: [], completes: 0, perBlob: new Map() };
    let bytes = 0;
    for (let q = 0; q < this.queue.length; q++) {
      const blob = this.queue[q]!;
      const full = () => batch.chunks.length >= this.maxChunks || bytes >= this.maxBytes;
      if (full()) break;
      const r = blob.reading ?? (await this.openBlob(blob));
      if (!r) {
        batch.completes++;
        continue;
      }
      const file = this.options.blobPath(blob.sha256);
      const count = chunkCount(r.size);
      const mine: ChunkToUpload[] = [];
      try {
        while (r.next < count) {
          const length = chunkLength(r.size, r.next);
          if (batch.chunks.length + mine.length >= this.maxChunks) break;
          if (batch.chunks.length + mine.length > 0 && bytes + length > this.maxBytes) break;
          const chunk = this.batchBuf.subarray(bytes, bytes + length);
          await readFully(r.fh, chunk, length, r.next * CHUNK_BYTES, file);
          r.hash.update(chunk);
          mine.push({ head: chunkDocHead(blob.sha256, r.next, r.size, this.options.applianceId, chunk), bytes: chunk });
          bytes += length;
          r.next++;
        }
      } catch (err) {
        this.options.log?.('error', `sync: cannot send blob ${blob.sha256}: ${String(err)}`);
        await r.fh.close().catch(() => undefined);
        batch.completes++;
        continue;
      }
      if (r.next === count) {
        // The whole blob is read: its last chunks go only if it is what its name says.
        await r.fh.close();
        batch.completes++;
        const actual = r.hash.digest('hex');
        if (actual !== blob.sha256) {
          this.options.log?.('error', `sync: cannot send blob ${blob.sha256}: ${file} has SHA-256 ${actual}`);
          continue;
        }
      }
      if (mine.length > 0) batch.perBlob.set(blob, mine.length);
      batch.chunks.push(...mine);
      if (r.next < count) break;
    }
    return batch.completes === 0 && batch.chunks.length === 0 ? undefined : batch;
  }

  private async openBlob(blob: QueuedBlob): Promise<QueuedBlob['reading']> {
    const file = this.options.blobPath(blob.sha256);
    try {
      const fh = await open(file, 'r');
      const size = (await fh.stat()).size;
      blob.reading = { fh, size, next: 0, hash: createHash('sha256') };
      return blob.reading;
    } catch (err) {
      this.options.log?.('error', `sync: cannot send blob ${blob.sha256}: ${String(err)}`);
      return undefined;
    }
  }

  /** Reads the given chunks of one blob (the whole file is hashed and checked). */
  private async readChunks(sha256: string, indices: ReadonlySet<number>): Promise<ChunkToUpload[]> {
    const file = this.options.blobPath(sha256);
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const hash = createHash('sha256');
      const docs: ChunkToUpload[] = [];
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      for (let index = 0; index < chunkCount(size); index++) {
        const length = chunkLength(size, index);
        await readFully(fh, buf, length, index * CHUNK_BYTES, file);
        const bytes = buf.subarray(0, length);
        hash.update(bytes);
        if (indices.has(index))
          docs.push({
            head: chunkDocHead(sha256, index, size, this.options.applianceId, bytes),
            bytes: Buffer.from(bytes),
          });
      }
      const actual = hash.digest('hex');
      if (actual !== sha256) throw new Error(`${file} has SHA-256 ${actual}`);
      return docs;
    } finally {
      await fh.close();
    }
  }

  private async sendBatch(remote: PouchDB.Database, batch: Batch, signal: AbortSignal): Promise<Map<string, string>> {
    if (batch.chunks.length === 0) return new Map();
    return this.send(remote, batch.chunks, signal);
  }

  /**
   * Asks the server which of the chunks it lacks, writes their markers locally and sends the
   * missing ones. Returns the refused ids with the reason; throws when the link fails.
   */
  private async send(
    remote: PouchDB.Database,
    chunks: ChunkToUpload[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const diff: Record<string, string[]> = {};
    for (const { head } of chunks) diff[head._id] = [head._rev!];
    const answer = (await remote.revsDiff(diff)) as Record<string, { missing?: string[] }>;
    const missing = chunks.filter(({ head }) => answer[head._id]?.missing?.includes(head._rev!));
    // Markers first: the pull must find these revisions here before the server has them.
    const markers = chunks.map((c) => c.head) as unknown as PouchDB.Doc[];
    const written = await this.options.db.bulkDocs(markers, { new_edits: false });
    for (const w of written) {
      if ('error' in w && w.error) throw new Error(`writing ${w.id ?? '?'} failed: ${w.message ?? w.name ?? '?'}`);
    }
    const denied = new Map<string, string>();
    if (missing.length === 0) return denied;
    const rows = await uploadChunks(this.options.link, this.options.hallId, missing, signal);
    for (const r of rows) {
      if (!r.error || r.id === undefined) continue;
      const reason = r.reason ?? r.error;
      if (r.error === 'forbidden' || r.error === 'unauthorized') denied.set(r.id, reason);
      else throw Object.assign(new Error(`${r.id}: ${reason}`), { reason });
    }
    if (denied.size === 0) return denied;
    // A refusal of a revision the server holds is no refusal: an upload cut off before its answer
    // may still have been stored after the next _revs_diff asked, so the retry sends what is
    // there, and the rules refuse it as an edit ("exists already").
    const again: Record<string, string[]> = {};
    for (const { head } of missing) if (denied.has(head._id)) again[head._id] = [head._rev!];
    const held = (await remote.revsDiff(again)) as Record<string, { missing?: string[] }>;
    for (const id of Object.keys(again)) if (!held[id]?.missing?.includes(again[id]![0]!)) denied.delete(id);
    return denied;
  }
}
