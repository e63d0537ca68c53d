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
import { hash } from 'node:crypto';
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

/** A record's checksum: the first 16 hex digits of SHA-256 of its json (text, or its UTF-8 bytes). */
export const recordChecksum = (json: string | Uint8Array): string => hash('sha256', json, 'hex').slice(0, 16);

/** Where the journal ends, and its last record (for the index checkpoint). */
export interface JournalPosition {
  bytes: number;
  lastRecord: { offset: number; checksum: string } | null;
}

/** How much of the file is read at a time when the journal is opened. */
const READ_CHUNK = 1 << 20;

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
    private durable: JournalPosition,
  ) {}

  /** The journal on disk: every record written and fdatasynced so far, and the last of them. */
  get position(): JournalPosition {
    return this.durable;
  }

  /**
   * Opens (or creates) the journal in `dir`, cuts off a torn tail, and hands every complete
   * record's documents, in order, to `onRecord` (with the byte offsets where the record starts
   * and ends), or, without `onRecord`, returns them all in `docs`. The file is read in chunks, so
   * a journal of any size is replayed in bounded memory. A damaged record followed by more bytes
   * throws JournalCorruptError, after `onRecord` has seen the records before it.
   */
  static async open(
    dir: string,
    onRecord?: (docs: JournalDoc[], position: { start: number; end: number }) => void | Promise<void>,
  ): Promise<{ journal: Journal; docs: JournalDoc[]; tornBytes: number; records: number; position: JournalPosition }> {
    await mkdir(dir, { recursive: true });
    const filePath = path.join(dir, 'journal.log');
    const file = await open(filePath, 'a+');
    const docs: JournalDoc[] = [];
    let records = 0;
    let validEnd = 0;
    let lastRecord: JournalPosition['lastRecord'] = null;
    try {
      const size = (await file.stat()).size;
      // buf[head, tail) holds the file's bytes from `validEnd` up to what has been read so far;
      // one buffer is reused (and grown only for a record longer than it).
      let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(size, 1)));
      let head = 0;
      let tail = 0;
      let scanned = 0;
      let readTo = 0;
      for (;;) {
        const found = buf.subarray(head + scanned, tail).indexOf(0x0a);
        if (found === -1) {
          if (readTo >= size) break; // no LF before the end: a torn last record (or nothing)
          scanned = tail - head;
          if (head > 0) {
            buf.copy(buf, 0, head, tail);
            tail -= head;
            head = 0;
          }
          if (tail === buf.length) {
            const bigger = Buffer.allocUnsafe(buf.length * 2);
            buf.copy(bigger, 0, 0, tail);
            buf = bigger;
          }
          const { bytesRead } = await file.read(buf, tail, Math.min(buf.length - tail, size - readTo), readTo);
          if (bytesRead === 0) break;
          readTo += bytesRead;
          tail += bytesRead;
          continue;
        }
        const lf = scanned + found; // relative to head
        const line = buf.subarray(head, head + lf);
        const valid =
          line.length > 17 &&
          line[16] === 0x09 &&
          line.subarray(0, 16).toString('latin1') === recordChecksum(line.subarray(17));
        if (!valid) {
          if (validEnd + lf + 1 < size) {
            throw new JournalCorruptError(
              `${filePath}: record at byte ${validEnd} is damaged and is followed by more records; refusing to start. ` +
                'Keep a copy of the data folder and ask for support.',
            );
          }
          break; // a complete but invalid last line: torn as well
        }
        const recordDocs = (JSON.parse(line.subarray(17).toString('utf8')) as { docs: JournalDoc[] }).docs;
        const start = validEnd;
        validEnd += lf + 1;
        lastRecord = { offset: start, checksum: line.subarray(0, 16).toString('latin1') };
        records++;
        head += lf + 1;
        scanned = 0;
        if (onRecord) {
          const done = onRecord(recordDocs, { start, end: validEnd });
          if (done) await done;
        } else {
          for (const d of recordDocs) docs.push(d);
        }
      }
      const tornBytes = size - validEnd;
      if (tornBytes > 0) {
        await file.truncate(validEnd);
        await file.datasync();
      }
      await fsyncDir(dir);
      const position = { bytes: validEnd, lastRecord };
      return { journal: new Journal(file, filePath, position), docs, tornBytes, records, position };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /** Appends documents as one record; resolves once they are on disk (fdatasync done). */
  append(docs: readonly JournalDoc[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const json = JSON.stringify({ docs });
    const bytes = Buffer.from(`${recordChecksum(json)}\t${json}\n`, 'utf8');
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
        const last = batch[batch.length - 1];
        if (last) {
          this.durable = {
            bytes: this.durable.bytes + bytes.length,
            lastRecord: {
              offset: this.durable.bytes + bytes.length - last.bytes.length,
              checksum: last.bytes.subarray(0, 16).toString('latin1'),
            },
          };
        }
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
