/**
 * `npm run bench:client`: the examinee's browser, measured in real Chromium (Debian's
 * /usr/bin/chromium through playwright-core, client/e2e/browser.ts) against a real appliance (the
 * bundle `npm start` runs, on a fresh data folder in a temp dir) serving the built client
 * (client/dist, built first when missing or stale), with the demo exam (examples/exam-demo.json
 * and roster-demo.csv, imported through the CLI, moved so that it started a minute ago). Every
 * page runs with the CPU throttled (--throttle, 4×) through the DevTools protocol
 * (`Emulation.setCPUThrottlingRate`), as a school laptop is slow.
 *
 * 1. Baseline: a blank page with a bare <textarea> holding the same 5,000-word text, typed into
 *    the same way: what the browser itself costs per key at this throttle, in this run.
 * 2. signInToQuestionMs: in --runs fresh browser profiles, one demo examinee each, the student id
 *    and access code are typed, then the time in the page from the "Sign in" click event to the
 *    frame after "Question 1 of 11" is in the document: sign-in, lobby, "Download exam" (clicked
 *    as soon as it is there), the package download, the key the appliance releases at the start
 *    (online after the start the key comes by itself; the exam-password form is the offline way),
 *    decryption, the first question. The median is reported.
 * 3. keyLatencyP50Ms / P99Ms: one more examinee opens the essay (question 10), 5,000 words are put
 *    into it as a paste is (CDP `Input.insertText`), and once they are saved (device database and
 *    appliance) --keys characters are typed with real key events (keyboard.type), one every
 *    --key-delay-ms on the wall clock (a key that took long to dispatch does not delay the
 *    next; the keys per second reached are reported). Per key, in the page: from the keydown
 *    event's timeStamp (capture listener; the time the browser took the key, so a busy main
 *    thread counts) to the end of the next frame (requestAnimationFrame, then a MessageChannel
 *    message: after the frame's style, layout and paint). The same on the baseline page.
 * 4. writesPerChar: --write-keys more characters, one every --write-delay-ms; the RxDB writes are
 *    counted from the device's IndexedDB itself (RxDB's Dexie storage), not from the app: the
 *    revision height of the answer sheet's document (`_rev` "N-…") after the typing is saved,
 *    minus before. allWritesPerChar counts every document revision of every RxDB collection of
 *    the app the same way (the attempt, and the replication's own meta documents).
 * 5. heapMB: the essay is filled up to --heap-chars characters in all (the 5,000 words and the
 *    typed keys count) by `Input.insertText` chunks of --chunk-chars, each followed by a few real
 *    key events, waited until saved, then `HeapProfiler.collectGarbage` and the JS heap in use
 *    (`Runtime.getHeapUsage`), MB = 10^6 bytes. heapBaselineMB is the same right after question 1
 *    of the same page came on screen.
 * 6. Checks that the field, the device's database and the appliance's draft hold exactly the text
 *    that was put in, and that the page logged no error. Exits 1 otherwise (a broken page gives
 *    no figures); a missed target is reported, not an exit code.
 *
 * Prints progress to stderr and, last on stdout, one JSON object.
 *
 * Options: --runs N (3) --throttle N (4) --words N (5000) --keys N (300) --key-delay-ms N (50)
 *          --write-keys N (300) --write-delay-ms N (100) --heap-chars N (200000)
 *          --chunk-chars N (2000) --keep (keep the temp dir)
 */
import { countWords } from '../domain/answer-sheet.js';
import { seededRandom } from '../domain/seeded-random.js';
import { makeTempDir, removeTempDir } from '../tests/support/appliance-process.js';
import { launchChromium, watchConsole, type Browser } from '../client/e2e/browser.js';
import { buildClient, clientBuildState } from './client-build.js';
import {
  gitCommit,
  goTo,
  heapMB,
  keyFigures,
  KEY_PROBE,
  openDemoHall,
  readRxdb,
  revisions,
  revisionsByCollection,
  round,
  say,
  SHEETS_DB,
  signIn,
  throttle,
  typeSteadily,
  waitSaved,
  type BenchHall,
  type KeyFigures,
} from './bench-client-support.js';

const ESSAY_NUMBER = 10;

const TARGETS = { keyLatencyP99Ms: 50, writesPerChar: 0.5, heapMB: 50 };

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

