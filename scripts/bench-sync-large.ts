/**
 * `npm run bench:sync -- --large`: the push of a heavy exam day against plain PouchDB replication
 * of the same documents, in the same run.
 *
 * 1. Records the day on a fresh appliance (real LevelDB, journal and blob files in a temp folder)
 *    as the exam day does: 1,000 examinees (--examinees), each with an answer file of ~200 KB,
 *    every 50th also a 5 MiB file answer (ten chunks).
 * 2. Builds the baseline's database: a LevelDB copy holding the final documents the central
 *    server must end up with — the events, the submissions and every blob chunk document with its
 *    attachment (written there by the chunk format's own writer, before anything is timed).
 * 3. Three timed runs against the stand-in central server in this process (express-pouchdb,
 *    memory adapter, the hall's validate_doc_update on every database): the baseline, the
 *    appliance's push, the baseline again (the ratio is against the mean of the two, so that a
 *    machine that gets busier or quieter during the run moves both sides alike).
 *    - Baseline (scripts/bench-sync-baseline.ts, a process of its own): `db.replicate.to(remote)`
 *      with default options and no filter, from the LevelDB copy to a fresh central database.
 *    - Appliance (scripts/bench-sync-child.ts, with `npm start`'s node flags and environment): the
 *      real HallSync from its start until it is idle with nothing pending — chunking, the records
 *      push, the pull and the status' bookkeeping included; resident memory sampled every 50 ms
 *      against the process' idle resident size with the store open (defined there).
 * 4. Checks every document arrived in each central database and reassembles every blob from the
 *    appliance's central database to compare its SHA-256.
 *
 * Last line: JSON with ratioToPlainReplication, peakRssAboveIdleMB, shaMismatches, the raw figures
 * and the load average. Exit 1 when a document is missing or a SHA-256 differs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import PouchDB from 'pouchdb';
import { documentRevisions } from '../appliance/src/store/database.js';
import { chunkCount, blobChunkId, writeBlobChunks } from '../sync/blob-chunks.js';
import { openCentralDb } from '../sync/central-link.js';
import { installDesign } from '../sync/central/institution.js';
import { removeDir } from '../tests/support/appliance.js';
import { startCentralServer } from '../tests/support/central-server.js';
import { checkCentralBlobs } from '../tests/support/push-day.js';
import { openSyncTestAppliance, recordExamDay } from '../tests/support/sync-exam-day.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The environment assignments and node flags of `npm start` (package.json), so children run alike. */
export function npmStartNode(): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  const node = words.indexOf('node');
  const env: Record<string, string> = {};
  for (const w of words.slice(0, node)) {
    const eq = w.indexOf('=');
    if (eq > 0) env[w.slice(0, eq)] = w.slice(eq + 1);
  }
  const flags = words.slice(node + 1).filter((w) => w.startsWith('--'));
  return { env, flags };
}

/** Runs a TypeScript script in a child node process; resolves with its last stdout line as JSON. */
export function runJsonChild<T>(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; flags?: string[] } = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.flags ?? []), '--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0) resolve(JSON.parse(last) as T);
      else reject(new Error(`${script} exited with ${code}: ${out}`));
    });
  });
}

interface ApplianceFigures {
  pushMs: number;
  cpuMs: number;
  idleRssMB: number;
  peakRssMB: number;
  peakRssAboveIdleMB: number;
  peakRssFrom: string;
  maxRssMB: number;
  peakHeapMB: number;
  peakExternalMB: number;
}

interface BaselineFigures {
  replicateMs: number;
  docsWritten: number;
  docWriteFailures: number;
  maxRssMB: number;
}

const load = () => loadavg().map((l) => +l.toFixed(2));

