import { defineConfig } from 'vitest/config';

/** Unit, HTTP and process tests: everything but the browser tests. */
const UNIT = [
  'domain/**/*.test.ts',
  'appliance/**/*.test.ts',
  'sync/**/*.test.ts',
  'client/**/*.test.ts',
  'portal/**/*.test.ts',
  'tests/**/*.test.ts',
];
/** Browser tests: real Chromium against a real appliance serving the built client. */
const BROWSER = ['client/e2e/**/*.test.ts'];
/** The institution's portal in real Chromium, against the central stand-in (builds portal/dist first). */
const PORTAL_BROWSER = ['portal/e2e/**/*.test.ts'];
/**
 * Browser tests that load the machine on purpose and judge what a slow machine does: keys typed
 * with the CPU throttled, network cuts at random moments. They run one at a time, after the
 * rest, so that no other test's load changes what they measure.
 */
const BROWSER_ALONE = ['client/e2e/typing.test.ts', 'client/e2e/human-input.test.ts', 'client/e2e/chaos.test.ts'];
/** Crash test: SIGKILL during a submission storm (npm run test:crash). */
const CRASH = ['tests/crash/**/*.test.ts'];
/** Bad input and attack suite against the real appliance process (npm run test:attack). */
const ATTACK = ['tests/attack/**/*.test.ts'];

/**
 * Two groups, one after the other (`sequence.groupOrder`). First most of the suite two files at
 * a time (2 cores; most browser tests wait on an exam's start or a stream far more than they
 * compute); then, one file at a time, the tests that load the machine themselves or judge
 * timing under load: the crash storm, the attack suite's floods, and BROWSER_ALONE.
 */
const SHARED = { sequence: { groupOrder: 0 }, maxWorkers: 2 } as const;
const ALONE = { sequence: { groupOrder: 1 }, maxWorkers: 1 } as const;

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', 'client/dist/**'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT,
          exclude: [...BROWSER, ...PORTAL_BROWSER, ...CRASH, ...ATTACK],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          ...SHARED,
        },
      },
      {
        extends: true,
        test: {
          name: 'crash',
          include: CRASH,
          // 20 kills and restarts of a real appliance process with a storm of uploads.
          testTimeout: 240_000,
          hookTimeout: 60_000,
          ...ALONE,
        },
      },
      {
        extends: true,
        test: {
          name: 'attack',
          include: ATTACK,
          // Real appliance processes under 10,000+ requests.
          testTimeout: 180_000,
          hookTimeout: 60_000,
          ...ALONE,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: BROWSER,
          exclude: BROWSER_ALONE,
          // Builds client/dist first when it is missing or older than its sources.
          globalSetup: ['client/e2e/global-setup.ts'],
          // A browser start, an appliance start and page loads per test, on a 2-core machine
          // shared with one other test file.
          testTimeout: 120_000,
          hookTimeout: 120_000,
          ...SHARED,
        },
      },
      {
        extends: true,
        test: {
          name: 'portal-browser',
          include: PORTAL_BROWSER,
          // Builds portal/dist first when it is missing or older than its sources.
          globalSetup: ['portal/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          ...SHARED,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser-alone',
          include: BROWSER_ALONE,
          globalSetup: ['client/e2e/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          ...ALONE,
        },
      },
    ],
  },
});
