/**
 * Legacy unicast answers (RFC 6762 §6.7) and the address records the box may send. Pure.
 *
 * A query whose UDP source port is not 5353 comes from a one-shot resolver (§5.1): Android's
 * getaddrinfo (DnsResolver since 2021), `dig -p 5353 @224.0.0.251`, most embedded stacks. It sends
 * from an ephemeral port and listens there only, so a multicast answer never reaches it. The
 * responder answers it as a conventional unicast DNS server would:
 *
 *   to        the query's source address and port, by unicast (from port 5353, as every mDNS
 *             response; §6)
 *   header    the query's ID, QR=1, AA=1, RD copied from the query
 *   question  the query's question section, repeated
 *   answers   the box's own records for each question (name and type, or ANY), with the usual
 *             additionals (§6.2: the other address family; for a PTR, the SRV, TXT and addresses)
 *   TTL       at most LEGACY_UNICAST_TTL_S (10 s): the querier keeps no coherent cache
 *   class     IN without the cache-flush bit (§10.2): it MUST NOT be set in a legacy response
 *   size      at most 512 bytes, what a plain DNS client takes over UDP (RFC 1035 §4.2.1): past
 *             that the additionals are left out, and if the answers alone do not fit, those that
 *             do are sent with TC set (§18.5: TC means what it means in unicast DNS)
 *
 * Such a query is not answered by multicast as well: a hall of 1,000 phones each resolving the
 * box would otherwise wake every device in the hall a thousand times. A question with no record
 * of ours gets no answer at all (another responder on the link may own the name).
 */

export const MDNS_PORT = 5353;
/** The highest TTL in a legacy unicast response (RFC 6762 §6.7: SHOULD NOT exceed ten seconds). */
export const LEGACY_UNICAST_TTL_S = 10;
/** The largest legacy unicast response: a DNS message over UDP without EDNS (RFC 1035 §4.2.1). */
export const LEGACY_UNICAST_MAX_BYTES = 512;
/** DNS header flags (RFC 1035 §4.1.1), as multicast-dns/dns-packet carry them (QR apart). */
const AUTHORITATIVE_ANSWER = 1 << 10;
const TRUNCATED = 1 << 9;
const RECURSION_DESIRED = 1 << 8;

/** A resource record as multicast-dns (dns-packet) carries it. */
export interface MdnsRecord {
  name: string;
  type: string;
  ttl?: number;
  class?: string;
  /** The cache-flush bit (RFC 6762 §10.2). */
  flush?: boolean;
  data?: unknown;
}

export interface MdnsQuestion {
  name: string;
  type: string;
  class?: string;
}

export interface MdnsPacket {
  id?: number;
  type?: 'query' | 'response';
  flags?: number;
  questions?: MdnsQuestion[];
  answers?: MdnsRecord[];
  additionals?: MdnsRecord[];
}

/** The records the box answers for, by type (bonjour-service's registry has this shape). */
export type RecordsByType = Readonly<Record<string, readonly MdnsRecord[]>>;

