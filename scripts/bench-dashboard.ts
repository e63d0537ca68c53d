/**
 * `npm run bench:dashboard`: the proctor dashboard of a hall of 1,000 examinees, measured in real
 * Chromium (Debian's /usr/bin/chromium through playwright-core, client/e2e/browser.ts) with the
 * CPU throttled (--throttle, 4×, `Emulation.setCPUThrottlingRate`) against a real appliance (the
 * bundle `npm start` runs, on a fresh data folder in a temp dir) serving the built client
 * (client/dist, built first when missing or stale), while the hall is busy.
 *
 * Setup: the test exam (tests/support testExam, started a minute ago) with a roster of
 * --examinees, imported through the CLI, and a chief proctor account. Every examinee signs in,
 * downloads the package and fetches the key over HTTP (node:http keep-alive agents, as
 * bench:hall does). From the moment the proctor opens the monitor to the end, a load generator
 * sends --autosaves-per-s `PUT /api/exam/draft` (round robin over the examinees, each with its
 * own growing counter) and --integrity-per-s `POST /api/exam/integrity`, paced on the wall clock;
 * the rates reached are reported.
 *
 * Measured in the page (performance.now(), event timeStamps and frames; never Node round trips):
 * - firstRenderMs: the click on "Open monitor of …" (its event's timeStamp) to the end of the
 *   frame after the participants table holds rows and the count says all N examinees.
 * - dialogP95Ms: the click on a row's "Actions for …" button to the end of the frame after the
 *   actions dialog is open and has a size; --samples rows, one after another, Escape between.
 * - searchP95Ms: one key typed into the empty search field to the end of the frame after the
 *   count shows the filtered list; --samples keys (digits), the field cleared between.
 * - frameP95Ms: requestAnimationFrame deltas over --seconds while the updates stream and the
 *   table is scrolled with the mouse wheel now and then.
 * - heapMB: `Runtime.getHeapUsage` after `HeapProfiler.collectGarbage` at the end
 *   (heapBeforeGcMB: the same before the collection).
 * "The end of the frame": requestAnimationFrame, then a MessageChannel message (after the frame's
 * style, layout and paint), as bench:client measures keys.
 *
 * Prints progress to stderr, a table of the figures against their targets, and last on stdout one
 * JSON object. Exits 1 when a figure misses its target (the table says which) or the page logged
 * an error, 2 on an unknown or bad option.
 *
 * Options: --examinees N (1000) --throttle N (4) --seconds N (10) --samples N (20)
 *          --autosaves-per-s N (20) --integrity-per-s N (3) --keep (keep the temp dir)
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import {
  ApplianceProcess,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  runApplianceCli,
  startedAMinuteAgo,
  writeExamFiles,
} from '../tests/support/appliance-process.js';
import { CLIENT_VERSION } from '../tests/support/appliance.js';
import { launchChromium, watchConsole, type Browser } from '../client/e2e/browser.js';
import { APPLIANCE_MAIN, buildAppliance, startCommand } from './appliance-build.js';
import { buildClient, clientBuildState } from './client-build.js';
import { gitCommit, heapMB, round, say, throttle } from './bench-client-support.js';
import { deviceAgent, send, sleep, type Reply } from './bench-hall-support.js';

const TARGETS = { firstRenderMs: 1_000, dialogP95Ms: 150, searchP95Ms: 100, frameP95Ms: 50, heapMB: 100 } as const;
const CHIEF = { username: 'chief', password: 'bench-chief-password' };

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        examinees: { type: 'string', default: '1000' },
        throttle: { type: 'string', default: '4' },
        seconds: { type: 'string', default: '10' },
        samples: { type: 'string', default: '20' },
        'autosaves-per-s': { type: 'string', default: '20' },
        'integrity-per-s': { type: 'string', default: '3' },
        keep: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const whole = (name: keyof typeof values, min: number): number => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min) {
      process.stderr.write(`--${name} needs a whole number of at least ${min}\n`);
      process.exit(2);
    }
    return v;
  };
  return {
    examinees: whole('examinees', 1),
    throttle: whole('throttle', 1),
    seconds: whole('seconds', 1),
    samples: whole('samples', 1),
    autosavesPerS: whole('autosaves-per-s', 0),
    integrityPerS: whole('integrity-per-s', 0),
    keep: values.keep === true,
  };
}

const OPTIONS = readOptions();

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

// ---------------------------------------------------------------------------------------------
// In the page. The page scripts are strings: tsx compiles this file with esbuild's keepNames,
// which wraps functions in a `__name` helper the page does not have.

/** `then` runs at the end of the frame after now (after its style, layout and paint). */
const AFTER_FRAME = `const afterFrame = (then) => requestAnimationFrame(() => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => then(performance.now());
  channel.port2.postMessage(null);
});`;

