/**
 * Test and bench support: push a recorded exam day to the stand-in central server through a
 * link that is cut at random points, and check what arrived.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { chunkCount, reassembleBlob } from '../../sync/blob-chunks.js';
import { openCentralDb } from '../../sync/central-link.js';
import { installDesign } from '../../sync/central/institution.js';
import { HallSync } from '../../sync/hall-sync.js';
import { startCentralServer, startCuttableLink, type CentralServer, type CuttableLink } from './central-server.js';
import { openSyncTestAppliance, recordExamDay, type ExamDayResult, type SyncTestAppliance } from './sync-exam-day.js';
import { seededRandom } from '../../domain/seeded-random.js';

/** Waits for a condition, polling every few ms; never a fixed sleep. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const RECORDS_BATCH = 250;
export const BLOBS_BATCH = 8;

export interface PushDayRun {
  server: CentralServer;
  link: CuttableLink;
  appliance: SyncTestAppliance;
  sync: HallSync;
  day: ExamDayResult;
  /** Appliance documents the server should end up with. */
  expected: number;
  blobBytes: number;
  recordMs: number;
  pushMs: number;
  cutsDone: number;
  close(): Promise<void>;
}

/**
 * Records an exam day of `examinees` on a fresh appliance, then pushes it to a fresh stand-in
 * server, cutting the link at `cuts` random points (by documents received) and restoring it.
 */
export async function pushExamDay(options: {
  examinees: number;
  cuts: number;
  seed: number;
  fileEvery?: number;
  fileBytes?: number;
}): Promise<PushDayRun> {
  const server = await startCentralServer();
  const link = await startCuttableLink(server.url);
  const appliance = await openSyncTestAppliance();
  const admin = openCentralDb(server.link(server.admin), 'h1', { create: true });
  await installDesign(admin, 'h1');
  const user = server.addUser('hall-h1', 'hall-pass', [`appliance:${appliance.store.applianceId}`]);

  const t0 = performance.now();
  const day = await recordExamDay(appliance.store, {
    examinees: options.examinees,
    fileEvery: options.fileEvery ?? 10,
    fileBytes: options.fileBytes ?? 600 * 1024,
  });
  const recordMs = performance.now() - t0;
  let chunks = 0;
  let blobBytes = 0;
  for (const size of day.blobs.values()) {
    chunks += chunkCount(size);
    blobBytes += size;
  }
  const expected = day.events + day.submissions + chunks;

  const random = seededRandom(options.seed);
  const points = new Set<number>();
  while (points.size < Math.min(options.cuts, expected - 1)) points.add(1 + Math.floor(random() * (expected - 1)));
  const thresholds = [...points].sort((a, b) => a - b);

  const sync = new HallSync({
    db: appliance.store.db,
    blobPath: (sha) => appliance.store.blobs.pathOf(sha),
    applianceId: appliance.store.applianceId,
    hallId: 'h1',
    link: server.link(user, link.url),
    clock: appliance.store.clock,
    onPulled: (docs) => void appliance.store.applyPulled(docs),
    backOff: { initialMs: 20, maxMs: 200 },
    batchSize: { records: RECORDS_BATCH, blobs: BLOBS_BATCH },
    pendingIntervalMs: 1_000,
  });
  const t1 = performance.now();
  void sync.start();
  let cutsDone = 0;
  for (const at of thresholds) {
    await until(`${at} documents received`, () => server.receivedTotal() >= at);
    link.cut();
    cutsDone++;
    await until('the appliance to notice the cut', () => sync.status().state === 'offline');
    link.restore();
  }
  await until(
    'every document pushed',
    () => server.received.size >= expected && sync.status().state === 'idle',
    120_000,
  ).catch((err: unknown) => {
    // Say where it stood: what the server has, and what the sync says.
    throw new Error(
      `${(err as Error).message}: the server has ${server.received.size} of ${expected} documents; ` +
        `the sync says ${JSON.stringify(sync.status())}`,
    );
  });
  const pushMs = performance.now() - t1;
  return {
    server,
    link,
    appliance,
    sync,
    day,
    expected,
    blobBytes,
    recordMs,
    pushMs,
    cutsDone,
    async close() {
      await sync.stop();
      await appliance.store.close();
      await link.close();
      await server.close();
    },
  };
}

/** Reassembles every blob of the day from the central database and counts SHA-256 mismatches. */
export async function checkCentralBlobs(
  run: Pick<PushDayRun, 'server' | 'day'>,
): Promise<{ checked: number; mismatches: string[] }> {
  const admin = openCentralDb(run.server.link(run.server.admin), 'h1');
  const mismatches: string[] = [];
  let checked = 0;
  for (const sha of run.day.blobs.keys()) {
    const hash = createHash('sha256');
    const result = await reassembleBlob(admin, sha, (bytes) => void hash.update(bytes));
    checked++;
    if (!result.ok || hash.digest('hex') !== sha) mismatches.push(sha);
  }
  return { checked, mismatches };
}
