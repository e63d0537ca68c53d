/**
 * mDNS over real packets: a real appliance process advertises, and a second process (the
 * `discover` CLI) finds it and sees it withdrawn on SIGTERM (goodbye packets, long before any
 * record's TTL). The two run in two network namespaces joined by a veth pair that this test
 * creates (as root) and always removes. Where namespaces cannot be made, both run on this host
 * over 127.0.0.1 with bonjour-service's interface option, and the test says so loudly.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApplianceProcess,
  CLI_ENTRY,
  NODE_TSX,
  REPO_ROOT,
  applianceEnv,
  makeTempDir,
  removeTempDir,
  withDeadline,
} from '../../../tests/support/appliance-process.js';
import type { DiscoveredAppliance } from './index.js';

const TAG = randomBytes(3).toString('hex');
const NS_APPLIANCE = `proctor-t${TAG}-a`;
const NS_BROWSER = `proctor-t${TAG}-b`;
const VETH_APPLIANCE = `pt${TAG}a`;
const VETH_BROWSER = `pt${TAG}b`;
const SUBNET = `10.${200 + (parseInt(TAG.slice(0, 2), 16) % 50)}.${parseInt(TAG.slice(2, 4), 16)}`;
const APPLIANCE_ADDRESS = `${SUBNET}.1`;
const BROWSER_ADDRESS = `${SUBNET}.2`;
const NAME = `hall-box-${TAG}`;

interface Mode {
  kind: 'namespaces' | 'loopback';
  /** Prefix for a command in the appliance's / browser's network. */
  applianceWrapper: string[];
  browserWrapper: string[];
  applianceEnv: Record<string, string>;
  browserInterface: string;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

function removeNamespaces(): void {
  for (const ns of [NS_APPLIANCE, NS_BROWSER]) {
    try {
      ip('netns', 'del', ns); // takes its end of the veth pair, and so the pair, with it
    } catch {
      // Not there (never made, or already removed).
    }
  }
}

/** Two namespaces and a veth pair, like a box and a laptop on the hall's network. */
function makeNamespaces(): Mode {
  try {
    // MDNS_TEST_LOOPBACK=1 tries the fallback on purpose.
    if (process.env.MDNS_TEST_LOOPBACK === '1') throw new Error('MDNS_TEST_LOOPBACK=1 asks for the fallback');
    ip('netns', 'add', NS_APPLIANCE);
    ip('netns', 'add', NS_BROWSER);
    ip('link', 'add', VETH_APPLIANCE, 'type', 'veth', 'peer', 'name', VETH_BROWSER);
    ip('link', 'set', VETH_APPLIANCE, 'netns', NS_APPLIANCE);
    ip('link', 'set', VETH_BROWSER, 'netns', NS_BROWSER);
    ip('-n', NS_APPLIANCE, 'addr', 'add', `${APPLIANCE_ADDRESS}/24`, 'dev', VETH_APPLIANCE);
    ip('-n', NS_BROWSER, 'addr', 'add', `${BROWSER_ADDRESS}/24`, 'dev', VETH_BROWSER);
    for (const [ns, dev] of [
      [NS_APPLIANCE, VETH_APPLIANCE],
      [NS_BROWSER, VETH_BROWSER],
    ] as const) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // The box's side has a default route, as on a hall network with a router: the appliance
    // advertises on every interface (its default). The laptop's side has none and names its
    // interface (discover --interface), the way to browse on an isolated network.
    ip('-n', NS_APPLIANCE, 'route', 'add', 'default', 'dev', VETH_APPLIANCE);
    return {
      kind: 'namespaces',
      applianceWrapper: ['ip', 'netns', 'exec', NS_APPLIANCE],
      browserWrapper: ['ip', 'netns', 'exec', NS_BROWSER],
      applianceEnv: {},
      browserInterface: BROWSER_ADDRESS,
    };
  } catch (err) {
    removeNamespaces();
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const banner = '!'.repeat(100);
    console.warn(
      `${banner}\nDISCOVERY TEST FALLBACK: network namespaces are not available here (${why}).\n` +
        'mDNS is tested between two processes on THIS host over 127.0.0.1 (bonjour-service interface option),\n' +
        `not across a network. Run the tests as root on Linux with iproute2 for the real thing.\n${banner}`,
    );
    return {
      kind: 'loopback',
      applianceWrapper: [],
      browserWrapper: [],
      applianceEnv: { PROCTOR_MDNS_INTERFACE: '127.0.0.1' },
      browserInterface: '127.0.0.1',
    };
  }
}

type WatchEvent = { event: 'browsing' } | ({ event: 'up' | 'down' } & DiscoveredAppliance);

/** `discover --watch` in the browser's network: every JSON line it prints, as it comes. */
class Watcher {
  readonly events: WatchEvent[] = [];
  private waiters: (() => void)[] = [];
  stderr = '';
  constructor(readonly child: ChildProcess) {
    let buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as WatchEvent);
        for (const w of this.waiters) w();
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  /** Waits (up to a deadline) until an event from index `from` on matches. */
  waitFor(match: (e: WatchEvent) => boolean, what: string, ms = 20_000, from = 0): Promise<WatchEvent> {
    const found = () => this.events.slice(from).find(match);
    return withDeadline(
      new Promise<WatchEvent>((resolve) => {
        const check = () => {
          const e = found();
          if (e) resolve(e);
        };
        this.waiters.push(check);
        check();
      }),
      ms,
      () => `no ${what} within ${ms} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`,
    );
  }
}

