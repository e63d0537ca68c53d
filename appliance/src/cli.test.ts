import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../domain/clock.js';
import { runCli } from './cli.js';
import type { Receipt } from './crypto/receipts.js';
import { DEMO_EXAM_FILE, DEMO_ROSTER_FILE } from './demo.js';
import { HallStore } from './store/hall-store.js';
import { ExamineeClient, openTestAppliance, removeDir, testExam } from '../../tests/support/appliance.js';

let dir: string;
let out: string;
let err: string;

async function cli(...args: string[]): Promise<number> {
  out = '';
  err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return await runCli(args);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-test-'));
  vi.stubEnv('PROCTOR_DATA_DIR', path.join(dir, 'data'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe('appliance import', () => {
  it('stores the exam and roster and prints the exam password', async () => {
    expect(await cli('import', DEMO_EXAM_FILE, DEMO_ROSTER_FILE)).toBe(0);
    expect(out).toMatch(/Imported "Physics 101 — Midterm" \(demo-physics-101\) with 30 examinees/);
    expect(out).toMatch(/Exam password .*: [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    const store = await HallStore.open({ dataDir: path.join(dir, 'data'), clock: new FakeClock(0), hallId: 'h' });
    expect(store.projection.exams.get('demo-physics-101')?.examinees.size).toBe(30);
    await store.close();
  });

  it('names file, line and column of each fault and stores nothing', async () => {
    const exam = (await readFile(DEMO_EXAM_FILE, 'utf8')).replace(
      '"durationMinutes": 60',
      '"durationMinutes": "sixty"',
    );
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, exam);
    expect(await cli('import', bad, DEMO_ROSTER_FILE)).toBe(1);
    const line = exam.split('\n').findIndex((l) => l.includes('"sixty"')) + 1;
    expect(err).toContain(`${bad}:${line}:`);
    expect(err).toMatch(/durationMinutes: expected number, received string/);
    expect(await cli('import', DEMO_EXAM_FILE, path.join(dir, 'roster.txt'))).toBe(2);
    expect(err).toMatch(/must be a \.csv or \.json file/);
  });

  it('explains usage for unknown commands and missing arguments', async () => {
    expect(await cli('frobnicate')).toBe(2);
    expect(err).toMatch(/unknown command "frobnicate"/);
    expect(await cli('import', DEMO_EXAM_FILE)).toBe(2);
    expect(await cli('import', path.join(dir, 'missing.json'), DEMO_ROSTER_FILE)).toBe(2);
    expect(err).toMatch(/cannot read .*missing\.json: ENOENT/);
  });
});

describe('appliance verify-receipt', () => {
  it('accepts a genuine receipt and refuses an edited one or a foreign key', async () => {
    const clock = new FakeClock(Date.parse('2026-06-01T09:10:00Z'));
    const appliance = await openTestAppliance(clock, {
      exam: testExam(Date.parse('2026-06-01T09:00:00Z')),
      dataDir: path.join(dir, 'data'),
    });
    const ada = new ExamineeClient(appliance.app, 'S1', 'AAAA1111BBBB');
    await ada.signIn();
    await ada.get('/api/exam/package');
    await ada.get('/api/exam/key');
    const response = await (await ada.submit(ada.answerFile({ q1: 'a' }))).text();
    await appliance.close();
    const receiptFile = path.join(dir, 'receipt.json');
    await writeFile(receiptFile, response);

    expect(await cli('verify-receipt', receiptFile)).toBe(0); // the data folder's key
    expect(out).toMatch(/^VALID receipt: exam exam-1, student S1, submission 1 \(manual\)/);

    const { receipt } = JSON.parse(response) as { receipt: Receipt };
    await writeFile(receiptFile, JSON.stringify({ ...receipt, payload: { ...receipt.payload, studentId: 'S2' } }));
    expect(await cli('verify-receipt', receiptFile)).toBe(1);
    expect(err).toMatch(/INVALID: signature does not match/);

    const other = await openTestAppliance(clock, { dataDir: path.join(dir, 'other') });
    const keyFile = path.join(dir, 'other.pem');
    await writeFile(keyFile, other.store.secrets.value.receiptPublicKeyPem);
    await other.close();
    await writeFile(receiptFile, JSON.stringify(receipt));
    expect(await cli('verify-receipt', receiptFile, '--public-key', keyFile)).toBe(1);
    expect(err).toMatch(/INVALID: signed by a different key/);
    await removeDir(path.join(dir, 'other'));
  });
});
