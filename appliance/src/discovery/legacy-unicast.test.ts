import { describe, expect, it } from 'vitest';
import { acceptedAddresses, isOnLink, type Interfaces } from './addresses.js';
import {
  LEGACY_UNICAST_MAX_BYTES,
  LEGACY_UNICAST_TTL_S,
  encodedBytes,
  isLegacyQuery,
  legacyUnicastResponse,
  withAcceptedAddressesOnly,
  type MdnsRecord,
  type RecordsByType,
} from './legacy-unicast.js';

const HOST = 'exam-hall.local';
const INSTANCE = 'exam-hall._http._tcp.local';

/** What bonjour-service registers for one published service on a dual-stack box. */
const RECORDS: RecordsByType = {
  PTR: [{ name: '_http._tcp.local', type: 'PTR', ttl: 28_800, data: INSTANCE }],
  SRV: [{ name: INSTANCE, type: 'SRV', ttl: 120, data: { port: 8080, target: HOST } }],
  TXT: [{ name: INSTANCE, type: 'TXT', ttl: 4_500, data: [Buffer.from('path=/')] }],
  A: [{ name: HOST, type: 'A', ttl: 120, data: '10.42.0.1' }],
  AAAA: [
    { name: HOST, type: 'AAAA', ttl: 120, data: 'fd42::1' },
    { name: HOST, type: 'AAAA', ttl: 120, data: 'fe80::1' },
  ],
};

const RD = 1 << 8;
const AA = 1 << 10;
const TC = 1 << 9;

describe('legacy unicast responses (RFC 6762 §6.7)', () => {
  it('takes a source port other than 5353 for a one-shot querier', () => {
    expect(isLegacyQuery(5353)).toBe(false);
    expect(isLegacyQuery(41_234)).toBe(true);
  });

  it('repeats the ID and question, caps TTLs at 10 s, never sets cache-flush, adds the other address family', () => {
    const response = legacyUnicastResponse(
      { id: 0x4d2, flags: RD, questions: [{ name: 'EXAM-HALL.local', type: 'A', class: 'IN' }] },
      RECORDS,
    );
    expect(response).toMatchObject({
      id: 0x4d2,
      type: 'response',
      flags: AA | RD,
      questions: [{ name: 'EXAM-HALL.local', type: 'A', class: 'IN' }],
      answers: [{ name: HOST, type: 'A', data: '10.42.0.1', ttl: LEGACY_UNICAST_TTL_S, flush: false, class: 'IN' }],
    });
    expect(response?.additionals?.map((r) => r.data)).toEqual(['fd42::1', 'fe80::1']);
    for (const r of [...response!.answers!, ...response!.additionals!]) {
      expect(r.ttl).toBeLessThanOrEqual(LEGACY_UNICAST_TTL_S);
      expect(r.flush).toBe(false);
    }
  });

  it('keeps a TTL below 10 s (a goodbye stays 0) and answers ANY with every record of the name', () => {
    const short: RecordsByType = { A: [{ name: HOST, type: 'A', ttl: 0, data: '10.42.0.1' }] };
    expect(legacyUnicastResponse({ id: 1, questions: [{ name: HOST, type: 'A' }] }, short)?.answers?.[0]?.ttl).toBe(0);
    const any = legacyUnicastResponse({ id: 2, questions: [{ name: HOST, type: 'ANY' }] }, RECORDS);
    expect(any?.answers?.map((r) => r.type).sort()).toEqual(['A', 'AAAA', 'AAAA']);
  });

  it('answers a PTR browse with the SRV, TXT and addresses as additionals', () => {
    const response = legacyUnicastResponse({ id: 3, questions: [{ name: '_http._tcp.local', type: 'PTR' }] }, RECORDS);
    expect(response?.answers?.map((r) => r.data)).toEqual([INSTANCE]);
    expect(response?.additionals?.map((r) => r.type)).toEqual(['SRV', 'TXT', 'A', 'AAAA', 'AAAA']);
  });

  it('answers a question with the unicast-response bit as a plain IN question', () => {
    const response = legacyUnicastResponse(
      { id: 4, questions: [{ name: HOST, type: 'A', class: 'UNKNOWN_32769' }] },
      RECORDS,
    );
    expect(response?.questions).toEqual([{ name: HOST, type: 'A', class: 'IN' }]);
  });

  it('fits in 512 bytes: additionals left out first, then the answers that fit sent with TC', () => {
    const long = 'a-hall-box-with-a-name-of-sixty-three-characters-for-this-test1';
    const instance = `${long}._http._tcp.local`;
    const txt = Array.from({ length: 6 }, (_, i) => Buffer.from(`key${i}=${'x'.repeat(40)}`));
    const big: RecordsByType = {
      PTR: [{ name: '_http._tcp.local', type: 'PTR', ttl: 28_800, data: instance }],
      SRV: [{ name: instance, type: 'SRV', ttl: 120, data: { port: 8080, target: `${long}.local` } }],
      TXT: [{ name: instance, type: 'TXT', ttl: 4_500, data: txt }],
      A: Array.from({ length: 30 }, (_, i) => ({
        name: `${long}.local`,
        type: 'A',
        ttl: 120,
        data: `10.42.0.${i + 1}`,
      })),
    };
    const browse = legacyUnicastResponse({ id: 8, questions: [{ name: '_http._tcp.local', type: 'PTR' }] }, big);
    expect(browse?.answers).toHaveLength(1);
    expect(browse?.additionals).toEqual([]);
    expect(browse!.flags! & TC).toBe(0);
    const many = legacyUnicastResponse({ id: 9, questions: [{ name: `${long}.local`, type: 'A' }] }, big);
    expect(encodedBytes(many!)).toBeLessThanOrEqual(LEGACY_UNICAST_MAX_BYTES);
    expect(many!.answers!.length).toBeGreaterThan(0);
    expect(many!.answers!.length).toBeLessThan(30);
    expect(many!.flags! & TC).toBe(TC);
  });

  it('stays silent for names that are not ours and for other classes', () => {
    expect(
      legacyUnicastResponse({ id: 5, questions: [{ name: 'printer.local', type: 'A' }] }, RECORDS),
    ).toBeUndefined();
    expect(
      legacyUnicastResponse({ id: 6, questions: [{ name: HOST, type: 'A', class: 'CH' }] }, RECORDS),
    ).toBeUndefined();
    expect(legacyUnicastResponse({ id: 7, questions: [{ name: HOST, type: 'MX' }] }, RECORDS)).toBeUndefined();
  });
});

