/**
 * mDNS in the hall (bonjour-service, pure TypeScript). The appliance answers as `<name>.local`
 * and publishes two services on the port examinees and proctors use:
 *
 *   <name>._proctor._tcp.local   this project's own type: what `discover` browses for
 *   <name>._https._tcp.local     (or _http._tcp when HTTPS is off) for generic browsers of the
 *                                hall (Bonjour browsers, `avahi-browse -a`)
 *
 * TXT records of both: `id` (appliance id), `hall` (hall id), `version` (appliance version),
 * `path` (`/` for the examinee app; `/proctor/` on _proctor._tcp) and `scheme` (http|https).
 * Withdrawal on shutdown sends goodbye packets (TTL 0) before the socket closes, so browsers drop
 * the appliance at once instead of after the records' TTL.
 *
 * bonjour-service takes the host's addresses (A/AAAA records) when a service is published. A box
 * that starts before DHCP has answered, or whose address changes, would go on announcing stale
 * addresses; so the addresses are compared every ADDRESS_CHECK_MS and, when they changed, the
 * services are withdrawn and published again.
 *
 * Two things bonjour-service does not do are added on its responder (see `answerAsTheHallNeeds`):
 * one-shot queries (source port not 5353, e.g. Android) are answered by unicast to the querier
 * (legacy-unicast.ts), and every packet carries address records only for the addresses the
 * server accepts connections on (addresses.ts): no AAAA while it listens on 0.0.0.0.
 */
import { networkInterfaces } from 'node:os';
import { Bonjour, type Service } from 'bonjour-service';
import { acceptedAddresses, isOnLink } from './addresses.js';
import {
  isLegacyQuery,
  legacyUnicastResponse,
  withAcceptedAddressesOnly,
  type MdnsPacket,
  type MdnsRecord,
  type RecordsByType,
} from './legacy-unicast.js';

export const PROCTOR_SERVICE_TYPE = 'proctor';
export const ADDRESS_CHECK_MS = 5_000;

/** The addresses a server listening on `listenAddress` accepts, as a comparable key. */
function addressKey(listenAddress: string): string {
  return [...acceptedAddresses(listenAddress, networkInterfaces())].sort().join(' ');
}

interface QuerySource {
  address: string;
  port: number;
}
type Done = (err?: Error | null) => void;
type QueryListener = (query: MdnsPacket, from: QuerySource) => void;

/**
 * The parts of bonjour-service 1.4.4 (pinned in package.json) and its multicast-dns socket that
 * the responder builds on: bonjour-service types its server as private and its socket as `any`.
 */
interface ResponderInternals {
  server: {
    /** The records it answers for, by type. */
    registry: RecordsByType;
    mdns: {
      /** respond(packet, [to], [done]): every announcement, answer and goodbye goes through it. */
      respond(packet: MdnsPacket | MdnsRecord[], to?: QuerySource | Done, done?: Done): void;
      listeners(event: 'query'): QueryListener[];
      removeAllListeners(event: 'query'): void;
      on(event: 'query', listener: QueryListener): void;
    };
  };
}

/**
 * Makes bonjour-service's responder answer one-shot queries by unicast (RFC 6762 §6.7; from a
 * querier on the link only, §11) instead of by multicast, and keeps every address record it
 * sends to the addresses the server accepts connections on.
 */
function answerAsTheHallNeeds(bonjour: Bonjour, listenAddress: string, onError: (message: string) => void): void {
  const { server } = bonjour as unknown as ResponderInternals;
  const { mdns } = server;
  const respond = mdns.respond.bind(mdns);
  mdns.respond = (packet, to, done) => {
    const kept = withAcceptedAddressesOnly(
      Array.isArray(packet) ? { answers: packet } : packet,
      acceptedAddresses(listenAddress, networkInterfaces()),
    );
    const callback = typeof to === 'function' ? to : done;
    if (kept) respond(kept, to, done);
    else if (callback) process.nextTick(callback);
  };
  const multicastAnswerers = mdns.listeners('query');
  mdns.removeAllListeners('query');
  mdns.on('query', (query, from) => {
    if (!isLegacyQuery(from.port)) {
      for (const answer of multicastAnswerers) answer(query, from);
      return;
    }
    if (!isOnLink(from.address, networkInterfaces())) return;
    const response = legacyUnicastResponse(query, server.registry);
    if (!response) return;
    mdns.respond(response, { address: from.address, port: from.port }, (err) => {
      if (err) onError(`mDNS: answering ${from.address}:${from.port}: ${String(err)}`);
    });
  });
}

export interface AdvertiseOptions {
  /** The appliance name: the host is `<name>.local`, the service instances are `<name>`. */
  name: string;
  applianceId: string;
  hallId: string;
  version: string;
  /** How examinees reach the appliance: `https` when HTTPS is on, else `http`. */
  scheme: 'http' | 'https';
  /** The port of that scheme. */
  port: number;
  /** The address the server listens on (`server.address().address`): only what it accepts is announced. */
  listenAddress: string;
  /** One interface's IPv4 address to advertise on; undefined: every interface. */
  interfaceAddress?: string | undefined;
  /** Problems (a name conflict, a socket error): logged, never fatal. */
  onError: (message: string) => void;
  /** News worth a log line (addresses changed, announced again). */
  onInfo?: (message: string) => void;
}

export interface Advertisement {
  /** Sends goodbyes for every service and closes the mDNS socket. */
  withdraw(): Promise<void>;
}

/**
 * multicast-dns options. Every interface (the default): it joins the group on each and sends via
 * the routing table, which needs a default route (or a 224.0.0.0/4 route) — an isolated hall
 * network without a router may have none: then name the interface. One interface: join and send
 * there (IP_MULTICAST_IF), but still bind 0.0.0.0, because a socket bound to a unicast address
 * receives no multicast on Linux.
 */
