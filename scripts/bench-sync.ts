/**
 * `npm run bench:sync`: how fast an exam day's results go up to the central server, and how much
 * memory the appliance's side needs for it.
 *
 * 1. Records an exam day on a fresh appliance (real LevelDB and journal in a temp folder) through
 *    HallStore.record, as the exam day does: 1,000 examinees, each with sign-in, download, start,
 *    integrity events, a presence change and an accepted submission (answer file ~6 KB as a blob),
 *    every 10th with a 600 KiB file answer (two chunks). Then closes it.
 * 2. Starts the stand-in central server in this process (express-pouchdb on PouchDB 9, memory
 *    adapter, validate_doc_update enforced) and the appliance's side in a child process
 *    (scripts/bench-sync-child.ts, with `npm start`'s node flags), which opens the data folder and
 *    runs the sync (the records with the real PouchDB replicator, the blobs by the blob push,
 *    chunk documents built from the blob files during the push, as on the appliance) over HTTP
 *    on 127.0.0.1 until everything is pushed and the sync is idle. Measured in the child: the time from the sync's start, and its peak
 *    memory (the appliance's side alone).
 * 3. Checks every document arrived and reassembles every blob from the central database to
 *    compare its SHA-256.
 *
 * Prints readable lines and, as its last line, one JSON object with docsPerSec, mbPerSec
 * (content: records' JSON + blob bytes, in MB = 10^6 bytes), shaMismatches and the raw figures.
 * Exits 1 when a document is missing or a SHA-256 differs.
 *
 * Options: --examinees N (1000); --large: the heavy day (~200 KB answer files, every 50th examinee
 * a 5 MiB file answer) against plain PouchDB replication of the same documents in the same run,
 * with the memory above idle (scripts/bench-sync-large.ts).
 */
import { removeDir } from '../tests/support/appliance.js';
import { chunkCount } from '../sync/blob-chunks.js';
import { openCentralDb } from '../sync/central-link.js';
import { installDesign } from '../sync/central/institution.js';
import { startCentralServer } from '../tests/support/central-server.js';
import { openSyncTestAppliance, recordExamDay } from '../tests/support/sync-exam-day.js';
import { checkCentralBlobs } from '../tests/support/push-day.js';
import { benchLarge, npmStartNode, runJsonChild } from './bench-sync-large.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`--${name} needs a whole number\n`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const examinees = option('examinees', 1_000);
  if (process.argv.includes('--large')) return benchLarge(examinees);
  process.stdout.write(`bench:sync: recording an exam day of ${examinees} examinees, then pushing it...\n`);
  const server = await startCentralServer();
  const appliance = await openSyncTestAppliance();
  const dataDir = appliance.dataDir;
  try {
    await installDesign(openCentralDb(server.link(server.admin), 'h1', { create: true }), 'h1');
    const started = Date.now();
    const day = await recordExamDay(appliance.store, { examinees, fileEvery: 10, fileBytes: 600 * 1024 });
    const recordMs = Date.now() - started;
    let chunks = 0;
    let blobBytes = 0;
    for (const size of day.blobs.values()) {
      chunks += chunkCount(size);
      blobBytes += size;
    }
    const expected = day.events + day.submissions + chunks;
    // What the push carries besides blobs: the records' JSON (chunks carry the blobs base64).
    let recordBytes = 0;
    for (const prefix of ['event:', 'submission:']) {
      const all = await appliance.store.db.allDocs({ startkey: prefix, endkey: `${prefix}\ufff0`, include_docs: true });
      for (const r of all.rows) if (r.doc) recordBytes += Buffer.byteLength(JSON.stringify(r.doc));
    }
    const user = server.addUser('hall-h1', 'hall-pass', [`appliance:${appliance.store.applianceId}`]);
    await appliance.store.close();

    const npmStart = npmStartNode();
    const child = await runJsonChild<{ pushMs: number; maxRssMB: number; peakHeapMB: number; peakExternalMB: number }>(
      'scripts/bench-sync-child.ts',
      [dataDir, 'h1', server.url],
      {
        env: { ...npmStart.env, BENCH_SYNC_USER: user.username, BENCH_SYNC_PASSWORD: user.password },
        flags: npmStart.flags,
      },
    );
    const { checked, mismatches } = await checkCentralBlobs({ server, day });
    const seconds = child.pushMs / 1_000;
    const missing = expected - server.received.size;
    const result = {
      examinees,
      docs: expected,
      events: day.events,
      submissions: day.submissions,
      blobs: day.blobs.size,
      blobMB: +(blobBytes / 1e6).toFixed(2),
      recordMB: +(recordBytes / 1e6).toFixed(2),
      received: server.receivedTotal(),
      missing,
      pushMs: child.pushMs,
      docsPerSec: Math.round(expected / seconds),
      mbPerSec: +((blobBytes + recordBytes) / 1e6 / seconds).toFixed(2),
      /** Peak resident memory of the appliance's side (its own process). */
      applianceMaxRssMB: child.maxRssMB,
      applianceHeapMB: child.peakHeapMB,
      applianceExternalMB: child.peakExternalMB,
      shaChecked: checked,
      shaMismatches: mismatches.length,
    };
    process.stdout.write(
      `  recorded ${result.events} events, ${result.submissions} submissions, ${result.blobs} blobs ` +
        `(${result.blobMB} MB) in ${recordMs} ms\n` +
        `  pushed ${result.docs} documents (${result.recordMB} MB of records + ${result.blobMB} MB of blobs) ` +
        `in ${result.pushMs} ms: ${result.docsPerSec} docs/s, ${result.mbPerSec} MB/s\n` +
        `  the server received ${result.received} documents (${result.received - result.docs + missing} re-sent); ` +
        `${missing} missing; SHA-256 of ${checked} blobs checked, ${mismatches.length} mismatches\n` +
        `  the appliance's side peaked at ${result.applianceMaxRssMB} MB resident (its own process; ` +
        `JavaScript heap ${result.applianceHeapMB} MB, Buffers ${result.applianceExternalMB} MB)\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (missing > 0 || mismatches.length > 0) process.exitCode = 1;
  } finally {
    await server.close();
    await removeDir(dataDir);
  }
}

// Exit explicitly: timers of finished HTTP requests inside the client could keep the process
// waiting with nothing left to do.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench:sync failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
