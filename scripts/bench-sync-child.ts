/**
 * The appliance's side of `npm run bench:sync`, in a process of its own (as the appliance runs,
 * with the same node flags and environment as `npm start`), so that its memory is measured apart
 * from the stand-in server's: opens the data folder, runs the sync until everything is pushed,
 * and prints one JSON line
 *   { pushMs, cpuMs, idleRssMB, peakRssMB, peakRssAboveIdleMB, maxRssMB, peakHeapMB, peakExternalMB }.
 *
 * Idle: the resident size of this process with the store open and nothing running: the median of
 * the samples taken every 50 ms during the second after a one-second settle that follows
 * HallStore.open (journal replayed, projection built), before the sync starts. Peak: the highest
 * resident size from the sync's start until it is idle with nothing pending, sampled every 50 ms
 * and, where Linux lets a process reset it (`/proc/self/clear_refs`), the kernel's high-water
 * mark (VmHWM) since the sync's start, which no sample can miss. maxRssMB is the whole life's peak.
 *
 * Arguments: <dataDir> <hallId> <central URL>; the hall user's credentials in BENCH_SYNC_USER and
 * BENCH_SYNC_PASSWORD.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HallStore } from '../appliance/src/store/hall-store.js';
import { centralLink } from '../sync/central-link.js';
import { HallSync } from '../sync/hall-sync.js';

const MB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kernel's peak resident size of this process (VmHWM), in bytes; undefined off Linux. */
function kernelPeakRss(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current resident size; false where Linux does not let it. */
function resetKernelPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function idleRss(): Promise<number> {
  await sleep(1_000);
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    samples.push(process.memoryUsage.rss());
    await sleep(50);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const [dataDir, hallId, url] = process.argv.slice(2);
  if (!dataDir || !hallId || !url) throw new Error('usage: bench-sync-child <dataDir> <hallId> <url>');
  const store = await HallStore.open({ dataDir, clock: { now: () => Date.now() }, hallId });
  const idle = await idleRss();
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
  const hwmReset = resetKernelPeakRss();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  // Peak resident size, of V8's heap and of memory outside it (Buffers), sampled.
  const peak = { rss: process.memoryUsage.rss(), heapMB: 0, externalMB: 0 };
  let ticks = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapMB = Math.max(peak.heapMB, Math.round(m.heapUsed / MB));
    peak.externalMB = Math.max(peak.externalMB, Math.round(m.external / MB));
    // BENCH_MEM_TRACE=1: where the memory goes, every 500 ms (stderr).
    if (process.env.BENCH_MEM_TRACE && ++ticks % 10 === 0)
      process.stderr.write(
        `${Math.round(performance.now() - started)} ms: rss ${Math.round(m.rss / MB)} heap ${Math.round(m.heapUsed / MB)}/${Math.round(m.heapTotal / MB)} external ${Math.round(m.external / MB)} MB\n`,
      );
  }, 50);
  void sync.start();
  for (;;) {
    const s = sync.status();
    if (s.state === 'idle' && s.pending?.docs === 0) break;
    if (s.state === 'error') throw new Error(`sync error: ${s.lastError ?? '?'}`);
    if (process.env.BENCH_DEBUG)
      process.stderr.write(`${Math.round(performance.now() - started)} ${JSON.stringify(s)}\n`);
    await sleep(20);
  }
  const pushMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const hwm = hwmReset ? kernelPeakRss() : undefined;
  const peakRss = Math.max(peak.rss, hwm ?? 0);
  await sync.stop();
  await store.close();
  process.stdout.write(
    `${JSON.stringify({
      pushMs: Math.round(pushMs),
      /** CPU time of this process during the push (user + system, all threads). */
      cpuMs: Math.round((cpu.user + cpu.system) / 1_000),
      idleRssMB: Math.round(idle / MB),
      peakRssMB: Math.round(peakRss / MB),
      peakRssAboveIdleMB: Math.round((peakRss - idle) / MB),
      peakRssFrom: hwm === undefined ? 'samples' : 'samples+VmHWM',
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      peakHeapMB: peak.heapMB,
      peakExternalMB: peak.externalMB,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