export async function benchLarge(examinees: number): Promise<void> {
  const load0 = load();
  process.stdout.write(
    `bench:sync --large: recording ${examinees} examinees (~200 KB answer files, every 50th a 5 MiB file answer)...\n`,
  );
  const server = await startCentralServer();
  const appliance = await openSyncTestAppliance();
  const dataDir = appliance.dataDir;
  const baselineDir = path.join(dataDir, 'baseline-db');
  let failed: boolean;
  try {
    const adminLink = server.link(server.admin);
    for (const hall of ['h1', 'base1', 'base2'])
      await installDesign(openCentralDb(adminLink, hall, { create: true }), hall);
    const started = Date.now();
    const day = await recordExamDay(appliance.store, {
      examinees,
      answerBytes: 200_000,
      fileEvery: 50,
      fileBytes: 5 * 2 ** 20,
    });
    const recordMs = Date.now() - started;

    // The baseline's LevelDB copy: the final documents, chunk documents with their attachments.
    const t1 = Date.now();
    const store = appliance.store;
    const baseline = new PouchDB(baselineDir, { auto_compaction: true });
    const expectedIds: string[] = [];
    let recordBytes = 0;
    for (const prefix of ['event:', 'submission:']) {
      const all = await store.db.allDocs({ startkey: prefix, endkey: `${prefix}\ufff0`, include_docs: true });
      const docs = all.rows.flatMap((r) => (r.doc ? [r.doc] : []));
      for (const d of docs) recordBytes += Buffer.byteLength(JSON.stringify(d));
      expectedIds.push(...docs.map((d) => d._id));
      for (let i = 0; i < docs.length; i += 500) await baseline.bulkDocs(docs.slice(i, i + 500), { new_edits: false });
    }
    let chunks = 0;
    let blobBytes = 0;
    for (const [sha, size] of day.blobs) {
      await writeBlobChunks(baseline, store.blobs.pathOf(sha), sha, store.applianceId);
      for (let i = 0; i < chunkCount(size); i++) expectedIds.push(blobChunkId(sha, i));
      chunks += chunkCount(size);
      blobBytes += size;
    }
    await baseline.close();
    const copyMs = Date.now() - t1;
    const user = server.addUser('hall-h1', 'hall-pass', [`appliance:${store.applianceId}`]);
    await store.close();
    const credentials = { BENCH_SYNC_USER: user.username, BENCH_SYNC_PASSWORD: user.password };
    process.stdout.write(
      `  recorded ${day.events} events, ${day.submissions} submissions, ${day.blobs.size} blobs ` +
        `(${(blobBytes / 1e6).toFixed(1)} MB, ${chunks} chunks) in ${recordMs} ms; baseline copy in ${copyMs} ms\n`,
    );

    const runBaseline = async (hall: string) => {
      const figures = await runJsonChild<BaselineFigures>(
        'scripts/bench-sync-baseline.ts',
        [baselineDir, server.url, `hall-${hall}`],
        { env: credentials },
      );
      const central = await documentRevisions(openCentralDb(adminLink, hall));
      const missing = expectedIds.filter((id) => !central.has(id)).length;
      process.stdout.write(
        `  baseline (plain replication) to hall-${hall}: ${figures.replicateMs} ms, ${figures.docsWritten} written, ` +
          `${missing} missing\n`,
      );
      await openCentralDb(adminLink, hall).destroy();
      return { ...figures, missing };
    };

    const loadBefore = load();
    const before = await runBaseline('base1');
    const npmStart = npmStartNode();
    const receivedBefore = server.receivedTotal();
    const push = await runJsonChild<ApplianceFigures>('scripts/bench-sync-child.ts', [dataDir, 'h1', server.url], {
      env: { ...npmStart.env, ...credentials },
      // BENCH_SYNC_CHILD_FLAGS: more node flags for the appliance's process, e.g. `--cpu-prof`.
      flags: [...npmStart.flags, ...(process.env.BENCH_SYNC_CHILD_FLAGS ?? '').split(/\s+/).filter(Boolean)],
    });
    const pushReceived = server.receivedTotal() - receivedBefore;
    const after = await runBaseline('base2');
    const loadAfter = load();

    const central = await documentRevisions(openCentralDb(adminLink, 'h1'));
    const missing = expectedIds.filter((id) => !central.has(id));
    const { checked, mismatches } = await checkCentralBlobs({ server, day });
    const baselineMs = (before.replicateMs + after.replicateMs) / 2;
    const result = {
      examinees,
      docs: expectedIds.length,
      events: day.events,
      submissions: day.submissions,
      blobs: day.blobs.size,
      chunks,
      blobMB: +(blobBytes / 1e6).toFixed(1),
      recordMB: +(recordBytes / 1e6).toFixed(2),
      pushMs: push.pushMs,
      /** CPU time the appliance's process spent during its push. */
      applianceCpuMs: push.cpuMs,
      baselineMs: [before.replicateMs, after.replicateMs],
      ratioToPlainReplication: +(push.pushMs / baselineMs).toFixed(2),
      idleRssMB: push.idleRssMB,
      peakRssMB: push.peakRssMB,
      peakRssAboveIdleMB: push.peakRssAboveIdleMB,
      peakRssFrom: push.peakRssFrom,
      applianceMaxRssMB: push.maxRssMB,
      applianceHeapMB: push.peakHeapMB,
      applianceExternalMB: push.peakExternalMB,
      baselineMaxRssMB: [before.maxRssMB, after.maxRssMB],
      received: pushReceived,
      resent: pushReceived - expectedIds.length + missing.length,
      missing: missing.length,
      baselineMissing: [before.missing, after.missing],
      shaChecked: checked,
      shaMismatches: mismatches.length,
      loadAverage: { atStart: load0, beforeTimedRuns: loadBefore, afterTimedRuns: loadAfter },
      nodeFlags: npmStart.flags,
    };
    process.stdout.write(
      `  the appliance's push: ${result.pushMs} ms against ${result.baselineMs.join(' and ')} ms ` +
        `(ratio ${result.ratioToPlainReplication}; its CPU ${push.cpuMs} ms); ${result.missing} missing, ` +
        `${result.resent} re-sent\n` +
        `  its resident memory: idle ${result.idleRssMB} MB, peak ${result.peakRssMB} MB ` +
        `(+${result.peakRssAboveIdleMB} MB; heap ${result.applianceHeapMB} MB, Buffers ${result.applianceExternalMB} MB)\n` +
        `  SHA-256 of ${checked} blobs checked centrally, ${mismatches.length} mismatches; ` +
        `load average ${loadBefore.join(' ')} before, ${loadAfter.join(' ')} after\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    failed = missing.length > 0 || mismatches.length > 0 || before.missing > 0 || after.missing > 0;
  } finally {
    await server.close();
    await rm(baselineDir, { recursive: true, force: true });
    await removeDir(dataDir);
  }
  if (failed) process.exitCode = 1;
}
