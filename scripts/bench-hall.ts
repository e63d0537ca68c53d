/**
 * `npm run bench:hall -- --examinees N`: an exam day of N simulated examinees over HTTP on
 * 127.0.0.1 against the real appliance, started as a child process on a fresh data folder in a
 * temp dir, with an exam of N roster entries imported through the CLI and starting a little
 * ahead (so downloads happen in the download window before the start):
 *
 *   1. sign-in storm: every examinee signs in, each at a random moment within --signin-spread-s;
 *   2. SSE presence: every examinee holds GET /api/exam/events open to the end;
 *   3. download burst: every examinee fetches the package at once; then, at the start, the key;
 *   4. autosave: every examinee PUTs /api/exam/draft every --autosave-s for --duration-s, with
 *      an integrity event now and then (--integrity-rate per autosave);
 *   5. submission storm: every examinee POSTs its answer file (--file-kb) within --storm-spread-s;
 *      each must be answered 2xx with a receipt.
 *
 * The same submission workload runs against the baseline server (scripts/bench-hall-baseline.ts,
 * plain node:http that streams each body to a file and fsyncs it before answering), the physical
 * limit of this machine, twice: right before the appliance's storm and right after the appliance
 * has stopped. throughputRatio = appliance storm MB/s / the mean of the two baseline storms' MB/s,
 * so that a machine whose speed drifts (other work on it, the disk's fsync time) moves both sides.
 *
 * --pi-budget: the appliance (and the import, and the baseline server in groups of its own) runs
 * in cgroups sized like one Raspberry Pi 4 core (scripts/bench-hall-cgroup.ts: one CPU, 30 % CFS
 * quota, 1 GiB memory), this load generator on the other CPUs. After the storm the bench waits
 * (at most --resume-wait-s from the import, 1200) for the appliance's log line saying every
 * examinee's resume-code triples are ready: resumeCodesReadyS is the time from the start of the
 * import to that line.
 *
 * Measured: latency percentiles per step, errors (non-2xx or a failed connection), storm
 * throughput, the appliance's CPU time per step (/proc/<pid>/stat), its peak resident memory
 * (VmRSS polled every 100 ms, and VmHWM), its resident memory 2 s after it started (idleRssMB),
 * the bytes it had written to storage at the end of the day (/proc/<pid>/io write_bytes: SD-card
 * wear), and the load average. Prints readable lines and, as its last line, one JSON object.
 * Exits 1 when a submission was not acknowledged or anything failed.
 *
 * Options: --examinees N (1000) --file-kb N (200) --autosave-s N (15) --duration-s N (60)
 *          --signin-spread-s N (5) --storm-spread-s N (1) --integrity-rate F (0.05)
 *          --cpu-prof DIR (write a V8 CPU profile of the appliance into DIR) --keep (keep the temp dir)
 *          --pi-budget --resume-wait-s N (1200)
 */
