import { describe, expect, it } from 'vitest';
import { meetsMinimumVersion, parseVersion } from './version.js';

describe('parseVersion', () => {
  it('reads major.minor.patch and nothing else', () => {
    expect(parseVersion('1.2.3')).toEqual([1, 2, 3]);
    expect(parseVersion(' 10.0.7 ')).toEqual([10, 0, 7]);
    expect(parseVersion('1.2')).toBeUndefined();
    expect(parseVersion('v1.2.3')).toBeUndefined();
    expect(parseVersion('1.2.3-beta.1')).toBeUndefined();
    expect(parseVersion('')).toBeUndefined();
  });
});

describe('meetsMinimumVersion', () => {
  it.each([
    ['1.4.0', '1.4.0', true],
    ['1.4.1', '1.4.0', true],
    ['1.5.0', '1.4.9', true],
    ['2.0.0', '1.99.99', true],
    ['1.10.0', '1.9.0', true], // numeric, not string, comparison
    ['1.3.9', '1.4.0', false],
    ['1.4.0', '1.4.1', false],
    ['0.9.9', '1.0.0', false],
    ['1.9.0', '1.10.0', false],
  ])('%s against minimum %s → %s', (version, minimum, expected) => {
    expect(meetsMinimumVersion(version, minimum)).toBe(expected);
  });

  it('refuses anything it cannot parse, on either side', () => {
    expect(meetsMinimumVersion('latest', '1.0.0')).toBe(false);
    expect(meetsMinimumVersion('9.9.9-rc1', '1.0.0')).toBe(false);
    expect(meetsMinimumVersion('1.0.0', 'x')).toBe(false);
  });
});
