/**
 * Real Chromium for the browser tests (DESIGN.md "Chosen dependencies"): Debian's
 * /usr/bin/chromium driven by playwright-core, never a downloaded browser, each launch on a fresh
 * profile folder. A missing Chromium fails the test with what to install; it is never skipped.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser as PlaywrightBrowser, type BrowserContext, type Page } from 'playwright-core';
import { makeTempDir, removeTempDir, REPO_ROOT } from '../../tests/support/appliance-process.js';

export const CHROMIUM = '/usr/bin/chromium';
/** The flags DESIGN.md prescribes (Playwright adds the fresh --user-data-dir it is given). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// The page's globals as the functions given to page.evaluate() use them. The root tsconfig has
// no DOM library (Node code must not see browser types), so they are declared here, narrowly.
declare const document: { documentElement: { scrollWidth: number }; activeElement: { id: string } | null };
declare const window: { innerWidth: number };
declare const navigator: {
  serviceWorker: {
    ready: Promise<unknown>;
    controller: unknown;
    addEventListener(type: 'controllerchange', listener: () => void, options: { once: boolean }): void;
  };
};

/** Screenshots land here (gitignored). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-output', 'e2e');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /**
   * Flags added to CHROMIUM_ARGS, e.g. `--ignore-certificate-errors` for the appliance's test CA
   * (Playwright's ignoreHTTPSErrors alone does not let a service worker script load), or
   * `--host-resolver-rules=MAP exam-hall.test 127.0.0.1` to reach it by a name that is not a
   * secure context.
   */
  extraArgs?: readonly string[];
}

/** Launches Chromium on a fresh profile; fails with a clear message when it is not installed. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Debian's Chromium at ${CHROMIUM}, and it is not there. ` +
        'Install it with `apt-get install -y chromium` (the tests never download a browser).',
    );
  }
  const profile = await makeTempDir('proctor-e2e-profile-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      await removeTempDir(profile);
    },
  };
}

/**
 * One Chromium for several devices at once (the chaos test's examinees): each `newContext()` is a
 * separate profile in memory (its own storage, service worker, network and clock), lighter on a
 * 2-core machine than one browser process per device.
 */
export async function launchChromiumForDevices(options: LaunchOptions = {}): Promise<{
  browser: PlaywrightBrowser;
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Debian's Chromium at ${CHROMIUM}, and it is not there. ` +
        'Install it with `apt-get install -y chromium` (the tests never download a browser).',
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
  });
  return {
    browser,
    newContext: () => browser.newContext({ viewport: { width: 1280, height: 800 } }),
    close: () => browser.close(),
  };
}

/**
 * Console errors and uncaught exceptions of a page, as text; with `warnings`, console warnings
 * too (the production page prints none: no library notices, e.g. RxDB's premium advertisement,
 * which the build removes: client/build/no-rxdb-notice.ts).
 */
export function watchConsole(page: Page, options: { networkCut?: boolean; warnings?: boolean } = {}): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (options.warnings && m.type() === 'warning') {
      errors.push(`console.warn: ${m.text()} (${m.location().url})`);
      return;
    }
    if (m.type() !== 'error') return;
    // A test that cuts the network (context.setOffline) makes Chromium itself log every request
    // the cut fails, including ones a page sends in the instant after a reload before it learns
    // it is offline. That message is the browser's, not the app's; anything else still counts.
    if (options.networkCut && /^Failed to load resource: net::ERR_INTERNET_DISCONNECTED$/.test(m.text())) return;
    errors.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  return errors;
}

/** Saves a full-page screenshot as test-output/e2e/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Whether the page is wider than the viewport (a horizontal scroll bar: broken at that width). */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}

/** The id of the element that has the keyboard focus ('' when none has one). */
export function focusedId(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.id ?? '');
}

/** Waits until a service worker controls the page (installed, activated, claimed). */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (navigator.serviceWorker.controller) return;
    await new Promise<void>((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
    );
  });
}
