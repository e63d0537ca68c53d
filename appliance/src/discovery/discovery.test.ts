/**
 * mDNS over real packets: a real appliance process advertises, and a second process (the
 * `discover` CLI) finds it and sees it withdrawn on SIGTERM (goodbye packets, long before any
 * record's TTL). A one-shot querier (tests/support/one-shot-mdns.ts, as Android's resolver or
 * `dig -p 5353 @224.0.0.251` ask) gets its answer by unicast at its own port, and every address
 * announced (A and AAAA) answers GET /api/health. The processes run in two network namespaces
 * joined by a veth pair (IPv4, a ULA IPv6 prefix and link-local IPv6) that this test creates (as
 * root) and always removes. Where namespaces cannot be made, they all run on this host over
 * 127.0.0.1 with bonjour-service's interface option, and the test says so loudly.
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
import type { HealthResult, OneShotRecord, OneShotResult } from '../../../tests/support/one-shot-mdns.js';
import type { DiscoveredAppliance } from './index.js';
import { LEGACY_UNICAST_MAX_BYTES, LEGACY_UNICAST_TTL_S, MDNS_PORT } from './legacy-unicast.js';

const TAG = randomBytes(3).toString('hex');
const NS_APPLIANCE = `proctor-t${TAG}-a`;
const NS_BROWSER = `proctor-t${TAG}-b`;
const VETH_APPLIANCE = `pt${TAG}a`;
const VETH_BROWSER = `pt${TAG}b`;
const SUBNET = `10.${200 + (parseInt(TAG.slice(0, 2), 16) % 50)}.${parseInt(TAG.slice(2, 4), 16)}`;
const APPLIANCE_ADDRESS = `${SUBNET}.1`;
const BROWSER_ADDRESS = `${SUBNET}.2`;
/** A unique local IPv6 prefix (RFC 4193) for the hall network of this run. */
const ULA_PREFIX = `fd${TAG.slice(0, 2)}:${TAG.slice(2, 6)}:`;
const APPLIANCE_ADDRESS6 = `${ULA_PREFIX}:1`;
const BROWSER_ADDRESS6 = `${ULA_PREFIX}:2`;
const ONE_SHOT_ENTRY = 'tests/support/one-shot-mdns.ts';
const MDNS_GROUP = '224.0.0.251';
const NAME = `hall-box-${TAG}`;

