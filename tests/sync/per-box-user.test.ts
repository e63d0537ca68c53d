/**
 * The real appliance process syncing as its own CouchDB user against a real pouchdb-server (the
 * local central server of `npm run central`), set up the way docs/sync.md tells a newcomer:
 * add-hall, the box's id from /api/health, add-appliance, the printed PROCTOR_ lines on the box,
 * publish. The exam and roster come down; the examinee's sign-in event, submission and answer
 * file chunks go up under the box's user, its checkpoints stay on the box; remove-appliance cuts
 * the box off (401 in its status).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256HexOfText } from '../../domain/canonical.js';
import { openCentralDb, centralLink } from '../../sync/central-link.js';
import { runSyncCli } from '../../sync/cli.js';
import { startLocalCentral, type LocalCentral } from '../../sync/central/local-server.js';
import {
  ApplianceProcess,
  applianceEnv,
  HttpExaminee,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  startedAMinuteAgo,
  TEST_HALL_ID,
  writeExamFiles,
} from '../support/appliance-process.js';
import { until } from '../support/push-day.js';

const ADMIN = { name: 'institution-admin', password: 'admin-Secret-9931-abc' };
const CHIEF_PASSWORD = 'chief-password-for-sync';

describe('a box syncing as its own user with pouchdb-server', () => {
  let central: LocalCentral;
  let dir: string;
  let appliance: ApplianceProcess | undefined;

  beforeAll(async () => {
    dir = await makeTempDir('per-box-user-');
    central = await startLocalCentral({ dir: path.join(dir, 'central'), admin: ADMIN });
  });
  afterAll(async () => {
    await appliance?.kill();
    await central?.close();
    await removeTempDir(dir);
  });

  it('pulls the published exam and pushes its events, submission and chunks; revoked, it is refused', async () => {
    const adminEnv = { CENTRAL_URL: central.url, CENTRAL_USER: ADMIN.name, CENTRAL_PASSWORD: ADMIN.password };
    const printed: string[] = [];
    const io = { out: (t: string) => printed.push(t), err: (t: string) => printed.push(t), readStdin: async () => '' };
    const dataDir = path.join(dir, 'data');
    expect(await runSyncCli(['add-hall', '--hall', TEST_HALL_ID], adminEnv, io), printed.join('')).toBe(0);

    // The box's id, as a newcomer reads it: /api/health of the box started once without sync.
    const added = await runApplianceCli(
      ['proctor', 'add', 'chief', '--role', 'chief', '--password-stdin'],
      applianceEnv(dataDir),
      `${CHIEF_PASSWORD}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    appliance = await ApplianceProcess.start({ dataDir });
    const { applianceId } = (await (await fetch(`${appliance.baseUrl}/api/health`)).json()) as { applianceId: string };
    expect(await appliance.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    printed.length = 0;
    expect(await runSyncCli(['add-appliance', '--hall', TEST_HALL_ID, '--appliance', applianceId], adminEnv, io)).toBe(
      0,
    );
    const boxEnv = Object.fromEntries(
      printed
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('PROCTOR_'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(boxEnv).sort()).toEqual([
      'PROCTOR_HALL_ID',
      'PROCTOR_SYNC_PASSWORD',
      'PROCTOR_SYNC_URL',
      'PROCTOR_SYNC_USER',
    ]);
    expect(boxEnv.PROCTOR_SYNC_USER).toBe(`appliance-${applianceId}`);

    const files = await writeExamFiles(dir, { startMs: startedAMinuteAgo(), examinees: 1 });
    expect(await runSyncCli(['publish', files.examPath, files.rosterPath, '--hall', TEST_HALL_ID], adminEnv, io)).toBe(
      0,
    );

    appliance = await ApplianceProcess.start({ dataDir, env: boxEnv });
    const base = appliance.baseUrl;
    const examinee = new HttpExaminee(base, files.roster[0]!.studentId, files.roster[0]!.accessCode);
    // The roster comes down with the pull: the examinee can sign in once it is there.
    await until('the roster on the box', async () => (await examinee.signIn()).status === 200, 30_000);
    await examinee.prepare();
    const answers = examinee.answerFile({ q1: 'a' });
    const submitted = await examinee.submit(answers);
    expect([200, 201], await submitted.clone().text()).toContain(submitted.status);

    const hall = openCentralDb(centralLink(central.url, ADMIN.name, ADMIN.password), TEST_HALL_ID);
    const docsWithPrefix = async (prefix: string) =>
      (await hall.allDocs({ startkey: prefix, endkey: `${prefix}\ufff0`, include_docs: true })).rows.map(
        (r) => r.doc as unknown as Record<string, unknown>,
      );
    const sha256 = sha256HexOfText(answers);
    await until(
      'the events, the submission and its chunks on the central server',
      async () => {
        const events = await docsWithPrefix(`event:${files.exam.examId}:${applianceId}:`);
        const submissions = await docsWithPrefix('submission:');
        const chunks = await docsWithPrefix(`blob:${sha256}:`);
        return (
          events.some((e) => e.kind === 'examinee-signed-in') &&
          submissions.some((s) => s.sha256 === sha256 && s.applianceId === applianceId) &&
          chunks.length > 0
        );
      },
      30_000,
    );

    const login = await fetch(`${base}/api/proctor/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ username: 'chief', password: CHIEF_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    type Status = { state: string; lastError: string | null; pending: { docs: number } | null };
    const status = async () =>
      (await (await fetch(`${base}/api/sync/status`, { headers: { cookie } })).json()) as Status;
    await until('the box’s sync idle with nothing pending', async () => {
      const s = await status();
      return s.state === 'idle' && s.lastError === null && s.pending?.docs === 0;
    });

    // Its replication checkpoints stay on the box: nothing a member may write in the hall
    // database's _local/ documents is read by its sync (pouchdb-server's request log).
    const requests = await readFile(path.join(dir, 'central', 'log.txt'), 'utf8');
    expect(requests).toMatch(/POST \/hall-test-hall\/_bulk_docs 201/);
    expect(requests).not.toMatch(/\/hall-test-hall\/_local/);

    // Revoked: the box's next exchange is refused, and its status says so in plain words.
    printed.length = 0;
    expect(
      await runSyncCli(['remove-appliance', '--hall', TEST_HALL_ID, '--appliance', applianceId], adminEnv, io),
      printed.join(''),
    ).toBe(0);
    const now = await fetch(`${base}/api/sync/now`, { method: 'POST', headers: { cookie, origin: base } });
    expect(now.status).toBe(202);
    const refused = await until(
      'the refusal in the box’s sync status',
      async () => {
        const s = await status();
        return s.lastError?.includes('(401)') ? s : undefined;
      },
      30_000,
    );
    expect(refused.state).toBe('error');

    expect(await appliance.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(appliance.stdout + appliance.stderr).not.toContain(boxEnv.PROCTOR_SYNC_PASSWORD);
  });
});
