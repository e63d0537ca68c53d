import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, JournalCorruptError } from './journal.js';
import { journalChecksum, journalRecordLine, parseJournal, readJournal } from './journal-reader.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'journal-reader-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RECORDS = [
  [{ _id: 'a', n: 1 }],
  [
    { _id: 'b', n: 2 },
    { _id: 'c', text: 'tab\there, ünïcode' },
  ],
  [{ _id: 'd' }],
];

async function writtenByJournal(): Promise<string> {
  const { journal } = await Journal.open(dir);
  for (const docs of RECORDS) await journal.append(docs);
  await journal.close();
  return path.join(dir, 'journal.log');
}

describe('the read-only journal reader', () => {
  it('reads what Journal writes, record by record, and changes nothing', async () => {
    const file = await writtenByJournal();
    const before = await stat(file);
    const read = await readJournal(dir);
    expect(read).toMatchObject({ exists: true, damaged: [], tornBytes: 0, bytes: before.size });
    expect(read.records.map((r) => r.docs)).toEqual(RECORDS);
    expect(read.records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(await readFile(file, 'utf8')).toBe(RECORDS.map((docs) => journalRecordLine(docs)).join(''));
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  });

  it('agrees with Journal.open on a torn tail, which it reports but does not cut off', async () => {
    const file = await writtenByJournal();
    const torn = `${await readFile(file, 'utf8')}${journalRecordLine([{ _id: 'e' }]).slice(0, 20)}`;
    await writeFile(file, torn);
    const read = await readJournal(dir);
    expect(read.tornBytes).toBe(20);
    expect(await readFile(file, 'utf8')).toBe(torn);

    const { journal, docs, tornBytes } = await Journal.open(dir);
    await journal.close();
    expect(tornBytes).toBe(read.tornBytes);
    expect(docs).toEqual(read.records.flatMap((r) => r.docs));
  });

  it('reports damage where Journal.open refuses to start, and reads on', async () => {
    const file = await writtenByJournal();
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"n":2', '"n":3');
    await writeFile(file, lines.join('\n'));
    const read = await readJournal(dir);
    expect(read.damaged).toEqual([
      { line: 2, offset: lines[0]!.length + 1, bytes: Buffer.byteLength(lines[1]!) + 1, problem: 'bad-checksum' },
    ]);
    expect(read.records.map((r) => r.line)).toEqual([1, 3]);
    await expect(Journal.open(dir)).rejects.toThrow(JournalCorruptError);
  });

  it('counts a record with a good checksum but no docs array as damage; a missing file as empty', async () => {
    const json = '{"docs":"nope"}';
    const content = Buffer.from(`${journalChecksum(json)}\t${json}\n${journalRecordLine([{ _id: 'x' }])}`);
    expect(parseJournal(content)).toMatchObject({
      damaged: [{ line: 1, problem: 'not-a-record' }],
      records: [{ line: 2, docs: [{ _id: 'x' }] }],
    });
    expect(await readJournal(path.join(dir, 'none'))).toMatchObject({ exists: false, records: [], bytes: 0 });
  });
});