interface Mode {
  kind: 'namespaces' | 'loopback';
  /** Prefix for a command in the appliance's / browser's network. */
  applianceWrapper: string[];
  browserWrapper: string[];
  applianceEnv: Record<string, string>;
  browserInterface: string;
  /** The browser side's network interface (the zone of IPv6 link-local addresses), if any. */
  browserDevice?: string;
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
    for (const [ns, dev, address6] of [
      [NS_APPLIANCE, VETH_APPLIANCE, APPLIANCE_ADDRESS6],
      [NS_BROWSER, VETH_BROWSER, BROWSER_ADDRESS6],
    ] as const) {
      // No duplicate address detection on a two-ended cable: the IPv6 addresses (the link-local
      // one made at link up, too) are usable at once instead of "tentative" for a second or two.
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.accept_dad=0`]);
      ip('-n', ns, 'addr', 'add', `${address6}/64`, 'dev', dev, 'nodad');
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
      browserDevice: VETH_BROWSER,
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
  return runScriptInBrowserNetwork(mode, [CLI_ENTRY, ...args, '--interface', mode.browserInterface], dataDir);
}

/** Runs a TypeScript entry to its end in the browser's network. */
function runScriptInBrowserNetwork(
  mode: Mode,
  args: string[],
  dataDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [node, ...nodeArgs] = NODE_TSX;
  const command = [...mode.browserWrapper, node!, ...nodeArgs, ...args];
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

/** tests/support/one-shot-mdns.ts in the browser's network: its one JSON line. */
async function oneShot<T>(mode: Mode, command: 'query' | 'health', args: object, dataDir: string): Promise<T> {
  const run = await runScriptInBrowserNetwork(mode, [ONE_SHOT_ENTRY, command, JSON.stringify(args)], dataDir);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/**
 * Asks for `types` of `<NAME>.local` as a one-shot querier (ephemeral source port) sent to `to`,
 * and checks every answer is the conventional unicast response RFC 6762 §6.7 asks for: sent to
 * the querier's own port from port 5353, the query's ID and question repeated, authoritative,
 * RD copied, TTLs of at most 10 s, no cache-flush bit, at most 512 bytes. Returns the address records by type.
 */
async function askOneShot(
  mode: Mode,
  dataDir: string,
  types: string[],
  to: string,
): Promise<{ records: OneShotRecord[]; result: OneShotResult }> {
  const host = `${NAME}.local`;
  const result = await oneShot<OneShotResult>(
    mode,
    'query',
    { name: host, types, to, interface: mode.browserInterface },
    dataDir,
  );
  expect(result.localPort).not.toBe(MDNS_PORT);
  const records: OneShotRecord[] = [];
  for (const q of result.queries) {
    const response = result.responses.find((r) => r.id === q.id);
    expect(response, `no unicast answer to the ${q.type} query sent to ${to}: ${JSON.stringify(result)}`).toBeDefined();
    expect(response).toMatchObject({
      from: { port: MDNS_PORT },
      qr: true,
      aa: true,
      rd: true,
      tc: false,
      questions: [{ name: host, type: q.type, class: 1 }],
    });
    if (mode.kind === 'namespaces') expect(response!.from.address).toBe(APPLIANCE_ADDRESS);
    expect(response!.bytes).toBeLessThanOrEqual(LEGACY_UNICAST_MAX_BYTES);
    for (const r of [...response!.answers, ...response!.additionals]) {
      expect(r.ttl, `${r.type} ${r.name}`).toBeLessThanOrEqual(LEGACY_UNICAST_TTL_S);
      expect(r.flush, `${r.type} ${r.name}`).toBe(false);
      expect(r.class).toBe(1);
      if (r.address !== undefined) records.push(r);
    }
    expect(response!.answers.length).toBeGreaterThan(0);
    expect(response!.answers.every((r) => r.type === q.type || q.type === 'ANY')).toBe(true);
  }
  return { records, result };
}

/** GET /api/health on each address from the browser's network: every one must answer 200. */
async function expectHealthyEverywhere(mode: Mode, dataDir: string, port: number, addresses: string[]): Promise<void> {
  const results = await oneShot<HealthResult[]>(
    mode,
    'health',
    { port, addresses, host: `${NAME}.local`, zone: mode.browserDevice },
    dataDir,
  );
  expect(results.map((r) => ({ address: r.address, status: r.status, error: r.error }))).toEqual(
    addresses.map((address) => ({ address, status: 200, error: undefined })),
  );
}

const uniqueAddresses = (records: OneShotRecord[], type: 'A' | 'AAAA') => [
  ...new Set(records.filter((r) => r.type === type).map((r) => r.address!)),
];

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

  it('finds the advertised appliance with its TXT records, answers one-shot queries at their own port, serves on every announced address, and is withdrawn on SIGTERM', async () => {
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
        // Dual-stack: IPv4 and IPv6 connections, so A and AAAA records are announced.
        PROCTOR_HOST: '::',
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

    // One-shot queries (RFC 6762 §6.7), as Android's resolver sends them: to the group, and (as
    // `dig @<box> -p 5353`) to the box itself. Each is answered by unicast at the querier's port.
    const viaGroup = await askOneShot(mode, dataDir, ['A', 'AAAA'], MDNS_GROUP);
    const v4 = uniqueAddresses(viaGroup.records, 'A');
    const v6 = uniqueAddresses(viaGroup.records, 'AAAA');
    if (mode.kind === 'namespaces') {
      expect(v4).toEqual([APPLIANCE_ADDRESS]);
      expect(v6).toContain(APPLIANCE_ADDRESS6);
      expect(v6.some((a) => a.startsWith('fe80:'))).toBe(true); // the veth's link-local address
      expect(v6).toHaveLength(2);
      const direct = await askOneShot(mode, dataDir, ['A', 'AAAA'], APPLIANCE_ADDRESS);
      expect(uniqueAddresses(direct.records, 'A')).toEqual(v4);
      expect(uniqueAddresses(direct.records, 'AAAA').sort()).toEqual([...v6].sort());
    } else expect(v4.length).toBeGreaterThan(0);
    // What the multicast browser saw is what the one-shot querier got.
    expect([...(up as DiscoveredAppliance).addresses].sort()).toEqual([...v4, ...v6].sort());
    // And every announced address takes a connection: GET /api/health on each.
    await expectHealthyEverywhere(mode, dataDir, appliance.port, [...v4, ...v6]);

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

  it('announces no IPv6 address while listening on 0.0.0.0 (a device would be refused there)', async () => {
    await appliance?.kill(); // left running only when the test above failed
    appliance = await ApplianceProcess.start({
      dataDir,
      wrapper: mode.applianceWrapper.length > 0 ? mode.applianceWrapper : undefined,
      wrapperExecs: true,
      env: { PROCTOR_MDNS: 'true', PROCTOR_HOST: '0.0.0.0', PROCTOR_APPLIANCE_NAME: NAME, ...mode.applianceEnv },
    });
    const { records } = await askOneShot(mode, dataDir, ['ANY'], MDNS_GROUP);
    expect(uniqueAddresses(records, 'AAAA')).toEqual([]);
    const v4 = uniqueAddresses(records, 'A');
    // (The test above added a second address, `${SUBNET}.3`, to the box's side.)
    if (mode.kind === 'namespaces') expect(v4).toContain(APPLIANCE_ADDRESS);
    // The multicast path (what `discover` and every Bonjour browser use) likewise.
    const once = await runInBrowserNetwork(mode, ['discover', '--timeout', '2', '--json'], dataDir);
    expect(once.code, once.stderr).toBe(0);
    const listed = (JSON.parse(once.stdout) as DiscoveredAppliance[]).find((a) => a.name === NAME);
    expect(listed?.addresses.sort()).toEqual([...v4].sort());
    await expectHealthyEverywhere(mode, dataDir, appliance.port, v4);
    expect((await appliance.stop('SIGTERM')).code).toBe(0);
  });
});