function socketOptions(interfaceAddress: string | undefined): Record<string, unknown> {
  return interfaceAddress ? { interface: interfaceAddress, bind: '0.0.0.0' } : {};
}

/** Publishes the appliance's services; returns at once (probing happens in the background). */
export function advertise(options: AdvertiseOptions): Advertisement {
  const bonjour = new Bonjour(socketOptions(options.interfaceAddress), (err: unknown) =>
    options.onError(`mDNS: ${String(err)}`),
  );
  answerAsTheHallNeeds(bonjour, options.listenAddress, options.onError);
  const host = `${options.name}.local`;
  const txt = { id: options.applianceId, hall: options.hallId, version: options.version, scheme: options.scheme };
  // Probe for name conflicts the first time only: after an address change the name is ours.
  const publishAll = (probe: boolean): Service[] => {
    const services = [
      bonjour.publish({
        name: options.name,
        type: PROCTOR_SERVICE_TYPE,
        host,
        port: options.port,
        probe,
        txt: { ...txt, path: '/proctor/' },
      }),
      bonjour.publish({
        name: options.name,
        type: options.scheme,
        host,
        port: options.port,
        probe,
        txt: { ...txt, path: '/' },
      }),
    ];
    // An unhandled 'error' event would throw: a name already taken in the hall is worth a log line.
    for (const s of services) s.on('error', (err: unknown) => options.onError(`mDNS ${s.fqdn}: ${String(err)}`));
    return services;
  };
  publishAll(true);
  let addresses = addressKey(options.listenAddress);
  let withdrawn: Promise<void> | undefined;
  const watch = setInterval(() => {
    const now = addressKey(options.listenAddress);
    if (now === addresses || withdrawn) return;
    addresses = now;
    options.onInfo?.(`mDNS: addresses changed (${now || 'none'}): announcing ${host} again`);
    bonjour.unpublishAll(() => {
      if (!withdrawn) publishAll(false);
    });
  }, ADDRESS_CHECK_MS);
  watch.unref();
  return {
    withdraw() {
      clearInterval(watch);
      withdrawn ??= new Promise<void>((resolve) => {
        bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
      });
      return withdrawn;
    },
  };
}

/** An appliance found in the hall. */
export interface DiscoveredAppliance {
  /** The service instance name (the appliance name). */
  name: string;
  /** The host it answers as (`<name>.local`). */
  host: string;
  addresses: string[];
  port: number;
  id: string | undefined;
  hall: string | undefined;
  version: string | undefined;
  scheme: string | undefined;
  /** Where the proctor app is, e.g. `https://exam-hall.local/proctor/`. */
  url: string;
}

function txtValue(txt: unknown, key: string): string | undefined {
  if (typeof txt !== 'object' || txt === null) return undefined;
  const v = (txt as Record<string, unknown>)[key];
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** What a browser saw, as an appliance (pure; exported for tests). */
export function toDiscovered(service: Service): DiscoveredAppliance {
  const scheme = txtValue(service.txt, 'scheme');
  const path = txtValue(service.txt, 'path') ?? '/proctor/';
  const addresses = [...new Set(service.addresses ?? [])];
  // bonjour-service leaves loopback addresses out of A records: fall back to the sender's address.
  if (addresses.length === 0 && service.referer) addresses.push(service.referer.address);
  const defaultPort = scheme === 'https' ? 443 : 80;
  const port = service.port === defaultPort ? '' : `:${service.port}`;
  return {
    name: service.name,
    host: service.host,
    addresses,
    port: service.port,
    id: txtValue(service.txt, 'id'),
    hall: txtValue(service.txt, 'hall'),
    version: txtValue(service.txt, 'version'),
    scheme,
    url: `${scheme ?? 'http'}://${service.host}${port}${path}`,
  };
}

export interface BrowseOptions {
  interfaceAddress?: string | undefined;
  onUp: (appliance: DiscoveredAppliance) => void;
  onDown?: (appliance: DiscoveredAppliance) => void;
}

export interface Browsing {
  /** Asks the hall again (browsers re-query on their own too). */
  refresh(): void;
  stop(): Promise<void>;
}

/** Browses for `_proctor._tcp` until stopped, reporting appliances as they come and go. */
export function browse(options: BrowseOptions): Browsing {
  const bonjour = new Bonjour(socketOptions(options.interfaceAddress), () => {
    // A socket problem while browsing: the caller sees no appliance, which is what it reports.
  });
  const browser = bonjour.find({ type: PROCTOR_SERVICE_TYPE });
  browser.on('up', (s) => options.onUp(toDiscovered(s)));
  browser.on('down', (s) => options.onDown?.(toDiscovered(s)));
  let stopped: Promise<void> | undefined;
  return {
    refresh: () => browser.update(),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        browser.stop();
        bonjour.destroy(() => resolve());
      });
      return stopped;
    },
  };
}

/** Browses for `timeoutMs` and returns every appliance that answered, sorted by name. */
export async function discover(options: {
  timeoutMs: number;
  interfaceAddress?: string | undefined;
}): Promise<DiscoveredAppliance[]> {
  const found = new Map<string, DiscoveredAppliance>();
  const browsing = browse({
    interfaceAddress: options.interfaceAddress,
    onUp: (a) => found.set(`${a.name}|${a.host}|${a.port}`, a),
  });
  // Ask again halfway: the first query can go out before the socket has joined the group.
  const again = setTimeout(() => browsing.refresh(), Math.min(1_000, options.timeoutMs / 2));
  await new Promise((resolve) => setTimeout(resolve, options.timeoutMs));
  clearTimeout(again);
  await browsing.stop();
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
