/** Small helpers for writes that must survive a power cut (fsync of files and directories). */
import { open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** fsyncs a directory, so a rename or a new file in it is on disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a whole file atomically and durably: temp file, fsync, rename, fsync the directory. */
export async function writeFileDurably(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await fsyncDir(path.dirname(file));
}