/**
 * window.__benchWatch(startSelector, done): from the next click on an element matching
 * startSelector (or, with 'keydown', the next key) until `done()` holds, checked on every DOM
 * change and every frame; resolves window.__benchResult with the milliseconds.
 */
const WATCH = `(() => {
  ${AFTER_FRAME}
  window.__benchWatch = (start, done) => {
    window.__benchResult = null;
    let startedAt = null;
    let finished = false;
    const check = () => {
      if (finished || startedAt === null || !done()) return;
      finished = true;
      observer.disconnect();
      afterFrame((t) => (window.__benchResult = t - startedAt));
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
    const poll = () => { check(); if (!finished) requestAnimationFrame(poll); };
    const onStart = (e) => {
      if (startedAt !== null) return;
      if (start !== 'keydown' && !(e.target instanceof Element && e.target.closest(start))) return;
      startedAt = e.timeStamp;
      document.removeEventListener(start === 'keydown' ? 'keydown' : 'click', onStart, true);
      check();
      requestAnimationFrame(poll);
    };
    document.addEventListener(start === 'keydown' ? 'keydown' : 'click', onStart, true);
  };
})()`;

/** Records requestAnimationFrame deltas in window.__benchFrames until window.__benchFramesStop. */
const FRAMES = `(() => {
  const deltas = [];
  window.__benchFrames = deltas;
  window.__benchFramesStop = false;
  let last = null;
  const tick = (t) => {
    if (last !== null) deltas.push(t - last);
    last = t;
    if (!window.__benchFramesStop) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

const countSays = (text: string) =>
  `() => (document.querySelector('[data-testid="participants-count"]')?.textContent ?? '').includes(${JSON.stringify(text)})`;

async function watch(page: Page, start: string, done: string): Promise<void> {
  // `done` is page code, put into the script as it is (the dashboard's CSP allows no eval).
  await page.evaluate(`window.__benchWatch(${JSON.stringify(start)}, ${done})`);
}

/**
 * Polls from here rather than with page.waitForFunction: once its predicate has to be polled, Playwright
 * compiles it in the page with `new Function`, which the dashboard's CSP refuses (an EvalError, at
 * once, whenever the result is not ready at the first look). page.evaluate goes through the DevTools
 * protocol, which the CSP does not govern.
 */
async function result(page: Page, what: string): Promise<number> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const ms = await page.evaluate<number | null>('window.__benchResult');
    if (ms !== null) return ms;
    if (performance.now() > deadline) {
      const shot = path.join(os.tmpdir(), `bench-dashboard-${process.pid}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      throw new Error(`timed out waiting for ${what} (the page as it was: ${shot})`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// The hall's load

interface Load {
  stop(): Promise<{ autosaves: Reply[]; integrity: Reply[]; seconds: number }>;
}

/** Sends `perSecond` requests a second, paced on the wall clock, until stopped. */
function paced(perSecond: number, sendOne: (i: number) => Promise<Reply>, into: Reply[]): () => Promise<void> {
  if (perSecond === 0) return () => Promise.resolve();
  let stopped = false;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const wait = started + (i * 1_000) / perSecond - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      const p = sendOne(i).then((r) => {
        into.push(r);
        pending.delete(p);
      });
      pending.add(p);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await Promise.all(pending);
  };
}

