import { describe, expect, it } from 'vitest';
import { en } from './en';

describe('en.exam.fileSize', () => {
  it('gives sizes under 1 kB in bytes', () => {
    expect(en.exam.fileSize(0)).toBe('0 bytes');
    expect(en.exam.fileSize(1)).toBe('1 byte');
    expect(en.exam.fileSize(135)).toBe('135 bytes');
    expect(en.exam.fileSize(1023)).toBe('1023 bytes');
  });

  it('gives kB from 1 kB and MB from 1 MB', () => {
    expect(en.exam.fileSize(1024)).toBe('1 kB');
    expect(en.exam.fileSize(1536)).toBe('2 kB');
    expect(en.exam.fileSize(500 * 1024)).toBe('500 kB');
    expect(en.exam.fileSize(1024 * 1024)).toBe('1.0 MB');
    expect(en.exam.fileSize(3.5 * 1024 * 1024)).toBe('3.5 MB');
  });
});
