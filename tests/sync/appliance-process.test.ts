/**
 * The sync inside the real appliance process (`node --import tsx appliance/src/main.ts` with
 * PROCTOR_SYNC_URL): a published exam arrives without a restart, an examinee's sign-in goes up,
 * the password never reaches the logs, and SIGTERM still stops it cleanly.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApplianceProcess,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
} from '../support/appliance-process.js';
import { testExam } from '../support/appliance.js';
import { runSyncCli } from '../../sync/cli.js';
import { openCentralDb } from '../../sync/central-link.js';
import { startCentralServer, type CentralServer } from '../support/central-server.js';
import { until } from '../support/push-day.js';

const HALL_PASSWORD = 'hall-secret-Zq9';

describe('the sync in the appliance process', () => {
  let server: CentralServer;
  let dir: string;
  let appliance: ApplianceProcess | undefined;

  beforeAll(async () => {
    server = await startCentralServer();
    dir = await makeTempDir('sync-process-');
  });
  afterAll(async () => {
    await appliance?.kill();
    await server.close();
    await removeTempDir(dir);
  });

  it('pulls a published exam while running, pushes its events, and keeps the password out of the logs', async () => {
    const env = {
      CENTRAL_URL: server.url,
      CENTRAL_USER: server.admin.username,
      CENTRAL_PASSWORD: server.admin.password,
    };
    const io = { out: () => undefined, err: () => undefined, readStdin: async () => '' };
    expect(await runSyncCli(['install-design', '--hall', 'test-hall'], env, io)).toBe(0);
    const url = new URL(server.url);
    url.username = 'hall-test-hall';
    // A chief proctor, to read the sync's status as the dashboard does.
    const added = await runApplianceCli(
      ['proctor', 'add', 'chief', '--role', 'chief', '--password-stdin'],
      applianceEnv(path.join(dir, 'data')),
      'chief-password-for-sync\n',
    );
    expect(added.code, added.stderr).toBe(0);
    appliance = await ApplianceProcess.start({
      dataDir: path.join(dir, 'data'),
      env: { PROCTOR_SYNC_URL: url.toString(), PROCTOR_SYNC_PASSWORD: HALL_PASSWORD },
    });
    const health = async () =>
      (await (await fetch(`${appliance!.baseUrl}/api/health`)).json()) as { applianceId: string; exams: number };
    const { applianceId } = await health();
    // The institution registers the box: the hall's user gets its appliance role.
    server.addUser('hall-test-hall', HALL_PASSWORD, [`appliance:${applianceId}`]);

    const examFile = path.join(dir, 'exam.json');
    const rosterFile = path.join(dir, 'roster.csv');
    await writeFile(examFile, JSON.stringify(testExam(Date.now() + 30 * 60_000, { examId: 'bio-110' })));
    await writeFile(rosterFile, 'studentId,name,accessCode\nS1,Ada Lovelace,AAAA1111BBBB\n');
    expect(await runSyncCli(['publish', examFile, rosterFile, '--hall', 'test-hall'], env, io)).toBe(0);
    await until('the exam on the running appliance', async () => (await health()).exams === 1, 30_000);
    // The roster comes in the pull's later batches: wait for it as a proctor sees it.
    const base = appliance.baseUrl;
    const login = await fetch(`${base}/api/proctor/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ username: 'chief', password: 'chief-password-for-sync' }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    await until(
      'the roster on the running appliance',
      async () => {
        const res = await fetch(`${base}/api/proctor/exams/bio-110/participants`, { headers: { cookie } });
        return res.ok && ((await res.json()) as { rows: unknown[] }).rows.length === 1;
      },
      30_000,
    );

    // The examinee signs in; the event reaches the central database.
    const signIn = await fetch(`${appliance.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client-version': '0.1.0' },
      body: JSON.stringify({ studentId: 'S1', accessCode: 'AAAA1111BBBB', deviceId: 'device-S1-0123456789' }),
    });
    expect(signIn.status).toBe(200);
    const central = openCentralDb(server.link(server.admin), 'test-hall');
    const events = await until(
      'the sign-in on the central server',
      async () => {
        const rows = (
          await central.allDocs({ startkey: 'event:bio-110:', endkey: 'event:bio-110:\ufff0', include_docs: true })
        ).rows;
        return rows.some((r) => r.doc?.kind === 'examinee-signed-in') ? rows : undefined;
      },
      30_000,
    );
    expect(events[0]?.doc).toMatchObject({ applianceId, studentId: 'S1' });

    // What the dashboard's Sync status tab shows: set up, a last success, no error.
    const status = await until(
      'a successful sync in GET /api/sync/status',
      async () => {
        const body = (await (await fetch(`${base}/api/sync/status`, { headers: { cookie } })).json()) as {
          configured: boolean;
          state: string;
          lastSuccessAt: string | null;
          lastError: string | null;
        };
        return body.lastSuccessAt !== null && body.state === 'idle' ? body : undefined;
      },
      30_000,
    );
    expect(status).toMatchObject({ configured: true, state: 'idle', lastError: null });
    expect(Number.isNaN(Date.parse(status.lastSuccessAt!))).toBe(false);
    expect((await fetch(`${base}/api/sync/status`)).status).toBe(401);

    expect(await appliance.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(appliance.stdout + appliance.stderr).not.toContain(HALL_PASSWORD);
    expect(appliance.stderr).toContain('sync: exam bio-110 arrived from the central server');
  });
});
