/**
 * Checks one blob file against what names it: that it exists, has the size recorded with it and
 * the SHA-256 it is named by. Read-only (streamed, a megabyte at a time), so it serves the running
 * appliance (a retried upload), verify-log and the doctor beside a running appliance alike.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Where the blob named `sha256` (64 lower-case hex digits, checked by the caller) lives under `dir`. */
export const blobPath = (dir: string, sha256: string) => path.join(dir, sha256.slice(0, 2), sha256);

/** Files up to this size are read whole to be hashed; larger ones a piece of this size at a time. */
const WHOLE_READ_BYTES = 1 << 20;

/** What a blob's content address holds. */
export type BlobCondition =
  { state: 'intact'; size: number } | { state: 'missing' } | { state: 'damaged'; detail: string };

/**
 * The condition of the blob file `file`, named by `sha256`; `size` is the size recorded with it
 * (negative: not recorded, then only the SHA-256 is checked).
 */
export async function inspectBlob(file: string, sha256: string, size: number): Promise<BlobCondition> {
  let actualSize: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) return { state: 'damaged', detail: 'not a regular file' };
    actualSize = s.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'damaged', detail: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  // A size that differs needs no hashing to be told apart.
  if (size >= 0 && actualSize !== size) return { state: 'damaged', detail: `${actualSize} bytes, not ${size}` };
  const hash = createHash('sha256');
  try {
    // A small file (answer files, snapshots, most file answers) in one read; a larger one streamed.
    if (actualSize <= WHOLE_READ_BYTES) hash.update(await readFile(file));
    else
      for await (const chunk of createReadStream(file, { highWaterMark: WHOLE_READ_BYTES }))
        hash.update(chunk as Buffer);
  } catch (err) {
    return { state: 'damaged', detail: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const actual = hash.digest('hex');
  if (actual !== sha256) return { state: 'damaged', detail: `its content has SHA-256 ${actual}` };
  return { state: 'intact', size: actualSize };
}
