import { defineConfig } from 'vitest/config';

/** Unit, HTTP and process tests: everything but the browser tests. */
const UNIT = [
  'domain/**/*.test.ts',
  'appliance/**/*.test.ts',
  'sync/**/*.test.ts',
  'client/**/*.test.ts',
  'tests/**/*.test.ts',
];
/** Browser tests: real Chromium against a real appliance serving the built client. */
const BROWSER = ['client/e2e/**/*.test.ts'];
/** Crash test: SIGKILL during a submission storm (npm run test:crash). */
const CRASH = ['tests/crash/**/*.test.ts'];
/** Bad input and attack suite against the real appliance process (npm run test:attack). */
const ATTACK = ['tests/attack/**/*.test.ts'];

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
          exclude: [...BROWSER, ...CRASH, ...ATTACK],
          testTimeout: 30_000,
          hookTimeout: 60_000,
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
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: BROWSER,
          // Builds client/dist first when it is missing or older than its sources.
          globalSetup: ['client/e2e/global-setup.ts'],
          // A browser start, an appliance start and page loads per test, on a 2-core machine.
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
