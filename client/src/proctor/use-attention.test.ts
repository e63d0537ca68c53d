import { describe, expect, it } from 'vitest';
import { TITLE_EVERY_MS, titleWait } from './use-attention';

describe('the count in the document title', () => {
  const shown = { at: 10_000, title: 'Physics 101', counting: true };

  it('changes a shown count at most once a TITLE_EVERY_MS, waiting out the rest', () => {
    expect(titleWait(shown, 'Physics 101', 4, 10_000)).toBe(TITLE_EVERY_MS);
    expect(titleWait(shown, 'Physics 101', 4, 10_250)).toBe(TITLE_EVERY_MS - 250);
    expect(titleWait(shown, 'Physics 101', 4, 10_000 + TITLE_EVERY_MS)).toBe(0);
    expect(titleWait(shown, 'Physics 101', 4, 99_000)).toBe(0);
  });

  it('shows at once when something starts or stops waiting, or the exam changes', () => {
    expect(titleWait(shown, 'Physics 101', 0, 10_001)).toBe(0);
    expect(titleWait({ ...shown, counting: false }, 'Physics 101', 1, 10_001)).toBe(0);
    expect(titleWait(shown, 'Chemistry 201', 4, 10_001)).toBe(0);
    expect(titleWait({ at: Number.NEGATIVE_INFINITY, title: '', counting: false }, 'Physics 101', 3, 0)).toBe(0);
  });
});