function startLoad(port: number, tokens: readonly string[]): Load {
  const agent = deviceAgent(tokens.length);
  const autosaves: Reply[] = [];
  const integrity: Reply[] = [];
  const counters = new Array<number>(tokens.length).fill(0);
  const headers = (i: number) => ({
    'x-client-version': CLIENT_VERSION,
    authorization: `Bearer ${tokens[i % tokens.length]}`,
    'content-type': 'application/json',
  });
  const started = performance.now();
  const stopAutosaves = paced(
    OPTIONS.autosavesPerS,
    (i) => {
      const who = i % tokens.length;
      const counter = ++counters[who]!;
      const essay = `Entropy, draft ${counter}: `.padEnd(500 + counter * 50, 'x');
      return send(
        agent,
        port,
        'PUT',
        '/api/exam/draft',
        headers(who),
        JSON.stringify({ counter, answers: { q1: 'a', q2: true, q4: essay }, flagged: ['q3'] }),
      );
    },
    autosaves,
  );
  const stopIntegrity = paced(
    OPTIONS.integrityPerS,
    // A different examinee each time, spread over the roster.
    (i) =>
      send(
        agent,
        port,
        'POST',
        '/api/exam/integrity',
        headers((i * 37) % tokens.length),
        JSON.stringify({ type: 'window-blur', detail: 'bench' }),
      ),
    integrity,
  );
  return {
    async stop() {
      await Promise.all([stopAutosaves(), stopIntegrity()]);
      const seconds = (performance.now() - started) / 1_000;
      agent.destroy();
      return { autosaves, integrity, seconds };
    },
  };
}

