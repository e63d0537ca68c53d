import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, JournalCorruptError } from './journal.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'journal-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const doc = (i: number) => ({ _id: `event:e:box:${String(i).padStart(10, '0')}`, n: i, text: 'ü€' });

describe('journal', () => {
  it('returns every appended document in order after reopening', async () => {
    const { journal } = await Journal.open(dir);
    await journal.append([doc(1), doc(2)]);
    await journal.append([doc(3)]);
    await journal.close();
    const again = await Journal.open(dir);
    expect(again.docs).toEqual([doc(1), doc(2), doc(3)]);
    expect(again.tornBytes).toBe(0);
    await again.journal.close();
  });

  it('reads records across read-chunk boundaries, and records longer than a chunk', async () => {
    const { journal } = await Journal.open(dir);
    const small = Array.from({ length: 5_000 }, (_, i) => ({ ...doc(i), pad: 'x'.repeat(i % 700) }));
    const big = { _id: 'submission:e:S1:1', text: 'ü'.repeat(1_500_000) }; // 3 MB of UTF-8
    await journal.append(small.slice(0, 2_500));
    for (const d of small.slice(2_500, 4_000)) await journal.append([d]);
    await journal.append([big]);
    for (const d of small.slice(4_000)) await journal.append([d]);
    const { position } = journal;
    await journal.close();
    const seen: { ids: string[]; start: number; end: number }[] = [];
    const again = await Journal.open(dir, (docs, at) => {
      seen.push({ ids: docs.map((d) => d._id), ...at });
    });
    expect(again.docs).toEqual([]);
    expect(seen.flatMap((r) => r.ids)).toEqual(
      [...small.slice(0, 4_000), big, ...small.slice(4_000)].map((d) => d._id),
    );
    expect(seen[0]?.start).toBe(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]?.start).toBe(seen[i - 1]?.end);
    expect(again.position).toEqual(position);
    expect(again.position.bytes).toBe((await readFile(path.join(dir, 'journal.log'))).length);
    const whole = await Journal.open(dir);
    expect(whole.docs.find((d) => d._id === big._id)).toEqual(big);
    await again.journal.close();
    await whole.journal.close();
  });

  it('group-commits concurrent appends into few fsyncs', async () => {
    const { journal } = await Journal.open(dir);
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append([doc(i)])));
    // The first append syncs alone; the other 199 queue behind it and go out together.
    expect(journal.syncCount).toBeLessThanOrEqual(3);
    await journal.close();
    const again = await Journal.open(dir);
    expect(again.docs).toHaveLength(200);
    await again.journal.close();
  });

  it('cuts off a torn last record (power cut mid-write) and keeps the rest', async () => {
    const { journal } = await Journal.open(dir);
    await journal.append([doc(1)]);
    await journal.close();
    const file = path.join(dir, 'journal.log');
    const good = await readFile(file);
    await appendFile(file, '0123456789abcdef\t{"docs":[{"_id":"half'); // no newline: torn
    const reopened = await Journal.open(dir);
    expect(reopened.docs).toEqual([doc(1)]);
    expect(reopened.tornBytes).toBeGreaterThan(0);
    expect(await readFile(file)).toEqual(good);
    // Appends continue after the cut.
    await reopened.journal.append([doc(2)]);
    await reopened.journal.close();
    const third = await Journal.open(dir);
    expect(third.docs).toEqual([doc(1), doc(2)]);
    await third.journal.close();
  });

  it('cuts off a complete last line whose checksum is wrong', async () => {
    const { journal } = await Journal.open(dir);
    await journal.append([doc(1)]);
    await journal.close();
    await appendFile(path.join(dir, 'journal.log'), `${'0'.repeat(16)}\t{"docs":[]}\n`);
    const reopened = await Journal.open(dir);
    expect(reopened.docs).toEqual([doc(1)]);
    await reopened.journal.close();
  });

  it('refuses to start when a damaged record is followed by good ones', async () => {
    const { journal } = await Journal.open(dir);
    await journal.append([doc(1)]);
    await journal.append([doc(2)]);
    await journal.close();
    const file = path.join(dir, 'journal.log');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"n":1', '"n":7'));
    await expect(Journal.open(dir)).rejects.toBeInstanceOf(JournalCorruptError);
  });
});