describe('address records only for addresses the server accepts', () => {
  const all: MdnsRecord[] = [...RECORDS.A!, ...RECORDS.AAAA!];

  it('drops the AAAA records while the server listens on IPv4 only', () => {
    const kept = withAcceptedAddressesOnly(
      { answers: [...RECORDS.SRV!, ...all], additionals: all },
      new Set(['10.42.0.1']),
    );
    expect(kept?.answers?.map((r) => r.data)).toEqual([RECORDS.SRV![0]!.data, '10.42.0.1']);
    expect(kept?.additionals?.map((r) => r.data)).toEqual(['10.42.0.1']);
  });

  it('sends nothing when no answer is left (an AAAA question to an IPv4-only box)', () => {
    expect(withAcceptedAddressesOnly({ answers: RECORDS.AAAA!.slice() }, new Set(['10.42.0.1']))).toBeUndefined();
  });
});

const INTERFACES: Interfaces = {
  lo: [
    {
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      family: 'IPv4',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: '127.0.0.1/8',
    },
    {
      address: '::1',
      netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      family: 'IPv6',
      mac: '00:00:00:00:00:00',
      internal: true,
      cidr: '::1/128',
      scopeid: 0,
    },
  ],
  eth0: [
    {
      address: '10.42.0.1',
      netmask: '255.255.255.0',
      family: 'IPv4',
      mac: '02:00:00:00:00:01',
      internal: false,
      cidr: '10.42.0.1/24',
    },
    {
      address: 'fd42::1',
      netmask: 'ffff:ffff:ffff:ffff::',
      family: 'IPv6',
      mac: '02:00:00:00:00:01',
      internal: false,
      cidr: 'fd42::1/64',
      scopeid: 0,
    },
    {
      address: 'fe80::1',
      netmask: 'ffff:ffff:ffff:ffff::',
      family: 'IPv6',
      mac: '02:00:00:00:00:01',
      internal: false,
      cidr: 'fe80::1/64',
      scopeid: 2,
    },
  ],
  wlan0: [
    {
      address: '10.43.0.1',
      netmask: '255.255.255.0',
      family: 'IPv4',
      mac: '02:00:00:00:00:02',
      internal: false,
      cidr: '10.43.0.1/24',
    },
  ],
};

describe('the addresses a listening server accepts', () => {
  it('0.0.0.0: every IPv4 address and no IPv6 one', () => {
    expect([...acceptedAddresses('0.0.0.0', INTERFACES)].sort()).toEqual(['10.42.0.1', '10.43.0.1']);
  });

  it(':: (dual-stack): every IPv4 and IPv6 address, link-local included, loopback never', () => {
    expect([...acceptedAddresses('::', INTERFACES)].sort()).toEqual(['10.42.0.1', '10.43.0.1', 'fd42::1', 'fe80::1']);
  });

  it('one address: that one only', () => {
    expect([...acceptedAddresses('10.43.0.1', INTERFACES)]).toEqual(['10.43.0.1']);
    expect([...acceptedAddresses('FD42::1', INTERFACES)]).toEqual(['fd42::1']);
  });

  it('answers unicast queries only from the box’s own networks (RFC 6762 §11)', () => {
    expect(isOnLink('10.42.0.77', INTERFACES)).toBe(true);
    expect(isOnLink('10.43.0.9', INTERFACES)).toBe(true);
    expect(isOnLink('127.0.0.1', INTERFACES)).toBe(true);
    expect(isOnLink('::ffff:10.42.0.77', INTERFACES)).toBe(true);
    expect(isOnLink('10.44.0.1', INTERFACES)).toBe(false);
    expect(isOnLink('192.0.2.1', INTERFACES)).toBe(false);
    expect(isOnLink('fd42::99', INTERFACES)).toBe(true);
    expect(isOnLink('2001:db8::1', INTERFACES)).toBe(false);
  });
});
