/**
 * The measured side of `npm run bench:monitor` (scripts/bench-monitor.ts), run in a fresh
 * process so that its time and RSS are those of a process that did only this:
 *
 *   startup <dataDir>    HallStore.open (journal replay + projection rebuild), createServices,
 *                        monitor.rows and monitor.examInfo of the exam: what the appliance does
 *                        before its first monitor page can be served. Then, outside the timed
 *                        part, it counts what was loaded and closes the store as a normal
 *                        shutdown does (or, with --crash, exits without closing, as kill -9).
 *   baseline <dataDir>   The raw cost of the same data: one allDocs with include_docs over
 *                        every event document of the same LevelDB, and reading + JSON.parse of
 *                        the whole journal file.
 *
 * Prints one JSON line on stdout. Reads <dataDir>/bench-manifest.json (written by the parent).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

interface Manifest {
  examId: string;
  hallId: string;
  now: number;
}

const MIB = 1024 * 1024;

const round = (x: number) => Math.round(x * 10) / 10;

function memory(): Record<'rssMB' | 'peakRssMB' | 'heapUsedMB' | 'heapTotalMB' | 'externalMB', number> {
  const m = process.memoryUsage();
  return {
    rssMB: round(m.rss / MIB),
    // maxRSS is in KiB.
    peakRssMB: round(process.resourceUsage().maxRSS / 1024),
    heapUsedMB: round(m.heapUsed / MIB),
    heapTotalMB: round(m.heapTotal / MIB),
    externalMB: round(m.external / MIB),
  };
}

async function startup(dataDir: string, manifest: Manifest, crash: boolean): Promise<Record<string, unknown>> {
  // Modules are loaded before the clock starts: the issue is about the rebuild, not tsx.
  const importStart = performance.now();
  const { FakeClock } = await import('../domain/clock.js');
  const { HallStore } = await import('../appliance/src/store/hall-store.js');
  const { createServices } = await import('../appliance/src/services.js');
  const importMs = performance.now() - importStart;
  // What the process holds before it reads any data: Node, tsx and the appliance's modules.
  const rssBeforeMB = round(process.memoryUsage().rss / MIB);

  const logLines: string[] = [];
  const t0 = performance.now();
  const store = await HallStore.open({
    dataDir,
    clock: new FakeClock(manifest.now),
    hallId: manifest.hallId,
    log: (line) => logLines.push(line),
  });
  const openMs = performance.now() - t0;
  const services = createServices(store, { signInAttempts: 10, maxFileBytes: 25 * MIB, presenceTimeoutSeconds: 30 });
  const exam = services.monitor.exam(manifest.examId);
  if (!exam) throw new Error(`exam ${manifest.examId} was not loaded`);
  const rows = services.monitor.rows(exam);
  const info = services.monitor.examInfo(exam, rows);
  const rebuildMs = performance.now() - t0;
  const mem = memory();

  // Proof of work, outside the timed part.
  const counts = {
    examinees: exam.examinees.size,
    rows: rows.length,
    events: store.projection.head(manifest.examId).seq,
    downloads: rows.reduce((a, r) => a + r.downloads, 0),
    uploads: info.totals.uploads,
    receipts: store.projection.receipts.size,
    drafts: [...exam.examinees.values()].filter((e) => e.draft !== undefined).length,
    integrityEvents: rows.reduce((a, r) => a + r.integrityEvents, 0),
    statusCounts: info.statusCounts,
  };
  if (!crash) await store.close();
  return {
    mode: crash ? 'startup-after-crash' : 'startup',
    rebuildMs: Math.round(rebuildMs),
    openMs: Math.round(openMs),
    importMs: Math.round(importMs),
    rssBeforeMB,
    ...mem,
    counts,
    log: logLines,
  };
}

async function baseline(dataDir: string): Promise<Record<string, unknown>> {
  const { openHallDb } = await import('../appliance/src/store/database.js');
  const t0 = performance.now();
  const db = await openHallDb(dataDir);
  const page = await db.allDocs({ startkey: 'event:', endkey: 'event:\ufff0', include_docs: true });
  const allDocsMs = performance.now() - t0;
  const events = page.rows.filter((r) => 'doc' in r && r.doc).length;
  const mem = memory();
  await db.close();

  const t1 = performance.now();
  const text = await readFile(path.join(dataDir, 'journal', 'journal.log'), 'utf8');
  let journalDocs = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    journalDocs += (JSON.parse(line.slice(17)) as { docs: unknown[] }).docs.length;
  }
  const journalParseMs = performance.now() - t1;
  return {
    mode: 'baseline',
    allDocsMs: Math.round(allDocsMs),
    journalParseMs: Math.round(journalParseMs),
    ...mem,
    counts: { events, journalDocs },
  };
}

async function main(): Promise<void> {
  const [mode, dataDir, ...flags] = process.argv.slice(2);
  if (!dataDir || (mode !== 'startup' && mode !== 'baseline')) {
    process.stderr.write('usage: bench-monitor-child.ts startup|baseline <dataDir> [--crash]\n');
    process.exit(2);
  }
  const manifest = JSON.parse(await readFile(path.join(dataDir, 'bench-manifest.json'), 'utf8')) as Manifest;
  const result =
    mode === 'startup' ? await startup(dataDir, manifest, flags.includes('--crash')) : await baseline(dataDir);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // A crash leaves LevelDB and the journal open, as kill -9 does.
  process.exit(0);
}

await main();
