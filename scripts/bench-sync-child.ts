/**
 * The appliance's side of `npm run bench:sync`, in a process of its own (as the appliance runs,
 * with the same node flags as `npm start`), so that its memory is measured apart from the
 * stand-in server's: opens the data folder, runs the sync until everything is pushed, and prints
 * one JSON line { pushMs, maxRssMB, peakHeapMB, peakExternalMB }.
 *
 * Arguments: <dataDir> <hallId> <central URL>; the hall user's credentials in BENCH_SYNC_USER and
 * BENCH_SYNC_PASSWORD.
 */
import { performance } from 'node:perf_hooks';
import { HallStore } from '../appliance/src/store/hall-store.js';
import { centralLink } from '../sync/central-link.js';
import { HallSync } from '../sync/hall-sync.js';

async function main(): Promise<void> {
  const [dataDir, hallId, url] = process.argv.slice(2);
  if (!dataDir || !hallId || !url) throw new Error('usage: bench-sync-child <dataDir> <hallId> <url>');
  const store = await HallStore.open({ dataDir, clock: { now: () => Date.now() }, hallId });
  const sync = new HallSync({
    db: store.db,
    blobPath: (sha) => store.blobs.pathOf(sha),
    applianceId: store.applianceId,
    hallId,
    link: centralLink(url, process.env.BENCH_SYNC_USER, process.env.BENCH_SYNC_PASSWORD),
    clock: store.clock,
    onPulled: (docs) => void store.applyPulled(docs),
    backOff: { initialMs: 20, maxMs: 200 },
    pendingIntervalMs: 500,
  });
  const started = performance.now();
  // Peak of V8's heap and of memory outside it (Buffers), sampled, beside the peak resident size.
  const peak = { heapMB: 0, externalMB: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapMB = Math.max(peak.heapMB, Math.round(m.heapUsed / 2 ** 20));
    peak.externalMB = Math.max(peak.externalMB, Math.round(m.external / 2 ** 20));
  }, 50);
  void sync.start();
  for (;;) {
    const s = sync.status();
    if (s.state === 'idle' && s.pending?.docs === 0) break;
    if (s.state === 'error') throw new Error(`sync error: ${s.lastError ?? '?'}`);
    if (process.env.BENCH_DEBUG)
      process.stderr.write(`${Math.round(performance.now() - started)} ${JSON.stringify(s)}\n`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const pushMs = performance.now() - started;
  clearInterval(sampler);
  await sync.stop();
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ pushMs: Math.round(pushMs), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), peakHeapMB: peak.heapMB, peakExternalMB: peak.externalMB })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
