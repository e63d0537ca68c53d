/**
 * A minimal tar writer (POSIX ustar, regular files and folders only) for the collect download:
 * each entry is a 512-byte header (name, mode, size, mtime, checksum, `ustar\0` `00`), then the
 * file's bytes padded to 512, and the archive ends with two zero blocks. Names over 100 bytes go
 * into the 155-byte prefix field, split at a `/`. Files are read 64 KiB at a time, never whole.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  field(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** Splits a path into ustar's prefix and name fields, or throws when it does not fit. */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new Error(`the path ${name} is too long for a tar archive`);
}

export function tarHeader(name: string, size: number, mtime: Date, type: 'file' | 'dir'): Buffer {
  const header = Buffer.alloc(BLOCK);
  const split = splitName(type === 'dir' ? `${name}/` : name);
  field(header, 0, 100, split.name);
  octal(header, 100, 8, type === 'dir' ? 0o755 : 0o644);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  octal(header, 124, 12, type === 'dir' ? 0 : size);
  octal(header, 136, 12, Math.floor(mtime.getTime() / 1000));
  field(header, 148, 8, ' '.repeat(8));
  field(header, 156, 1, type === 'dir' ? '5' : '0');
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  field(header, 345, 155, split.prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}

/** The files and folders under `root`, relative, folders before their contents, sorted. */
async function entries(root: string, dir = ''): Promise<{ rel: string; dir: boolean }[]> {
  const names = (await readdir(path.join(root, dir), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const out: { rel: string; dir: boolean }[] = [];
  for (const d of names) {
    const rel = dir === '' ? d.name : `${dir}/${d.name}`;
    if (d.isDirectory()) out.push({ rel, dir: true }, ...(await entries(root, rel)));
    else if (d.isFile()) out.push({ rel, dir: false });
  }
  return out;
}

/** The tar archive of a folder's contents, under `top/`, as a stream of buffers. */
export async function* tarFolder(root: string, top: string): AsyncGenerator<Buffer> {
  const now = new Date();
  yield tarHeader(top, 0, now, 'dir');
  for (const entry of await entries(root)) {
    const name = `${top}/${entry.rel}`;
    const file = path.join(root, entry.rel);
    if (entry.dir) {
      yield tarHeader(name, 0, now, 'dir');
      continue;
    }
    const { size, mtime } = await stat(file);
    yield tarHeader(name, size, mtime, 'file');
    const fh = await open(file, 'r');
    try {
      let done = 0;
      while (done < size) {
        const buf = Buffer.alloc(Math.min(64 * 1024, size - done));
        const { bytesRead } = await fh.read(buf, 0, buf.length, done);
        if (bytesRead === 0) throw new Error(`${file} got shorter while it was archived`);
        done += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
    if (size % BLOCK !== 0) yield Buffer.alloc(BLOCK - (size % BLOCK));
  }
  yield Buffer.alloc(BLOCK * 2);
}
