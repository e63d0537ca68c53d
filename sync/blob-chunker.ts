import { blobOfEvent, chunkCount, writeBlobChunks } from './blob-chunks.js';

/** What the chunker needs of the sync's options. */
export interface ChunkerOptions {
  db: PouchDB.Database;
  /** Where a blob file lives. */
  blobPath: (sha256: string) => string;
  applianceId: string;
  log?: (level: 'info' | 'warn' | 'error', line: string) => void;
}

/**
 * Writes blob chunk documents for the blobs this appliance's events name, in the order the
 * events were written, one blob at a time. It follows the local changes feed from its saved seq;
 * the chunk documents are derived from durable blob files, so losing them (or the saved seq) in
 * a crash only means they are written again.
 */
export class BlobChunker {
  private feed: PouchDB.ChangesEmitter | undefined;
  private readonly queue: { sha256: string; size: number; seq: number | string }[] = [];
  /** The blob being turned into chunk documents, if any. */
  private current: { size: number } | undefined;
  private lastSeq: number | string | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly options: ChunkerOptions,
    private readonly onProgress: (seq: number | string) => void,
  ) {}

  start(since: number | string, onAnyChange: () => void): void {
    const { db, applianceId } = this.options;
    this.feed = db.changes({ since, live: true, include_docs: true, return_docs: false });
    this.feed.on('change', (c) => {
      onAnyChange();
      const blob = c.doc && c.doc.applianceId === applianceId ? blobOfEvent(c.doc) : undefined;
      if (blob) this.queue.push({ sha256: blob.sha256, size: Math.max(0, blob.size), seq: c.seq });
      this.lastSeq = c.seq;
      this.kick();
    });
    this.feed.on('error', (err) => {
      if (!this.stopped) this.options.log?.('error', `sync: the local changes feed failed: ${String(err)}`);
    });
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = (async () => {
      while (!this.stopped) {
        const next = this.queue.shift();
        this.current = next;
        if (!next) {
          if (this.lastSeq !== undefined) this.onProgress(this.lastSeq);
          break;
        }
        try {
          await writeBlobChunks(
            this.options.db,
            this.options.blobPath(next.sha256),
            next.sha256,
            this.options.applianceId,
          );
        } catch (err) {
          if (this.stopped) break;
          this.options.log?.('error', `sync: cannot send blob ${next.sha256}: ${String(err)}`);
        }
      }
    })().finally(() => {
      this.running = undefined;
      this.current = undefined;
      if (this.queue.length > 0 && !this.stopped) this.kick();
    });
  }

  /** Blobs named by events but not yet written as chunk documents: their chunks and bytes. */
  backlog(): { docs: number; bytes: number } {
    let docs = 0;
    let bytes = 0;
    for (const b of this.current ? [this.current, ...this.queue] : this.queue) {
      docs += chunkCount(b.size);
      bytes += b.size;
    }
    return { docs, bytes };
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.feed?.cancel();
    await this.running;
  }
}
