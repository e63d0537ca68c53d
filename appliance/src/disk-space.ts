/**
 * The data disk's free space, for readers that cannot wait (the Exam info tab's snapshot cost,
 * /api/health for the doctor): the last `statfs` result, refreshed in the background when it is
 * older than `maxAgeMs`. No timer: an idle appliance does not poll its disk.
 */
import { statfs } from 'node:fs/promises';

export class DiskSpace {
  private freeBytes: number | undefined;
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly maxAgeMs = 30_000,
  ) {}

  /** The free bytes last read (undefined before the first read finished); starts a fresh read when stale. */
  latest(): number | undefined {
    if (Date.now() - this.readAt > this.maxAgeMs) void this.refresh();
    return this.freeBytes;
  }

  /** Reads the free space now (once at a time). */
  refresh(): Promise<void> {
    this.reading ??= statfs(this.dir)
      .then((s) => {
        this.freeBytes = s.bavail * s.bsize;
        this.readAt = Date.now();
      })
      .catch(() => {
        // A disk that cannot be read is the doctor's finding ("disk space"); here it stays unknown.
        this.readAt = Date.now();
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