const OPTIONS = {
  runs: Math.max(1, option('runs', 3)),
  throttle: Math.max(1, option('throttle', 4)),
  words: option('words', 5_000),
  keys: option('keys', 300),
  keyDelayMs: option('key-delay-ms', 50),
  writeKeys: Math.max(1, option('write-keys', 300)),
  writeDelayMs: option('write-delay-ms', 100),
  heapChars: option('heap-chars', 200_000),
  chunkChars: Math.max(1, option('chunk-chars', 2_000)),
  keep: process.argv.includes('--keep'),
};

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const median = (xs: readonly number[]) => percentile(xs, 50);

// ---------------------------------------------------------------------------------------------
// Text

const SENTENCES = [
  'The total momentum of a closed system stays the same before and after a collision.',
  'When two carts collide on a frictionless track, the momentum one loses the other gains.',
  'Momentum is the product of mass and velocity, so it is a vector and has a direction.',
  "Newton's third law says the forces between the carts are equal and opposite at every instant.",
  'Because the forces act for the same time, the impulses are equal and opposite as well.',
  'A rifle recoils when it fires because the bullet and the rifle start with zero total momentum.',
  'In an elastic collision kinetic energy is conserved too, in an inelastic one it is not.',
  'Consider a 2 kg ball moving at 3 m/s that hits a 1 kg ball at rest and sticks to it.',
  'The combined mass of 3 kg must then move at 2 m/s, since 2 times 3 equals 3 times 2.',
  'External forces such as friction change the momentum of the system over time.',
  'A rocket pushes exhaust gas backwards, and the gas pushes the rocket forwards.',
  'Ice skaters who push each other apart move off with speeds in the inverse ratio of their masses.',
];

/** `words` words of an essay on momentum, in paragraphs, the same in every run. */
function essayText(words: number): string {
  const random = seededRandom(14);
  const out: string[] = [];
  let paragraph: string[] = [];
  let count = 0;
  while (count < words) {
    const sentence = SENTENCES[Math.floor(random() * SENTENCES.length)]!.split(' ');
    const take = sentence.slice(0, words - count);
    paragraph.push(take.join(' '));
    count += take.length;
    if (paragraph.length >= 6 || count >= words) {
      out.push(paragraph.join(' '));
      paragraph = [];
    }
  }
  return out.join('\n\n');
}

/** What is typed key by key: `n` characters of plain ASCII prose (every one has a key). */
function typedText(n: number, seed: number): string {
  const random = seededRandom(seed);
  let s = '';
  while (s.length < n) s += ` ${SENTENCES[Math.floor(random() * SENTENCES.length)]!}`;
  return s.slice(0, n);
}

// ---------------------------------------------------------------------------------------------

/** The browser's own cost: a bare textarea with the same text, typed into the same way. */
async function baseline(
  browser: Browser,
  essay: string,
  typed: string,
): Promise<KeyFigures & { keysPerSecond: number }> {
  const page = await browser.context.newPage();
  await page.setContent('<textarea rows="10" cols="100" aria-label="Your answer"></textarea>');
  await throttle(page, OPTIONS.throttle);
  await page.getByRole('textbox', { name: 'Your answer' }).click();
  await page.keyboard.insertText(essay);
  await page.evaluate(KEY_PROBE);
  const keysPerSecond = await typeSteadily(page, typed, OPTIONS.keyDelayMs);
  const figures = await keyFigures(page, typed.length);
  await page.close();
  return { ...figures, keysPerSecond };
}

