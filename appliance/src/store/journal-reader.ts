/**
 * A read-only reader of the journal (`journal/journal.log`), for checks that must not change it
 * (verify-log). It applies the format rules of Journal.open (journal.ts):
 *
 *   <first 16 hex digits of SHA-256(json)> TAB <json> LF        json = {"docs":[...]}
 *
 * A record is valid only with its checksum and its LF. An invalid last record is a torn tail (a
 * power cut mid-write; never acknowledged; Journal.open cuts it off). An invalid record followed
 * by more bytes is damage (Journal.open refuses to start). Where Journal.open stops, this reader
 * notes the damage and reads on, so that a check can still name what the later records hold. A
 * record whose checksum matches but whose json is not `{"docs":[...]}` is damage too.
 *
 * The file is opened read-only and never truncated, created or fsynced.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { JournalDoc } from './journal.js';

export const JOURNAL_FILE = 'journal.log';

/** The checksum of a record: the first 16 hex digits of SHA-256 of its json. */
export const journalChecksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);

/** One record's line as the journal writes it (checksum, TAB, json, LF). */
export function journalRecordLine(docs: readonly JournalDoc[]): string {
  const json = JSON.stringify({ docs });
  return `${journalChecksum(json)}\t${json}\n`;
}

/** A valid record: where it is in the file, and its documents in order. */
export interface JournalRecord {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the record's first byte. */
  offset: number;
  docs: JournalDoc[];
}

/** A record that is not valid and is followed by more bytes (corruption, not a torn write). */
export interface DamagedRecord {
  line: number;
  offset: number;
  bytes: number;
  problem: 'bad-checksum' | 'not-a-record';
}

export interface ParsedJournal {
  records: JournalRecord[];
  damaged: DamagedRecord[];
  /** Bytes of a torn last record (0 when the file ends with a valid record). */
  tornBytes: number;
  /** Size of the file. */
  bytes: number;
}

const isRecord = (value: unknown): value is { docs: JournalDoc[] } =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as { docs?: unknown }).docs) &&
  (value as { docs: unknown[] }).docs.every(
    (d) => typeof d === 'object' && d !== null && typeof (d as { _id?: unknown })._id === 'string',
  );

/** Parses a journal file's content (pure; see the format above). */
export function parseJournal(content: Buffer): ParsedJournal {
  const records: JournalRecord[] = [];
  const damaged: DamagedRecord[] = [];
  let tornBytes = 0;
  let offset = 0;
  for (let line = 1; offset < content.length; line++) {
    const lf = content.indexOf(0x0a, offset);
    const end = lf === -1 ? content.length : lf;
    const text = content.subarray(offset, end).toString('utf8');
    const tab = text.indexOf('\t');
    const json = tab === -1 ? '' : text.slice(tab + 1);
    const checksumOk = lf !== -1 && tab === 16 && journalChecksum(json) === text.slice(0, 16);
    const isLast = lf === -1 || lf + 1 >= content.length;
    if (!checksumOk) {
      // Same rule as Journal.open: only the last record may be torn.
      if (isLast) {
        tornBytes = content.length - offset;
        break;
      }
      damaged.push({ line, offset, bytes: lf + 1 - offset, problem: 'bad-checksum' });
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch {
        parsed = undefined;
      }
      if (isRecord(parsed)) records.push({ line, offset, docs: parsed.docs });
      else damaged.push({ line, offset, bytes: lf + 1 - offset, problem: 'not-a-record' });
    }
    if (lf === -1) break;
    offset = lf + 1;
  }
  return { records, damaged, tornBytes, bytes: content.length };
}

/** Reads and parses `<dir>/journal.log` without changing it; `exists` is false when there is none. */
export async function readJournal(dir: string): Promise<ParsedJournal & { filePath: string; exists: boolean }> {
  const filePath = path.join(dir, JOURNAL_FILE);
  let file;
  try {
    file = await open(filePath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { filePath, exists: false, records: [], damaged: [], tornBytes: 0, bytes: 0 };
    throw err;
  }
  try {
    return { filePath, exists: true, ...parseJournal(await file.readFile()) };
  } finally {
    await file.close();
  }
}
