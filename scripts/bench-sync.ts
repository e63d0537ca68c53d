/**
 * `npm run bench:sync`: how fast an exam day's results go up to the central server.
 *
 * 1. Records an exam day on a fresh appliance (real LevelDB and journal in a temp folder) through
 *    HallStore.record, as the exam day does: 1,000 examinees, each with sign-in, download, start,
 *    integrity events, a presence change and an accepted submission (answer file ~6 KB as a blob),
 *    every 10th with a 600 KiB file answer (two chunks).
 * 2. Starts the stand-in central server (express-pouchdb on PouchDB 9, memory adapter, with
 *    validate_doc_update enforced), and measures the push with the real PouchDB replicator over
 *    HTTP on 127.0.0.1: from the sync's start until every document is there and the sync is
 *    idle. The blob chunk documents are written during the push (lazily, as on the appliance).
 * 3. Reassembles every blob from the central database and compares its SHA-256.
 *
 * Prints readable lines and, as its last line, one JSON object with docsPerSec, mbPerSec
 * (content: records' JSON + blob bytes, in MB = 10^6 bytes), shaMismatches and the raw figures.
 * Exits 1 when a document is missing or a SHA-256 differs.
 *
 * Options: --examinees N (1000) --cuts N (0: cut the link N times during the push) --seed N (1)
 */
import { documentRevisions } from '../appliance/src/store/database.js';
import { checkCentralBlobs, pushExamDay } from '../sync/test-support/push-day.js';
import { removeDir } from '../appliance/src/test-support.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`--${name} needs a whole number\n`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const examinees = option('examinees', 1_000);
  const cuts = option('cuts', 0);
  const seed = option('seed', 1);
  process.stdout.write(`bench:sync: recording an exam day of ${examinees} examinees, then pushing it...\n`);
  const run = await pushExamDay({ examinees, cuts, seed });
  const dataDir = run.appliance.dataDir;
  try {
    // What the push carried: the records' JSON and the blobs' bytes (chunks carry them base64).
    let recordBytes = 0;
    const local = await documentRevisions(run.appliance.store.db);
    const recordIds = [...local.keys()].filter((id) => id.startsWith('event:') || id.startsWith('submission:'));
    for (let i = 0; i < recordIds.length; i += 1_000) {
      const page = await run.appliance.store.db.allDocs({ keys: recordIds.slice(i, i + 1_000), include_docs: true });
      for (const r of page.rows) if (r.doc) recordBytes += Buffer.byteLength(JSON.stringify(r.doc));
    }
    const { checked, mismatches } = await checkCentralBlobs(run);
    const seconds = run.pushMs / 1_000;
    const missing = run.expected - run.server.received.size;
    const result = {
      examinees,
      docs: run.expected,
      events: run.day.events,
      submissions: run.day.submissions,
      blobs: run.day.blobs.size,
      blobMB: +(run.blobBytes / 1e6).toFixed(2),
      recordMB: +(recordBytes / 1e6).toFixed(2),
      cuts: run.cutsDone,
      received: run.server.receivedTotal(),
      missing,
      pushMs: Math.round(run.pushMs),
      docsPerSec: Math.round(run.expected / seconds),
      mbPerSec: +((run.blobBytes + recordBytes) / 1e6 / seconds).toFixed(2),
      shaChecked: checked,
      /** Peak resident memory of this process: the appliance's side and the stand-in server together. */
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      shaMismatches: mismatches.length,
    };
    process.stdout.write(
      `  recorded ${result.events} events, ${result.submissions} submissions, ${result.blobs} blobs ` +
        `(${result.blobMB} MB) in ${Math.round(run.recordMs)} ms\n` +
        `  pushed ${result.docs} documents (${result.recordMB} MB of records + ${result.blobMB} MB of blobs) ` +
        `in ${result.pushMs} ms${cuts ? ` through ${result.cuts} cuts` : ''}: ` +
        `${result.docsPerSec} docs/s, ${result.mbPerSec} MB/s\n` +
        `  the server received ${result.received} documents (${result.received - result.docs + missing} re-sent); ` +
        `${missing} missing; SHA-256 of ${checked} blobs checked, ${mismatches.length} mismatches\n` +
        `  peak memory ${result.peakRssMB} MB (appliance side and stand-in server in this one process)\n`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (missing > 0 || mismatches.length > 0) process.exitCode = 1;
  } finally {
    await run.close();
    await removeDir(dataDir);
  }
}

// Exit explicitly: after a run with cuts, timers of requests the cuts broke (inside the HTTP
// client) would keep the process waiting for minutes with nothing left to do.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench:sync failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
