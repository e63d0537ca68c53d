/**
 * The collect result as a download: the institution's own collect (sync/central/institution.ts,
 * the same function as `npm run sync -- collect`) writes into a temporary folder as the user,
 * then the folder goes out as a gzipped tar (`collect-<hall>[-<exam>]/`: submissions.csv, the
 * answer files, collect-report.json), read from disk a piece at a time, and is deleted when the
 * download ends or is cancelled.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { collectSubmissions } from '../../sync/central/institution.js';
import { tarFolder } from './tar.js';

export interface CollectDownload {
  fileName: string;
  submissions: number;
  written: number;
  missing: number;
  mismatched: number;
  body: ReadableStream<Uint8Array>;
}

export async function collectDownload(
  db: PouchDB.Database,
  hallId: string,
  examId: string | undefined,
): Promise<CollectDownload> {
  const top = `collect-${hallId}${examId === undefined ? '' : `-${examId.replace(/[^A-Za-z0-9._-]/g, '_')}`}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'portal-collect-'));
  const out = path.join(dir, top);
  let cleaned = false;
  const clean = async () => {
    if (cleaned) return;
    cleaned = true;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const report = await collectSubmissions(db, out, examId);
    await writeFile(
      path.join(out, 'collect-report.json'),
      `${JSON.stringify(
        {
          hallId,
          examId: examId ?? null,
          submissions: report.submissions,
          written: report.written,
          missing: report.missing,
          mismatched: report.mismatched,
        },
        null,
        2,
      )}\n`,
    );
    const tar = Readable.from(tarFolder(out, top));
    const gz = tar.pipe(createGzip());
    tar.on('error', (err) => gz.destroy(err));
    gz.on('close', () => void clean());
    return {
      fileName: `${top}.tar.gz`,
      submissions: report.submissions,
      written: report.written,
      missing: report.missing.length,
      mismatched: report.mismatched.length,
      body: Readable.toWeb(gz) as ReadableStream<Uint8Array>,
    };
  } catch (err) {
    await clean();
    throw err;
  }
}
