/**
 * A one-shot mDNS querier and an HTTP client, run inside a test's network namespace
 * (`ip netns exec <ns> node --import tsx tests/support/one-shot-mdns.ts <command> <json>`), each
 * printing one JSON line. The DNS messages are built and read here by hand (RFC 1035 §4), so
 * the test does not check the responder with the library the responder uses.
 *
 *   query  {"name", "types": ["A", ...], "to": "224.0.0.251" | <ip>, "interface"?: <ipv4>}
 *          From an ephemeral UDP port (so a legacy querier, RFC 6762 §6.7), asks each type once a
 *          second until each is answered or 10 s pass; prints {localPort, responses: [...]}, each
 *          with the sender, the port it arrived on, ID, flags, questions and records.
 *   health {"port", "addresses": [...], "host", "zone"?: <interface>}
 *          GET /api/health on every address (`zone` added to IPv6 link-local ones) with
 *          `Host: <host>:<port>`, as a device that resolved the name sends it; prints
 *          [{address, status, body | error}].
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { get } from 'node:http';
import { randomInt } from 'node:crypto';

const TYPES: Record<string, number> = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 };
const TYPE_NAMES = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));
const MDNS_PORT = 5353;

export interface OneShotRecord {
  name: string;
  type: string;
  /** The class without the cache-flush bit (1 = IN). */
  class: number;
  flush: boolean;
  ttl: number;
  /** A and AAAA: the address; other types: undefined. */
  address?: string;
}

export interface OneShotResponse {
  from: { address: string; port: number };
  /** The datagram's length. */
  bytes: number;
  id: number;
  qr: boolean;
  aa: boolean;
  rd: boolean;
  tc: boolean;
  questions: { name: string; type: string; class: number }[];
  answers: OneShotRecord[];
  additionals: OneShotRecord[];
}

export interface OneShotResult {
  localPort: number;
  /** The IDs and types of the queries sent (the first of each type; retries reuse it). */
  queries: { id: number; type: string }[];
  responses: OneShotResponse[];
}

export interface HealthResult {
  address: string;
  status?: number;
  body?: unknown;
  error?: string;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

/** A standard query (RD set, as dig and getaddrinfo send it) for one name and type, class IN. */
export function encodeQuery(id: number, name: string, type: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPES[type]!, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

function decodeName(buf: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let offset = start;
  let end: number | undefined;
  for (let hops = 0; hops < 64; hops++) {
    const len = buf.readUInt8(offset);
    if (len === 0) return { name: labels.join('.'), end: end ?? offset + 1 };
    if ((len & 0xc0) === 0xc0) {
      end ??= offset + 2;
      offset = buf.readUInt16BE(offset) & 0x3fff;
      continue;
    }
    labels.push(buf.toString('ascii', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  throw new Error('name compression loop');
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The canonical form (RFC 5952): the longest run of zero groups as `::`.
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/** A DNS response, read by hand. */
export function decodeResponse(buf: Buffer, from: RemoteInfo): OneShotResponse {
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let offset = 12;
  const questions: OneShotResponse['questions'] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const { name, end } = decodeName(buf, offset);
    questions.push({
      name,
      type: TYPE_NAMES[buf.readUInt16BE(end)] ?? String(buf.readUInt16BE(end)),
      class: buf.readUInt16BE(end + 2),
    });
    offset = end + 4;
  }
  const records = (n: number): OneShotRecord[] => {
    const out: OneShotRecord[] = [];
    for (let i = 0; i < n; i++) {
      const { name, end } = decodeName(buf, offset);
      const type = buf.readUInt16BE(end);
      const klass = buf.readUInt16BE(end + 2);
      const rdLength = buf.readUInt16BE(end + 8);
      const rdata = buf.subarray(end + 10, end + 10 + rdLength);
      const record: OneShotRecord = {
        name,
        type: TYPE_NAMES[type] ?? String(type),
        class: klass & 0x7fff,
        flush: (klass & 0x8000) !== 0,
        ttl: buf.readUInt32BE(end + 4),
      };
      if (type === TYPES.A) record.address = [...rdata].join('.');
      if (type === TYPES.AAAA) record.address = ipv6(rdata);
      out.push(record);
      offset = end + 10 + rdLength;
    }
    return out;
  };
  const answers = records(counts[1]!);
  records(counts[2]!); // authorities: none expected, skipped
  const additionals = records(counts[3]!);
  return {
    from: { address: from.address, port: from.port },
    bytes: buf.length,
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    questions,
    answers,
    additionals,
  };
}

async function query(args: { name: string; types: string[]; to: string; interface?: string }): Promise<OneShotResult> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
  if (args.interface) socket.setMulticastInterface(args.interface);
  const queries = args.types.map((type) => ({ id: randomInt(1, 0xffff), type }));
  const responses: OneShotResponse[] = [];
  const answered = new Set<number>();
  const allAnswered = () => queries.every((q) => answered.has(q.id));
  let wake = () => {};
  socket.on('message', (msg, from) => {
    try {
      const response = decodeResponse(msg, from);
      responses.push(response);
      answered.add(response.id);
      if (allAnswered()) wake();
    } catch {
      // Not a DNS message: ignored.
    }
  });
  const send = () => {
    for (const q of queries)
      if (!answered.has(q.id)) socket.send(encodeQuery(q.id, args.name, q.type), MDNS_PORT, args.to);
  };
  const deadline = Date.now() + 10_000;
  send();
  while (Date.now() < deadline && !allAnswered()) {
    // Until every answer is in, or a querier's retry interval has passed.
    await new Promise<void>((resolve) => {
      const retry = setTimeout(resolve, 1_000);
      wake = () => {
        clearTimeout(retry);
        resolve();
      };
    });
    if (!allAnswered()) send();
  }
  const localPort = socket.address().port;
  socket.close();
  return { localPort, queries, responses };
}

function health(args: { port: number; addresses: string[]; host: string; zone?: string }): Promise<HealthResult[]> {
  return Promise.all(
    args.addresses.map(
      (address) =>
        new Promise<HealthResult>((resolve) => {
          const host = /^fe[89ab]/i.test(address) && args.zone ? `${address}%${args.zone}` : address;
          const headers = { host: `${args.host}:${args.port}` };
          const req = get({ host, port: args.port, path: '/api/health', headers, timeout: 5_000 }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => {
              let body: unknown = text;
              try {
                body = JSON.parse(text);
              } catch {
                // Not JSON: the text as it came.
              }
              resolve({ address, status: res.statusCode, body });
            });
          });
          req.on('timeout', () => req.destroy(new Error('timed out')));
          req.on('error', (err) => resolve({ address, error: err.message }));
        }),
    ),
  );
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [command, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? '{}') as never;
  const run = command === 'query' ? query(args) : command === 'health' ? health(args) : undefined;
  if (!run) {
    process.stderr.write('usage: one-shot-mdns.ts query|health <json>\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await run)}\n`);
}