async function main(): Promise<void> {
  const problems: string[] = [];
  const build = clientBuildState();
  if (build.state !== 'fresh') {
    say(`building the client (${build.state === 'missing' ? build.reason : `${build.newer} is newer`})...`);
    await buildClient({ quiet: true });
  }
  const essay = essayText(OPTIONS.words);
  const typedForLatency = typedText(OPTIONS.keys, 1);
  const typedForWrites = typedText(OPTIONS.writeKeys, 2);
  say(
    `bench:client: CPU ${OPTIONS.throttle}× slower, essay of ${countWords(essay)} words (${essay.length} characters)`,
  );

  const tmp = await makeTempDir('bench-client-');
  const browsers: Browser[] = [];
  let b: BenchHall | undefined;
  try {
    b = await openDemoHall(tmp);
    say(`appliance PID ${b.hall.appliance.serverPid} at ${b.hall.origin}, demo exam "${b.hall.files.exam.title}"`);
    if (b.roster.length < OPTIONS.runs + 1) throw new Error(`--runs is at most ${b.roster.length - 1}`);

    // 1. Baseline.
    const main = await launchChromium();
    browsers.push(main);
    const {
      samples: base,
      longTasks: baseLongTasks,
      keysPerSecond: baseKeysPerSecond,
    } = await baseline(main, essay, typedForLatency);
    if (base.length !== typedForLatency.length)
      problems.push(`baseline: ${base.length} samples for ${typedForLatency.length} keys`);
    say(
      `baseline (bare textarea): key to next frame p50 ${round(percentile(base, 50))} ms, ` +
        `p99 ${round(percentile(base, 99))} ms over ${base.length} keys (${baseKeysPerSecond} keys/s); ` +
        `${baseLongTasks.count} long tasks, ${baseLongTasks.ms} ms`,
    );

    // 2. Sign-in to question 1, each in a fresh profile.
    const signIns: number[] = [];
    for (let i = 0; i < OPTIONS.runs; i++) {
      const browser = await launchChromium();
      try {
        const page = await browser.context.newPage();
        const errors = watchConsole(page);
        await throttle(page, OPTIONS.throttle);
        const ms = await signIn(page, b, b.roster[i]!);
        signIns.push(round(ms, 0));
        say(`sign-in ${i + 1} (${b.roster[i]!.studentId}): ${round(ms, 0)} ms from "Sign in" to question 1 on screen`);
        problems.push(...errors.map((e) => `sign-in ${i + 1}: ${e}`));
      } finally {
        await browser.close();
      }
    }

    // 3. Key latency in the 5,000-word essay.
    const examinee = b.roster[b.roster.length - 1]!;
    const page = await main.context.newPage();
    const errors = watchConsole(page);
    const cdp = await throttle(page, OPTIONS.throttle);
    await signIn(page, b, examinee);
    const heapBaseline = await heapMB(cdp);
    say(`${examinee.studentId} on question 1; JS heap ${heapBaseline.used} MB after a collection`);
    await goTo(page, ESSAY_NUMBER);
    const field = page.getByRole('textbox', { name: 'Your answer' });
    await field.click();
    let expected = essay;
    await page.keyboard.insertText(essay);
    await waitSaved(b, page, expected, `the ${OPTIONS.words}-word essay`);
    await page.keyboard.press('Control+End');
    await page.evaluate(KEY_PROBE);
    say(`typing ${typedForLatency.length} characters at ${OPTIONS.keyDelayMs} ms per key...`);
    const latencyKeysPerSecond = await typeSteadily(page, typedForLatency, OPTIONS.keyDelayMs);
    expected += typedForLatency;
    const { samples: latencies, longTasks } = await keyFigures(page, typedForLatency.length);
    if (latencies.length !== typedForLatency.length)
      problems.push(`key latency: ${latencies.length} samples for ${typedForLatency.length} keys`);
    say(
      `key to next frame: p50 ${round(percentile(latencies, 50))} ms, p99 ${round(percentile(latencies, 99))} ms, ` +
        `max ${round(Math.max(...latencies))} ms over ${latencies.length} keys (${latencyKeysPerSecond} keys/s); ` +
        `${longTasks.count} long tasks, ${longTasks.ms} ms`,
    );
    await waitSaved(b, page, expected, 'the typed keys');

    // 4. Writes per typed character.
    const before = await readRxdb(page);
    const sheetBefore = before.find((d) => d.db === SHEETS_DB)!;
    say(`typing ${typedForWrites.length} characters at ${OPTIONS.writeDelayMs} ms per key...`);
    const writeKeysPerSecond = await typeSteadily(page, typedForWrites, OPTIONS.writeDelayMs);
    expected += typedForWrites;
    await waitSaved(b, page, expected, 'the steady typing');
    const after = await readRxdb(page);
    const sheetAfter = after.find((d) => d.db === SHEETS_DB)!;
    const sheetWrites = sheetAfter.revHeight - sheetBefore.revHeight;
    const allWrites = revisions(after) - revisions(before);
    const byCollection = revisionsByCollection(before, after);
    const counterWrites = (sheetAfter.counter ?? 0) - (sheetBefore.counter ?? 0);
    const writesPerChar = round(sheetWrites / typedForWrites.length, 3);
    say(
      `RxDB writes: ${sheetWrites} revisions of the answer sheet for ${typedForWrites.length} characters ` +
        `(${writesPerChar} per character; sheet counter +${counterWrites}); every RxDB document: ${allWrites} ` +
        `revisions (${JSON.stringify(byCollection)}); ${writeKeysPerSecond} keys/s`,
    );

    // 5. Heap after 200,000 characters.
    let entered = expected.length;
    const chunkText = typedText(OPTIONS.chunkChars, 3);
    const tail = 'abc ';
    say(`filling the essay up to ${OPTIONS.heapChars} characters (${OPTIONS.chunkChars}-character pastes and keys)...`);
    let chunks = 0;
    while (entered < OPTIONS.heapChars) {
      const chunk = chunkText.slice(0, OPTIONS.heapChars - entered);
      await page.keyboard.insertText(chunk);
      expected += chunk;
      entered += chunk.length;
      chunks++;
      const keys = tail.slice(0, Math.max(0, OPTIONS.heapChars - entered));
      if (keys !== '') {
        await typeSteadily(page, keys, OPTIONS.keyDelayMs);
        expected += keys;
        entered += keys.length;
      }
      if (chunks % 20 === 0) say(`  ${entered} characters`);
    }
    await waitSaved(b, page, expected, `${entered} characters`);
    const heap = await heapMB(cdp);
    say(
      `JS heap after ${entered} characters: ${heap.used} MB after a collection ` +
        `(JSHeapUsedSize ${heap.metric} MB; ${heapBaseline.used} MB at question 1)`,
    );

    problems.push(...errors);
    const signInToQuestionMs = median(signIns);
    const keyLatencyP99Ms = round(percentile(latencies, 99));
    const met = {
      keyLatencyP99Ms: keyLatencyP99Ms < TARGETS.keyLatencyP99Ms,
      writesPerChar: writesPerChar <= TARGETS.writesPerChar,
      heapMB: heap.used < TARGETS.heapMB,
    };
    say(
      `targets: key p99 < ${TARGETS.keyLatencyP99Ms} ms ${met.keyLatencyP99Ms ? 'met' : 'MISSED'}; ` +
        `writes per character <= ${TARGETS.writesPerChar} ${met.writesPerChar ? 'met' : 'MISSED'}; ` +
        `heap < ${TARGETS.heapMB} MB ${met.heapMB ? 'met' : 'MISSED'}`,
    );
    for (const p of problems) say(`WRONG: ${p}`);
    const result = {
      keyLatencyP50Ms: round(percentile(latencies, 50)),
      keyLatencyP99Ms,
      writesPerChar,
      heapMB: heap.used,
      signInToQuestionMs,
      cpuThrottle: OPTIONS.throttle,
      keyLatencyMaxMs: round(Math.max(...latencies)),
      keys: latencies.length,
      keyIntervalMs: OPTIONS.keyDelayMs,
      keysPerSecond: latencyKeysPerSecond,
      keyLatencyP99VsBaseline: round(keyLatencyP99Ms / percentile(base, 99), 2),
      longTasks,
      // In typing order, so that a backlog (latency growing key after key) shows.
      keyLatencySamplesMs: latencies.map((x) => Math.round(x)),
      essayWords: countWords(essay),
      baseline: {
        what: 'a bare <textarea> on a blank page with the same text and keys, same throttle',
        keyLatencyP50Ms: round(percentile(base, 50)),
        keyLatencyP99Ms: round(percentile(base, 99)),
        keysPerSecond: baseKeysPerSecond,
        longTasks: baseLongTasks,
        keyLatencySamplesMs: base.map((x) => Math.round(x)),
      },
      writes: {
        sheetRevisions: sheetWrites,
        sheetCounter: counterWrites,
        allRxdbRevisions: allWrites,
        allWritesPerChar: round(allWrites / typedForWrites.length, 3),
        byCollection,
        chars: typedForWrites.length,
        intervalMs: OPTIONS.writeDelayMs,
        keysPerSecond: writeKeysPerSecond,
      },
      heapBaselineMB: heapBaseline.used,
      heapJSHeapUsedSizeMB: heap.metric,
      heapChars: entered,
      signInRunsMs: signIns,
      targets: TARGETS,
      met,
      commit: gitCommit(),
      ok: problems.length === 0,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    for (const browser of browsers) await browser.close();
    await b?.hall.close();
    if (OPTIONS.keep) say(`kept ${tmp}`);
    else await removeTempDir(tmp);
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench:client failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