/** RFC 6762 §6.7: a source port other than 5353 marks a one-shot (legacy) querier. */
export function isLegacyQuery(sourcePort: number): boolean {
  return sourcePort !== MDNS_PORT;
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * A question's class without the unicast-response (QU) bit, or undefined when it is not IN or
 * ANY. dns-packet names a class with the QU bit by its number (IN|QU is `UNKNOWN_32769`).
 */
function plainClass(klass: string | undefined): 'IN' | 'ANY' | undefined {
  if (klass === undefined || klass === 'IN' || klass === 'UNKNOWN_32769') return 'IN';
  if (klass === 'ANY' || klass === 'UNKNOWN_33023') return 'ANY';
  return undefined;
}

function recordsFor(records: RecordsByType, name: string, type: string): MdnsRecord[] {
  const types = type === 'ANY' ? Object.keys(records) : [type];
  return types.flatMap((t) => (records[t] ?? []).filter((r) => sameName(r.name, name)));
}

/** §6.2 and DNS-SD: what a querier will ask next, so that one answer is enough. */
function additionalsFor(records: RecordsByType, answers: readonly MdnsRecord[]): MdnsRecord[] {
  const out: MdnsRecord[] = [];
  for (const answer of answers) {
    if (answer.type === 'PTR' && typeof answer.data === 'string') {
      const instance = recordsFor(records, answer.data, 'SRV').concat(recordsFor(records, answer.data, 'TXT'));
      out.push(...instance);
      for (const srv of instance) {
        const target = (srv.data as { target?: unknown } | undefined)?.target;
        if (srv.type === 'SRV' && typeof target === 'string')
          out.push(...recordsFor(records, target, 'A'), ...recordsFor(records, target, 'AAAA'));
      }
    }
    if (answer.type === 'A') out.push(...recordsFor(records, answer.name, 'AAAA'));
    if (answer.type === 'AAAA') out.push(...recordsFor(records, answer.name, 'A'));
  }
  return out;
}

/** A record as a legacy querier gets it: TTL capped, class IN, no cache-flush bit. */
function forLegacyQuerier(record: MdnsRecord): MdnsRecord {
  return {
    ...record,
    class: 'IN',
    flush: false,
    ttl: Math.min(record.ttl ?? LEGACY_UNICAST_TTL_S, LEGACY_UNICAST_TTL_S),
  };
}

/** A name's length on the wire as multicast-dns writes it: labels with length bytes, no compression. */
const nameBytes = (name: string) =>
  name.replace(/\.$/, '') === '' ? 1 : Buffer.byteLength(name.replace(/\.$/, '')) + 2;

/** A record's length on the wire (name, type, class, TTL, length, data) for the types the box has. */
function recordBytes(r: MdnsRecord): number {
  let data: number;
  if (r.type === 'A') data = 4;
  else if (r.type === 'AAAA') data = 16;
  else if (r.type === 'PTR' && typeof r.data === 'string') data = nameBytes(r.data);
  else if (r.type === 'SRV') data = 6 + nameBytes(String((r.data as { target?: unknown } | undefined)?.target ?? ''));
  else if (r.type === 'TXT' && Array.isArray(r.data))
    data = (r.data as unknown[]).reduce<number>(
      (n, t) => n + 1 + (Buffer.isBuffer(t) ? t.length : Buffer.byteLength(String(t))),
      0,
    );
  else data = Buffer.byteLength(JSON.stringify(r.data ?? ''));
  return nameBytes(r.name) + 10 + data;
}

/** The whole message's length on the wire. */
export function encodedBytes(packet: MdnsPacket): number {
  const questions = (packet.questions ?? []).reduce((n, q) => n + nameBytes(q.name) + 4, 0);
  const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])].reduce((n, r) => n + recordBytes(r), 0);
  return 12 + questions + records;
}

/** Within LEGACY_UNICAST_MAX_BYTES: additionals dropped first, then answers cut with TC set. */
function fitted(packet: MdnsPacket): MdnsPacket {
  if (encodedBytes(packet) <= LEGACY_UNICAST_MAX_BYTES) return packet;
  const bare = { ...packet, additionals: [] };
  if (encodedBytes(bare) <= LEGACY_UNICAST_MAX_BYTES) return bare;
  const answers: MdnsRecord[] = [];
  for (const r of packet.answers ?? []) {
    if (encodedBytes({ ...bare, answers: [...answers, r] }) > LEGACY_UNICAST_MAX_BYTES) break;
    answers.push(r);
  }
  return { ...bare, answers, flags: (packet.flags ?? 0) | TRUNCATED };
}

const key = (r: MdnsRecord) => `${r.type} ${r.name.toLowerCase()} ${JSON.stringify(r.data)}`;

/** The conventional unicast response to a legacy query, or undefined when none of its questions is ours. */
export function legacyUnicastResponse(query: MdnsPacket, records: RecordsByType): MdnsPacket | undefined {
  const questions = (query.questions ?? []).flatMap((q) => {
    const klass = plainClass(q.class);
    return klass ? [{ name: q.name, type: q.type, class: klass }] : [];
  });
  const answers = new Map<string, MdnsRecord>();
  for (const q of questions) for (const r of recordsFor(records, q.name, q.type)) answers.set(key(r), r);
  if (answers.size === 0) return undefined;
  const additionals = new Map<string, MdnsRecord>();
  for (const r of additionalsFor(records, [...answers.values()])) if (!answers.has(key(r))) additionals.set(key(r), r);
  return fitted({
    id: query.id ?? 0,
    type: 'response',
    flags: AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & RECURSION_DESIRED),
    questions,
    answers: [...answers.values()].map(forLegacyQuerier),
    additionals: [...additionals.values()].map(forLegacyQuerier),
  });
}

/**
 * The packet without address records (A, AAAA) for addresses the server does not accept, so no
 * device is sent to an address where its connection would be refused. Undefined when nothing is
 * left to answer.
 */
export function withAcceptedAddressesOnly(packet: MdnsPacket, accepted: ReadonlySet<string>): MdnsPacket | undefined {
  const keep = (r: MdnsRecord) =>
    (r.type !== 'A' && r.type !== 'AAAA') || (typeof r.data === 'string' && accepted.has(r.data.toLowerCase()));
  const answers = (packet.answers ?? []).filter(keep);
  if (answers.length === 0) return undefined;
  return { ...packet, answers, additionals: (packet.additionals ?? []).filter(keep) };
}
