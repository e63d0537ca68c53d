import { describe, expect, it } from 'vitest';
import { inNetwork, networkAllowed, parseAddress, parseNetwork } from './networks.js';

const range = (text: string) => {
  const r = parseNetwork(text);
  if (!r.ok) throw new Error(r.message);
  return r.range;
};

describe('allowed examinee networks', () => {
  it('matches IPv4 ranges at their edges', () => {
    const hall = range('10.20.0.0/16');
    expect(inNetwork(hall, '10.20.0.0')).toBe(true);
    expect(inNetwork(hall, '10.20.255.255')).toBe(true);
    expect(inNetwork(hall, '10.21.0.0')).toBe(false);
    expect(inNetwork(hall, '10.19.255.255')).toBe(false);
    expect(inNetwork(range('192.168.1.7'), '192.168.1.7')).toBe(true);
    expect(inNetwork(range('192.168.1.7'), '192.168.1.8')).toBe(false);
    expect(inNetwork(range('0.0.0.0/0'), '203.0.113.9')).toBe(true);
  });

  it('takes an IPv4 address seen on a dual-stack socket as IPv4', () => {
    expect(parseAddress('::ffff:10.20.1.5')).toEqual({ family: 4, value: parseAddress('10.20.1.5')!.value });
    expect(inNetwork(range('10.20.0.0/16'), '::ffff:10.20.1.5')).toBe(true);
    expect(inNetwork(range('10.20.0.0/16'), '::FFFF:0a14:0105')).toBe(true);
  });

  it('matches IPv6 ranges, compressed or not, with a zone id', () => {
    const ula = range('fd00:e8::/32');
    expect(inNetwork(ula, 'fd00:e8:0:0:0:0:0:1')).toBe(true);
    expect(inNetwork(ula, 'fd00:e8:ffff::1')).toBe(true);
    expect(inNetwork(ula, 'fd00:e9::1')).toBe(false);
    expect(inNetwork(range('fe80::/10'), 'fe80::1%eth0')).toBe(true);
    expect(inNetwork(range('::1'), '::1')).toBe(true);
    expect(inNetwork(ula, '10.20.1.5')).toBe(false);
    expect(inNetwork(range('10.0.0.0/8'), 'fd00::1')).toBe(false);
  });

  it('refuses what is not a range, saying why', () => {
    for (const bad of [
      '',
      'hall-wifi',
      '10.20.0/16',
      '10.20.0.256',
      '010.1.1.1',
      '10.20.0.0/33',
      '10.20.0.0/-1',
      '10.20.0.0/16/2',
      '10.20.0.0/ 16',
      'fd00::e8::1',
      '1:2:3:4:5:6:7:8:9',
      'fd00::/129',
      'gggg::1',
    ])
      expect(parseNetwork(bad).ok, bad).toBe(false);
    expect(parseNetwork('10.20.1.0/16')).toEqual({
      ok: false,
      message: '"10.20.1.0/16" has bits set past its /16: the range starts at 10.20.0.0/16',
    });
    expect(parseNetwork('hall')).toEqual({
      ok: false,
      message: '"hall" is not an address range: write it as 10.20.0.0/16 or fd00::/8',
    });
  });

  it('allows everyone with no ranges; with ranges only addresses inside one, never an unknown one', () => {
    expect(networkAllowed([], undefined)).toBe(true);
    expect(networkAllowed([], '203.0.113.9')).toBe(true);
    expect(networkAllowed(['10.20.0.0/16', 'fd00::/8'], '10.20.3.4')).toBe(true);
    expect(networkAllowed(['10.20.0.0/16', 'fd00::/8'], 'fd12::3')).toBe(true);
    expect(networkAllowed(['10.20.0.0/16'], '10.30.3.4')).toBe(false);
    expect(networkAllowed(['10.20.0.0/16'], undefined)).toBe(false);
    expect(networkAllowed(['10.20.0.0/16'], 'not an address')).toBe(false);
  });
});