/** Signs every examinee in, downloads the package and fetches the key; returns their tokens. */
async function prepareExaminees(
  port: number,
  roster: readonly { studentId: string; accessCode: string }[],
): Promise<string[]> {
  const agent = deviceAgent(64);
  const base = { 'x-client-version': CLIENT_VERSION };
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < roster.length) {
      const i = next++;
      const e = roster[i]!;
      const signIn = await send(
        agent,
        port,
        'POST',
        '/api/session',
        { ...base, 'content-type': 'application/json' },
        JSON.stringify({
          studentId: e.studentId,
          accessCode: e.accessCode,
          deviceId: `bench-device-${String(i).padStart(8, '0')}`,
        }),
      );
      if (signIn.status !== 200) throw new Error(`${e.studentId} sign-in: HTTP ${signIn.status} ${signIn.body}`);
      const token = (JSON.parse(signIn.body) as { token: string }).token;
      tokens[i] = token;
      for (const p of ['/api/exam/package', '/api/exam/key']) {
        const r = await send(agent, port, 'GET', p, { ...base, authorization: `Bearer ${token}` });
        if (r.status !== 200) throw new Error(`${e.studentId} ${p}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      }
      if ((i + 1) % 250 === 0) say(`  ${i + 1} examinees signed in and started`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  agent.destroy();
  return tokens;
}

// ---------------------------------------------------------------------------------------------

const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      say(`cleanup: ${(err as Error).message}`);
    }
  }
}
process.once('SIGINT', () => {
  say('interrupted: cleaning up');
  void cleanUp().then(() => process.exit(130));
});

async function main(): Promise<void> {
  const n = OPTIONS.examinees;
  const build = clientBuildState();
  if (build.state !== 'fresh') {
    say(`building the client (${build.state === 'missing' ? build.reason : `${build.newer} is newer`})...`);
    await buildClient({ quiet: true });
  }
  say(
    `bench:dashboard: ${n} examinees, CPU ${OPTIONS.throttle}× slower, ${OPTIONS.autosavesPerS} autosaves/s and ` +
      `${OPTIONS.integrityPerS} integrity events/s`,
  );
  const tmp = await makeTempDir('bench-dashboard-');
  cleanups.push(async () => {
    if (OPTIONS.keep) say(`kept ${tmp}`);
    else await removeTempDir(tmp);
  });
  const dataDir = path.join(tmp, 'data');
  const files = await writeExamFiles(tmp, { startMs: startedAMinuteAgo(), examinees: n });
  const env = applianceEnv(dataDir);
  const imported = await runApplianceCli(['import', files.examPath, files.rosterPath], env);
  if (imported.code !== 0) throw new Error(`import failed:\n${imported.stderr}`);
  const added = await runApplianceCli(
    ['proctor', 'add', CHIEF.username, '--role', 'chief', '--password-stdin'],
    env,
    `${CHIEF.password}\n`,
  );
  if (added.code !== 0) throw new Error(`proctor add failed:\n${added.stderr}`);
  const start = startCommand();
  await buildAppliance();
  const appliance = await ApplianceProcess.start({
    dataDir,
    command: [process.execPath, ...start.nodeFlags, APPLIANCE_MAIN],
    env: { ...start.env, PROCTOR_CLOCK_TRUST: 'trusted' },
  });
  cleanups.push(() => appliance.kill());
  say(`appliance PID ${appliance.serverPid} at ${appliance.baseUrl}, exam "${files.exam.title}"`);

  const t0 = performance.now();
  const tokens = await prepareExaminees(appliance.port, files.roster);
  say(`${n} examinees signed in, downloaded and started in ${round((performance.now() - t0) / 1_000)} s`);

  const browser: Browser = await launchChromium();
  cleanups.push(() => browser.close());
  const page = await browser.context.newPage();
  const errors = watchConsole(page);
  const cdp = await throttle(page, OPTIONS.throttle);
  await page.goto(`${appliance.baseUrl}/proctor/`);
  await page.getByLabel('Username').click();
  await page.keyboard.type(CHIEF.username, { delay: 20 });
  await page.getByLabel('Password').click();
  await page.keyboard.type(CHIEF.password, { delay: 20 });
  await page.getByRole('button', { name: 'Sign in' }).click();
  const open = page.getByRole('button', { name: `Open monitor of ${files.exam.title}` });
  await open.waitFor({ timeout: 60_000 });

  // The hall is busy from here to the end.
  const load = startLoad(appliance.port, tokens);
  let loadStopped = false;
  const stopLoad = async () => {
    loadStopped = true;
    return load.stop();
  };
  cleanups.push(async () => {
    if (!loadStopped) await stopLoad();
  });

  // 1. First render.
  await page.evaluate(WATCH);
  await watch(
    page,
    'button[aria-label^="Open monitor of"]',
    `() => document.querySelector('[data-testid="participants-table"] tbody tr[data-student]') !== null && (${countSays(`of ${n} examinees`)})()`,
  );
  await open.click();
  const firstRenderMs = round(await result(page, 'the participants table'), 0);
  say(`first render: ${firstRenderMs} ms from "Open monitor" to the table's rows on screen`);
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor({ timeout: 60_000 });

  // 2. The actions dialog, on different rows.
  const dialogs: number[] = [];
  const inView = await page.evaluate<string[]>(
    `[...document.querySelectorAll('[data-testid="participants-table"] tbody tr[data-student]')].map((r) => r.getAttribute('data-student'))`,
  );
  // A different row each time (Playwright scrolls a row below the fold into view first, as a person would).
  const names = inView.slice(0, OPTIONS.samples).map((id) => files.roster.find((r) => r.studentId === id)!.name);
  if (names.length === 0) throw new Error('no rows in the participants table');
  for (let i = 0; i < OPTIONS.samples; i++) {
    const label = `Actions for ${names[i % names.length]!}`;
    await watch(
      page,
      'td.actions-cell button',
      `() => { const d = document.querySelector('dialog[data-testid="row-actions"]'); return d !== null && d.open && d.getBoundingClientRect().height > 0; }`,
    );
    await page.getByRole('button', { name: label, exact: true }).click();
    dialogs.push(await result(page, `the dialog of ${label}`));
    await page.keyboard.press('Escape');
    await page.locator('dialog[data-testid="row-actions"]').waitFor({ state: 'hidden' });
  }
  const dialogP95Ms = round(percentile(dialogs, 95));
  say(`actions dialog: p50 ${round(percentile(dialogs, 50))} ms, p95 ${dialogP95Ms} ms over ${dialogs.length} opens`);

  // 3. Search: one key into the empty field, then cleared.
  const searches: number[] = [];
  const search = page.getByLabel('Search by name or student ID');
  await search.click();
  for (let i = 0; i < OPTIONS.samples; i++) {
    const key = String((i % 9) + 1);
    await watch(page, 'keydown', `() => !(${countSays(`Showing ${n} of ${n}`)})()`);
    await page.keyboard.type(key);
    searches.push(await result(page, `the search for ${key}`));
    await page.keyboard.press('Backspace');
    await page
      .getByTestId('participants-count')
      .filter({ hasText: `Showing ${n} of ${n} examinees` })
      .waitFor();
  }
  const searchP95Ms = round(percentile(searches, 95));
  say(`search: p50 ${round(percentile(searches, 50))} ms, p95 ${searchP95Ms} ms over ${searches.length} keys`);

  // 4. Frames while the updates stream and the table is scrolled now and then.
  const scroller = page.locator('.table-scroll');
  await scroller.scrollIntoViewIfNeeded();
  const box = (await scroller.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.evaluate(FRAMES);
  const until = performance.now() + OPTIONS.seconds * 1_000;
  for (let i = 0; performance.now() < until; i++) {
    await page.mouse.wheel(0, i % 20 < 10 ? 400 : -400);
    await sleep(250);
  }
  const frames = await page.evaluate<number[]>('(window.__benchFramesStop = true, window.__benchFrames)');
  const frameP95Ms = round(percentile(frames, 95));
  say(
    `frames: p50 ${round(percentile(frames, 50))} ms, p95 ${frameP95Ms} ms, max ${round(Math.max(...frames))} ms ` +
      `over ${frames.length} frames in ${OPTIONS.seconds} s`,
  );

  // 5. Heap, then the load's own figures.
  const before = await cdp.send('Runtime.getHeapUsage');
  const heap = await heapMB(cdp);
  const heapBeforeGcMB = round(before.usedSize / 1e6, 1);
  const { autosaves, integrity, seconds } = await stopLoad();
  const rate = (rs: Reply[]) => round(rs.length / seconds, 1);
  const failed = (rs: Reply[], ok: number) => rs.filter((r) => r.status !== ok).length;
  const loadFigures = {
    seconds: round(seconds, 1),
    autosavesPerS: rate(autosaves),
    autosaveErrors: failed(autosaves, 200),
    integrityPerS: rate(integrity),
    integrityErrors: failed(integrity, 201),
  };
  const firstBad = [...autosaves, ...integrity].find((r) => r.status !== 200 && r.status !== 201);
  say(
    `load: ${autosaves.length} autosaves (${loadFigures.autosavesPerS}/s, ${loadFigures.autosaveErrors} errors), ` +
      `${integrity.length} integrity events (${loadFigures.integrityPerS}/s, ${loadFigures.integrityErrors} errors) ` +
      `over ${loadFigures.seconds} s` +
      (firstBad ? `; first error: ${firstBad.error ?? `HTTP ${firstBad.status} ${firstBad.body.slice(0, 200)}`}` : ''),
  );

  const figures = { firstRenderMs, dialogP95Ms, searchP95Ms, frameP95Ms, heapMB: heap.used };
  const missed = (Object.keys(TARGETS) as (keyof typeof TARGETS)[]).filter((k) => !(figures[k] < TARGETS[k]));
  say('');
  say(`${'figure'.padEnd(16)}${'measured'.padStart(10)}${'target'.padStart(10)}  `);
  for (const k of Object.keys(TARGETS) as (keyof typeof TARGETS)[])
    say(
      `${k.padEnd(16)}${String(figures[k]).padStart(10)}${`< ${TARGETS[k]}`.padStart(10)}  ${missed.includes(k) ? 'MISSED' : 'ok'}`,
    );
  say(
    `(CPU ${OPTIONS.throttle}× slower; ${loadFigures.autosavesPerS} autosaves/s, ${loadFigures.integrityPerS} integrity events/s reached)`,
  );
  const problems = [
    ...missed.map((k) => `${k} ${figures[k]} misses its target (< ${TARGETS[k]})`),
    ...errors.map((e) => `the page logged: ${e}`),
    ...(loadFigures.autosaveErrors + loadFigures.integrityErrors > 0 ? ['the load generator got errors'] : []),
  ];
  for (const p of problems) say(`FAIL: ${p}`);

  process.stdout.write(
    `${JSON.stringify({
      examinees: n,
      cpuThrottle: OPTIONS.throttle,
      ...figures,
      heapBeforeGcMB,
      dialogP50Ms: round(percentile(dialogs, 50)),
      searchP50Ms: round(percentile(searches, 50)),
      frameP50Ms: round(percentile(frames, 50)),
      frameMaxMs: round(Math.max(...frames)),
      frames: frames.length,
      runs: { dialogs: dialogs.length, searches: searches.length, frameSeconds: OPTIONS.seconds },
      load: loadFigures,
      targets: TARGETS,
      missed,
      commit: gitCommit(),
      ok: problems.length === 0,
    })}\n`,
  );
  if (problems.length > 0) process.exitCode = 1;
}

main()
  .catch((err: unknown) => {
    process.stderr.write(
      `bench:dashboard failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => cleanUp())
  .then(() => process.exit(process.exitCode ?? 0));