import { Agent } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ApplianceProcess,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  writeExamFiles,
  type RosterLine,
} from '../tests/support/appliance-process.js';
import { CLIENT_VERSION } from '../tests/support/appliance.js';
import {
  HeldStream,
  MemoryWatch,
  cpuSeconds,
  memoryMB,
  deviceAgent,
  latencyStats,
  send,
  sleep,
  spreadOver,
  type Reply,
} from './bench-hall-support.js';
import { APPLIANCE_MAIN, buildAppliance, startCommand } from './appliance-build.js';
import { PiBudget, diskWrites } from './bench-hall-cgroup.js';
import {
  answerFileOf,
  cpuOf,
  figures,
  firstError,
  importRoster,
  line,
  startBaseline,
  step,
  storm,
} from './bench-hall-steps.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`--${name} needs a number\n`);
    process.exit(2);
  }
  return v;
}
function textOption(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const OPTIONS = {
  examinees: Math.round(option('examinees', 1_000)),
  fileKb: option('file-kb', 200),
  autosaveS: option('autosave-s', 15),
  durationS: option('duration-s', 60),
  signInSpreadS: option('signin-spread-s', 5),
  stormSpreadS: option('storm-spread-s', 1),
  integrityRate: option('integrity-rate', 0.05),
  cpuProf: textOption('cpu-prof'),
  keep: process.argv.includes('--keep'),
  piBudget: process.argv.includes('--pi-budget'),
  resumeWaitS: option('resume-wait-s', 1_200),
};

const say = (line: string) => process.stdout.write(`${line}\n`);
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const loadAverage = () => loadavg().map((l) => round(l, 2));
/** The log line of appliance/src/main.ts once every examinee's resume-code triples are ready. */
const RESUME_READY = /resume codes: triples ready for all (\d+) examinees of exam-1/;

async function main(): Promise<void> {
  const n = OPTIONS.examinees;
  const fileBytes = Math.round(OPTIONS.fileKb * 1024);
  say(
    `bench:hall: ${n} examinees, answer files of ${OPTIONS.fileKb} KB, autosave every ${OPTIONS.autosaveS} s ` +
      `for ${OPTIONS.durationS} s; machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ` +
      `${round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadAverage().join(', ')}`,
  );
  const budget = OPTIONS.piBudget ? PiBudget.create(cpus().length) : undefined;
  const boxWrapper = budget?.wrapper('box') ?? [];
  if (budget) {
    say(
      `  Pi budget: the appliance in cgroups ${budget.name}-box (CPU ${budget.boxCpu}, ` +
        `30 % CFS quota, 1 GiB memory), the load generator on CPU ${budget.loadCpus}`,
    );
  }
  const tmp = await makeTempDir('proctor-bench-hall-');
  const dataDir = path.join(tmp, 'data');
  let appliance: ApplianceProcess | undefined;
  let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined;
  // Ctrl-C: end what this run started (by PID) and remove its cgroups before leaving.
  const onSignal = (signal: NodeJS.Signals) => {
    for (const pid of [appliance?.serverPid, baseline?.pid]) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    budget?.remove();
    process.stderr.write(`bench:hall: stopped by ${signal}; ${tmp} left behind\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const streams: HeldStream[] = [];
  let failed: boolean;
  try {
    // The exam starts this far ahead: enough for the import, the start, the sign-in storm and
    // the download burst.
    const leadMs = 25_000 + OPTIONS.signInSpreadS * 1_000 + n * 10;
    const startMs = Date.now() + leadMs;
    const files = await writeExamFiles(tmp, { startMs, examinees: n });
    const env = applianceEnv(dataDir);
    await buildAppliance();
    // The roster's import starts the clock of resumeCodesReadyS.
    const importedAt = performance.now();
    const imported = await importRoster(boxWrapper, [files.examPath, files.rosterPath], env);
    if (imported.code !== 0) throw new Error(`import failed: ${imported.output}`);
    const importS = round((performance.now() - importedAt) / 1_000, 2);
    // What the box runs: `npm start`'s environment and node flags (and --cpu-prof), on the bundle.
    const start = startCommand();
    const nodeOptions = [...start.nodeFlags];
    if (OPTIONS.cpuProf) {
      await mkdir(OPTIONS.cpuProf, { recursive: true });
      nodeOptions.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(OPTIONS.cpuProf)}`);
    }
    appliance = await ApplianceProcess.start({
      dataDir,
      command: [process.execPath, ...nodeOptions, APPLIANCE_MAIN],
      env: start.env,
      wrapper: boxWrapper,
      wrapperExecs: true,
      readyTimeoutMs: budget ? 120_000 : 30_000,
    });
    const pid = appliance.serverPid;
    const port = appliance.port;
    const memory = new MemoryWatch(pid);
    say(
      `  appliance PID ${pid} on port ${port}; import ${importS} s; the exam starts in ` +
        `${round((startMs - Date.now()) / 1_000)} s`,
    );
    // When every examinee's resume-code triples are ready: the appliance logs it.
    let resumeCodesReadyS: number | null = null;
    const resumeWatch = setInterval(() => {
      if (resumeCodesReadyS === null && RESUME_READY.test(appliance?.stderr ?? '')) {
        resumeCodesReadyS = round((performance.now() - importedAt) / 1_000);
        say(`  resume codes ready for the whole roster ${resumeCodesReadyS} s after the import began`);
      }
    }, 250);
    await sleep(2_000);
    const idleRssMB = round((await memoryMB(pid)).rss);
    say(`  appliance RSS ${idleRssMB} MB 2 s after READY (idle, the roster imported)`);

    const agent = deviceAgent(n);
    const tokens: string[] = new Array<string>(n).fill('');
    const base = { 'x-client-version': CLIENT_VERSION };
    const auth = (i: number) => ({ ...base, authorization: `Bearer ${tokens[i]}` });
    const roster: RosterLine[] = files.roster;

    // 1. Sign-in storm.
    const signIn = await step(pid, () =>
      spreadOver(n, OPTIONS.signInSpreadS * 1_000, async (i) => {
        const r = await send(
          agent,
          port,
          'POST',
          '/api/session',
          { ...base, 'content-type': 'application/json' },
          JSON.stringify({
            studentId: roster[i]!.studentId,
            accessCode: roster[i]!.accessCode,
            deviceId: `bench-device-${String(i).padStart(8, '0')}`,
          }),
        );
        if (r.status === 200) tokens[i] = (JSON.parse(r.body) as { token: string }).token;
        return r;
      }),
    );
    const signInOk = (r: Reply) => r.status === 200;
    const signInF = { ...figures(signIn.value, signInOk, signIn.wallMs), ...cpuOf(signIn) };
    say(line('sign-in storm', signInF, firstError(signIn.value, signInOk)));

    // 2. SSE presence: every examinee holds the event stream open.
    const sseAgent = new Agent({ maxSockets: n });
    const sse = await step(pid, async () => {
      for (let i = 0; i < n; i++) streams.push(new HeldStream(sseAgent, port, '/api/exam/events', auth(i)));
      return Promise.all(streams.map((s) => s.opened));
    });
    const sseOpenMs = sse.value.flatMap((o) => ('ms' in o ? [o.ms] : []));
    const sseErrors = sse.value.length - sseOpenMs.length;
    say(
      `  SSE open           ${sseOpenMs.length} of ${n} streams open (first event p99 ` +
        `${latencyStats(sseOpenMs).p99} ms); ${sseErrors} errors; appliance CPU ${sse.serverCpuS} s, RSS ${sse.rssAfterMB} MB after`,
    );

    // 3. Download burst, then the key at the start.
    const download = await step(pid, () =>
      Promise.all(Array.from({ length: n }, (_, i) => send(agent, port, 'GET', '/api/exam/package', auth(i)))),
    );
    const downloadOk = (r: Reply) => r.status === 200;
    const downloadF = { ...figures(download.value, downloadOk, download.wallMs), ...cpuOf(download) };
    const packageMB = download.value.reduce((s, r) => s + Buffer.byteLength(r.body), 0) / 1e6;
    say(line('download burst', downloadF, `; ${round(packageMB, 2)} MB${firstError(download.value, downloadOk)}`));
    const wait = startMs - Date.now() + 200;
    if (wait > 0) {
      say(`  waiting ${round(wait / 1_000)} s for the start (the key is released then)`);
      await sleep(wait);
    }
    const key = await step(pid, () =>
      Promise.all(Array.from({ length: n }, (_, i) => send(agent, port, 'GET', '/api/exam/key', auth(i)))),
    );
    const keyOk = (r: Reply) => r.status === 200;
    const keyF = { ...figures(key.value, keyOk, key.wallMs), ...cpuOf(key) };
    say(line('key burst', keyF, firstError(key.value, keyOk)));

    // 4. Autosave every --autosave-s, phases spread over the interval, plus integrity events.
    const autosaves: Reply[] = [];
    const integrity: Reply[] = [];
    const autosave = await step(pid, async () => {
      const until = performance.now() + OPTIONS.durationS * 1_000;
      const interval = OPTIONS.autosaveS * 1_000;
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          await sleep(Math.random() * interval);
          for (let counter = 1; performance.now() < until; counter++) {
            const essay = `Entropy, draft ${counter}: `.padEnd(500 + counter * 200, 'x');
            autosaves.push(
              await send(
                agent,
                port,
                'PUT',
                '/api/exam/draft',
                { ...auth(i), 'content-type': 'application/json' },
                JSON.stringify({ counter, answers: { q1: 'a', q2: true, q4: essay }, flagged: ['q3'] }),
              ),
            );
            if (Math.random() < OPTIONS.integrityRate) {
              integrity.push(
                await send(
                  agent,
                  port,
                  'POST',
                  '/api/exam/integrity',
                  { ...auth(i), 'content-type': 'application/json' },
                  JSON.stringify({ type: 'window-blur', detail: 'bench' }),
                ),
              );
            }
            const left = until - performance.now();
            if (left < interval) break;
            await sleep(interval);
          }
        }),
      );
    });
    const autosaveOk = (r: Reply) => r.status === 200;
    const integrityOk = (r: Reply) => r.status === 201;
    const autosaveF = { ...figures(autosaves, autosaveOk, autosave.wallMs), ...cpuOf(autosave) };
    const integrityF = figures(integrity, integrityOk, autosave.wallMs);
    say(line('autosave', autosaveF, firstError(autosaves, autosaveOk)));
    say(line('integrity events', integrityF, firstError(integrity, integrityOk)));
    const heldBeforeStorm = streams.filter((s) => !s.closed).length;

    // 5. Submission storm, between two baseline storms (the baseline server started now, idle
    // until its storm; in the Pi budget in groups of its own).
    const bodies = roster.map((r) => answerFileOf(r.studentId, fileBytes));
    const shas = bodies.map((b) => createHash('sha256').update(b).digest('hex'));
    const baselineDir = path.join(tmp, 'baseline');
    await mkdir(baselineDir);
    const baselineStorm = async (name: string) => {
      baseline ??= await startBaseline(baselineDir, budget?.wrapper('base') ?? []);
      const b = await step(baseline.pid, () =>
        storm(
          baseline!.port,
          bodies,
          () => ({ 'content-type': 'application/json' }),
          '/upload',
          (r) => r.status === 201,
          OPTIONS.stormSpreadS * 1_000,
        ),
      );
      const { replies: _replies, ...f } = { ...b.value, ...cpuOf(b), loadAverage: loadAverage() };
      say(line(name, f, `; ${f.mbPerSec} MB/s, ${f.perSec} uploads/s; load average ${f.loadAverage.join(', ')}`));
      return f;
    };
    const baselineBefore = await baselineStorm('baseline before');
    await sleep(1_000);
    const submitOk = (r: Reply) =>
      r.status >= 200 && r.status < 300 && typeof (JSON.parse(r.body) as { receipt?: unknown }).receipt === 'object';
    const submit = await step(pid, () =>
      storm(
        port,
        bodies,
        (i) => ({
          ...auth(i),
          'content-type': 'application/json',
          'x-content-sha256': shas[i]!,
          'x-submission-type': 'automatic',
        }),
        '/api/exam/submission',
        (r) => {
          try {
            return submitOk(r);
          } catch {
            return false;
          }
        },
        OPTIONS.stormSpreadS * 1_000,
      ),
    );
    const acknowledged = submit.value.replies.length - submit.value.errors;
    const { replies: submitReplies, ...submitF } = {
      ...submit.value,
      serverCpuS: submit.serverCpuS,
      serverCpuPct: submit.serverCpuPct,
      loadCpuS: submit.loadCpuS,
    };
    const stormLoad = loadAverage();
    say(
      line(
        'submission storm',
        submitF,
        `; ${acknowledged} acknowledged; ${submitF.mbPerSec} MB/s, ${submitF.perSec} submissions/s` +
          `; load average ${stormLoad.join(', ')}` +
          firstError(submitReplies, (r) => r.status >= 200 && r.status < 300),
      ),
    );
    const held = streams.filter((s) => !s.closed).length;
    const sseEvents = streams.reduce((s, x) => s + x.events, 0);
    say(
      `  SSE held           ${heldBeforeStorm} of ${n} through the autosaves, ${held} after the storm; ${sseEvents} events received`,
    );
    for (const s of streams) s.close();
    agent.destroy();
    sseAgent.destroy();
    const dayDisk = diskWrites(pid);
    if (budget && resumeCodesReadyS === null) {
      const until = importedAt + OPTIONS.resumeWaitS * 1_000;
      say(
        `  waiting (at most ${round((until - performance.now()) / 1_000)} s) for the resume codes of the whole roster`,
      );
      while (resumeCodesReadyS === null && performance.now() < until) await sleep(1_000);
      if (resumeCodesReadyS === null) say(`  resume codes NOT ready ${OPTIONS.resumeWaitS} s after the import`);
    }
    clearInterval(resumeWatch);
    const endIdleRssMB = round((await memoryMB(pid)).rss);
    // Written by the end: the day's journal, blobs and PouchDB, with LevelDB's compactions so far.
    const disk = diskWrites(pid);
    const totalCpuS = round(await cpuSeconds(pid), 2);
    const peakRssMB = await memory.stop();
    const budgetFigures = budget?.figures();
    say(
      `  appliance peak RSS ${peakRssMB} MB, ${endIdleRssMB} MB at the end; CPU ${totalCpuS} s in all; ` +
        `wrote ${round(dayDisk.writeBytes / 1e6)} MB to storage by the end of the storm, ` +
        `${round(disk.writeBytes / 1e6)} MB by the end (${round(disk.cancelledWriteBytes / 1e6)} MB of it cancelled)`,
    );
    if (budgetFigures) {
      say(
        `  Pi budget: throttled in ${budgetFigures.throttledPeriods} periods (${budgetFigures.throttledS} s); ` +
          `cgroup memory peak ${budgetFigures.memoryPeakMB} MB (page cache included), failcnt ${budgetFigures.memoryFailcnt}`,
      );
    }
    await appliance.stop('SIGTERM', 60_000);

    const baselineAfter = await baselineStorm('baseline after');
    await baseline?.stop();
    baseline = undefined;
    const baselineMBps = round((baselineBefore.mbPerSec + baselineAfter.mbPerSec) / 2, 2);
    const throughputRatio = round(submitF.mbPerSec / baselineMBps, 2);
    say(
      `  throughput ratio (appliance / mean of the baselines ${baselineBefore.mbPerSec} and ` +
        `${baselineAfter.mbPerSec} MB/s) ${throughputRatio}`,
    );

    const errors =
      signInF.errors +
      sseErrors +
      downloadF.errors +
      keyF.errors +
      autosaveF.errors +
      integrityF.errors +
      submitF.errors +
      (n - held);
    const result = {
      ...(budget ? { piBudget: true, resumeCodesReadyS } : {}),
      examinees: n,
      fileKb: OPTIONS.fileKb,
      signInP99Ms: signInF.latency.p99,
      signInStormS: round(signInF.wallMs / 1_000, 2),
      downloadP99Ms: downloadF.latency.p99,
      keyP99Ms: keyF.latency.p99,
      sseHeld: held,
      autosaveP99Ms: autosaveF.latency.p99,
      autosaves: autosaveF.latency.n,
      integrityP99Ms: integrityF.latency.p99,
      submitP99Ms: submitF.latency.p99,
      submitStormS: round(submitF.wallMs / 1_000, 2),
      submitMBps: submitF.mbPerSec,
      submitPerSec: submitF.perSec,
      baselineMBps,
      baselineBeforeMBps: baselineBefore.mbPerSec,
      baselineAfterMBps: baselineAfter.mbPerSec,
      baselineP99Ms: Math.max(baselineBefore.latency.p99, baselineAfter.latency.p99),
      throughputRatio,
      errors,
      acknowledged,
      peakRssMB,
      idleRssMB,
      endIdleRssMB,
      importS,
      diskWrittenMB: round(disk.writeBytes / 1e6),
      diskWrittenByStormEndMB: round(dayDisk.writeBytes / 1e6),
      diskCancelledMB: round(disk.cancelledWriteBytes / 1e6),
      serverCpuS: totalCpuS,
      loadAverageAtStorm: stormLoad,
      loadAverageAtEnd: loadAverage(),
      ...(budgetFigures ? { piBudgetCgroup: budgetFigures } : {}),
      steps: {
        signIn: signInF,
        download: downloadF,
        key: keyF,
        autosave: autosaveF,
        integrity: integrityF,
        submit: submitF,
        baselineBefore,
        baselineAfter,
      },
    };
    failed = errors > 0 || acknowledged < n;
    say(JSON.stringify(result));
  } finally {
    for (const s of streams) s.close();
    await appliance?.kill();
    await baseline?.stop();
    budget?.remove();
    if (OPTIONS.keep) say(`  kept ${tmp}`);
    else await removeTempDir(tmp);
  }
  if (failed) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench:hall failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