/** Runs the CLI to its end in the browser's network (with its --interface). */
function runInBrowserNetwork(
  mode: Mode,
  args: string[],
  dataDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [node, ...nodeArgs] = NODE_TSX;
  const command = [...mode.browserWrapper, node!, ...nodeArgs, CLI_ENTRY, ...args];
  command.push('--interface', mode.browserInterface);
  const child = spawn(command[0]!, command.slice(1), {
    cwd: REPO_ROOT,
    env: applianceEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('mDNS discovery between two processes', () => {
  let mode: Mode;
  let dataDir: string;
  let appliance: ApplianceProcess | undefined;
  let watcher: Watcher | undefined;

  beforeAll(async () => {
    mode = makeNamespaces();
    console.info(`discovery test mode: ${mode.kind}`);
    dataDir = await makeTempDir('proctor-mdns-');
  });

  afterAll(async () => {
    if (watcher && watcher.child.exitCode === null && watcher.child.signalCode === null) {
      const ended = new Promise((resolve) => watcher!.child.once('exit', resolve));
      watcher.child.kill('SIGKILL');
      await ended;
    }
    await appliance?.kill();
    removeNamespaces();
    if (dataDir) await removeTempDir(dataDir);
    if (mode.kind === 'namespaces') {
      const left = ip('netns', 'list').toString();
      expect(left).not.toContain(TAG);
    }
  });

  it('finds the advertised appliance with its TXT records and sees it withdrawn on SIGTERM', async () => {
    const [node, ...nodeArgs] = NODE_TSX;
    const command = [...mode.browserWrapper, node!, ...nodeArgs, CLI_ENTRY, 'discover', '--watch'];
    command.push('--interface', mode.browserInterface);
    const child = spawn(command[0]!, command.slice(1), {
      cwd: REPO_ROOT,
      env: applianceEnv(dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watcher = new Watcher(child);
    await watcher.waitFor((e) => e.event === 'browsing', 'browsing line', 30_000);

    appliance = await ApplianceProcess.start({
      dataDir,
      wrapper: mode.applianceWrapper.length > 0 ? mode.applianceWrapper : undefined,
      wrapperExecs: true,
      env: {
        PROCTOR_MDNS: 'true',
        PROCTOR_HOST: '0.0.0.0',
        PROCTOR_APPLIANCE_NAME: NAME,
        ...mode.applianceEnv,
      },
    });
    const applianceId = /appliance (\S+), hall/.exec(appliance.stdout)?.[1];
    expect(applianceId).toBeTruthy();

    const up = await watcher.waitFor((e) => e.event === 'up' && e.id === applianceId, 'up event');
    expect(up).toMatchObject({
      name: NAME,
      host: `${NAME}.local`,
      port: appliance.port,
      id: applianceId,
      hall: 'test-hall',
      version: '0.1.0',
      scheme: 'http',
      url: `http://${NAME}.local:${appliance.port}/proctor/`,
    });
    if (mode.kind === 'namespaces') expect((up as DiscoveredAppliance).addresses).toContain(APPLIANCE_ADDRESS);

    // The one-shot command people type, in the browser's network too.
    const once = await runInBrowserNetwork(mode, ['discover', '--timeout', '3', '--json'], dataDir);
    expect(once.code, once.stderr).toBe(0);
    const listed = (JSON.parse(once.stdout) as DiscoveredAppliance[]).find((a) => a.id === applianceId);
    expect(listed).toMatchObject({ name: NAME, host: `${NAME}.local`, port: appliance.port, hall: 'test-hall' });

    // A new address (DHCP answered late, or changed): the appliance announces it within seconds.
    if (mode.kind === 'namespaces') {
      const lateAddress = `${SUBNET}.3`;
      ip('-n', NS_APPLIANCE, 'addr', 'add', `${lateAddress}/24`, 'dev', VETH_APPLIANCE);
      let seen: string[] = [];
      for (let attempt = 0; attempt < 6 && !seen.includes(lateAddress); attempt++) {
        const again = await runInBrowserNetwork(mode, ['discover', '--timeout', '2', '--json'], dataDir);
        seen =
          (JSON.parse(again.stdout || '[]') as DiscoveredAppliance[]).find((a) => a.id === applianceId)?.addresses ??
          [];
      }
      expect(seen).toContain(lateAddress);
      expect(appliance.stderr).toContain('mDNS: addresses changed');
    }

    // SIGTERM: goodbye packets reach the browser at once (the PTR's TTL is 8 hours).
    // (An address change above re-announces: goodbye, hello. Only events after SIGTERM count.)
    const beforeStop = watcher.events.length;
    const exit = await appliance.stop('SIGTERM');
    expect(exit.code).toBe(0);
    await watcher.waitFor(
      (e) => e.event === 'down' && e.id === applianceId,
      'down event (goodbye) after SIGTERM',
      10_000,
      beforeStop,
    );
  });
});
