/**
 * The journal: an append-only, fsynced log of appliance-owned documents. A write is
 * acknowledged only after its journal record is on disk; PouchDB (LevelDB, not fsynced) is an
 * index that is rebuilt from the journal at start.
 *
 * File format (`journal/journal.log`): one record per line,
 *   <first 16 hex digits of SHA-256(json)> TAB <json> LF
 * where json is `{"docs":[...]}`. A record is valid only with its checksum and its LF; a power
 * cut can leave a torn last record, which opening cuts off (it was never acknowledged). A bad
 * record followed by valid ones is corruption and stops the start with a clear message.
 *
 * Group commit: appends that arrive while a write + fdatasync is in flight wait and go out
 * together in the next one, so a storm of uploads costs a few fsyncs, not one each.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from './fs-durable.js';

/** A document as the journal keeps it (any JSON object with an _id). */
export interface JournalDoc {
  _id: string;
  [key: string]: unknown;
}

interface Pending {
  bytes: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

const checksum = (json: string) => createHash('sha256').update(json).digest('hex').slice(0, 16);

/** Thrown at start when the journal is damaged other than at its tail. */
export class JournalCorruptError extends Error {}

export class Journal {
  private queue: Pending[] = [];
  private flushing = false;
  private failed: Error | undefined;
  /** Number of write+fdatasync rounds so far (for tests and benchmarks). */
  syncCount = 0;

  private constructor(
    private readonly file: FileHandle,
    readonly filePath: string,
  ) {}

  /**
   * Opens (or creates) the journal in `dir`, cuts off a torn tail, and returns every complete
   * record's documents in order, for replay.
   */
  static async open(dir: string): Promise<{ journal: Journal; docs: JournalDoc[]; tornBytes: number }> {
    await mkdir(dir, { recursive: true });
    const filePath = path.join(dir, 'journal.log');
    const file = await open(filePath, 'a+');
    const content = await file.readFile();
    const docs: JournalDoc[] = [];
    let offset = 0;
    let validEnd = 0;
    while (offset < content.length) {
      const lf = content.indexOf(0x0a, offset);
      const line = content.subarray(offset, lf === -1 ? content.length : lf).toString('utf8');
      const tab = line.indexOf('\t');
      const json = tab === -1 ? '' : line.slice(tab + 1);
      const valid = lf !== -1 && tab === 16 && checksum(json) === line.slice(0, 16);
      if (!valid) {
        if (lf !== -1 && lf + 1 < content.length) {
          await file.close();
          throw new JournalCorruptError(
            `${filePath}: record at byte ${offset} is damaged and is followed by more records; refusing to start. ` +
              'Keep a copy of the data folder and ask for support.',
          );
        }
        break;
      }
      docs.push(...(JSON.parse(json) as { docs: JournalDoc[] }).docs);
      offset = lf + 1;
      validEnd = offset;
    }
    const tornBytes = content.length - validEnd;
    if (tornBytes > 0) {
      await file.truncate(validEnd);
      await file.datasync();
    }
    await fsyncDir(dir);
    return { journal: new Journal(file, filePath), docs, tornBytes };
  }

  /** Appends documents as one record; resolves once they are on disk (fdatasync done). */
  append(docs: readonly JournalDoc[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const json = JSON.stringify({ docs });
    const bytes = Buffer.from(`${checksum(json)}\t${json}\n`, 'utf8');
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const bytes = Buffer.concat(batch.map((p) => p.bytes));
        // The file is opened for appending; a short write (disk full, signal) continues where it stopped.
        for (let written = 0; written < bytes.length;) {
          const { bytesWritten } = await this.file.write(bytes, written, bytes.length - written);
          if (bytesWritten === 0)
            throw new Error(`journal write made no progress (${written} of ${bytes.length} bytes)`);
          written += bytesWritten;
        }
        await this.file.datasync();
        this.syncCount++;
        for (const p of batch) p.resolve();
      } catch (err) {
        // After a failed fsync the kernel may have dropped the dirty pages: nothing written
        // from here on could be trusted, so every later append fails too.
        this.failed = err instanceof Error ? err : new Error(String(err));
        for (const p of [...batch, ...this.queue]) p.reject(this.failed);
        this.queue = [];
      }
    }
    this.flushing = false;
  }

  /** True after a write or fsync failed; the process should stop and restart from the journal. */
  get broken(): boolean {
    return this.failed !== undefined;
  }

  async close(): Promise<void> {
    while (this.flushing) await new Promise((r) => setImmediate(r));
    await this.file.close();
  }
}
