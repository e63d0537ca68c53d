/**
 * The institution's CLI (`npm run sync -- ...`) against the stand-in central server: usage,
 * validation errors with file:line:column, documents exactly as the appliance's import makes
 * them, install-design, and collect refusing to call incomplete results complete.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, testExam } from '../support/appliance.js';
import { toExamDoc, toExamineeDoc } from '../../domain/exam-import.js';
import { rosterEntrySchema } from '../../domain/exam-format.js';
import { runSyncCli } from '../../sync/cli.js';
import { openCentralDb } from '../../sync/central-link.js';
import { startCentralServer, type CentralServer } from '../support/central-server.js';

describe('npm run sync', () => {
  let server: CentralServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startCentralServer();
    dir = await mkdtemp(path.join(tmpdir(), 'sync-cli-'));
    env = { CENTRAL_URL: server.url, CENTRAL_USER: server.admin.username, CENTRAL_PASSWORD: server.admin.password };
  });
  afterAll(async () => {
    await server.close();
    await removeDir(dir);
  });

  async function run(args: string[], runEnv = env, stdin = '') {
    let out = '';
    let err = '';
    const code = await runSyncCli(args, runEnv, {
      out: (t) => (out += t),
      err: (t) => (err += t),
      readStdin: async () => stdin,
    });
    return { code, out, err };
  }

  it('prints its usage, and refuses unknown commands and missing flags with exit 2', async () => {
    expect(await run([])).toMatchObject({ code: 2, out: expect.stringContaining('publish <exam.json>') });
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown command') });
    expect(await run(['collect', '--out', dir])).toMatchObject({ code: 2, err: expect.stringContaining('--hall') });
    expect(await run(['install-design', '--hall', 'Bad Hall'])).toMatchObject({ code: 2 });
    expect(await run(['install-design', '--hall', 'h1'], {})).toMatchObject({
      code: 2,
      err: expect.stringContaining('CENTRAL_URL'),
    });
  });

  it('says in plain words when the admin credentials are wrong, without printing them', async () => {
    const r = await run(['install-design', '--hall', 'h1'], { ...env, CENTRAL_PASSWORD: 'wrong-pw-123' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('(401)');
    expect(r.err + r.out).not.toContain('wrong-pw-123');
  });

  it('refuses a bad exam file with file:line:column, and writes nothing', async () => {
    const exam = path.join(dir, 'bad-exam.json');
    await writeFile(exam, '{\n  "formatVersion": 1,\n  "examId": 42\n}\n');
    const roster = path.join(dir, 'roster.csv');
    await writeFile(roster, 'studentId,name,accessCode\nS1,Ada,AAAA1111BBBB\n');
    const r = await run(['publish', exam, roster, '--hall', 'h1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad-exam\.json:3:\d+ examId: /);
  });

  it('publishes exactly what the appliance’s import stores, and installs the design with the password from stdin', async () => {
    const examJson = testExam(Date.parse('2026-12-01T09:00:00Z'), { examId: 'phys-1' });
    const exam = path.join(dir, 'exam.json');
    await writeFile(exam, JSON.stringify(examJson));
    const roster = path.join(dir, 'roster.csv');
    await writeFile(roster, 'studentId,name,accessCode\nS1,Ada,AAAA1111BBBB\nS2,Alan,CCCC2222DDDD\n');
    const { CENTRAL_PASSWORD: password, ...noPassword } = env;
    const design = await run(['install-design', '--hall', 'h2', '--password-stdin'], noPassword, `${password}\n`);
    expect(design).toMatchObject({ code: 0, out: expect.stringContaining('design document created') });
    expect(await run(['publish', exam, roster, '--hall', 'h2'])).toMatchObject({ code: 0 });
    const db = openCentralDb(server.link(server.admin), 'h2');
    const { _rev: _r1, ...storedExam } = await db.get('exam:phys-1');
    expect(storedExam).toEqual(JSON.parse(JSON.stringify(toExamDoc(examJson))));
    const { _rev: _r2, ...storedS1 } = await db.get('examinee:phys-1:S1');
    const entry = rosterEntrySchema.parse({ studentId: 'S1', name: 'Ada', accessCode: 'AAAA1111BBBB' });
    expect(storedS1).toEqual(JSON.parse(JSON.stringify(toExamineeDoc('phys-1', entry))));
    expect(JSON.stringify(storedS1)).not.toContain('AAAA1111BBBB');
    // Publishing the same files again changes nothing.
    expect((await run(['publish', exam, roster, '--hall', 'h2'])).out).toContain(
      'exam unchanged; examinees 0 new, 0 updated, 2 unchanged',
    );
  });

  it('collect exits 1 and names a submission whose answer file has not arrived', async () => {
    const db = openCentralDb(server.link(server.admin), 'h3', { create: true });
    await db.put({
      _id: 'submission:phys-1:S1:1',
      type: 'submission',
      examId: 'phys-1',
      studentId: 'S1',
      n: 1,
      applianceId: 'box-1',
      sha256: 'c'.repeat(64),
      size: 10,
      submissionType: 'manual',
      receivedAt: Date.parse('2026-12-01T10:00:00Z'),
      late: false,
    });
    const r = await run(['collect', '--hall', 'h3', '--out', path.join(dir, 'out')]);
    expect(r).toMatchObject({
      code: 1,
      err: expect.stringContaining('missing (not synced yet?): submission:phys-1:S1:1'),
    });
    expect(r.out).toContain('Collected 0 of 1 submissions');
  });
});
