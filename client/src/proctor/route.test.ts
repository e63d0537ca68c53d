import { describe, expect, it } from 'vitest';
import { formatPlace, parsePlace, samePlace, type Place } from './route';

describe('the dashboard’s place in the address', () => {
  it('reads back what it wrote, for every tab and with or without a filter', () => {
    const places: Place[] = [
      { examId: 'exam-1', tab: 'participants', status: 'all' },
      { examId: 'exam 2/ä&b', tab: 'messages', status: 'all' },
      { examId: 'exam-1', tab: 'participants', status: 'submitted' },
      { examId: 'exam-1', tab: 'sync', status: 'waiting-relogin' },
      { examId: 'exam-1', tab: 'participants', status: 'attention' },
      { examId: 'exam-1', tab: 'participants', status: 'all', examinee: 's-007' },
      { examId: 'exam-1', tab: 'participants', status: 'attention', examinee: 'a b&c/ä' },
    ];
    for (const place of places) expect(parsePlace(formatPlace(place))).toEqual(place);
    expect(formatPlace(places[2])).toBe('#exam=exam-1&tab=participants&status=submitted');
    expect(formatPlace(places[5])).toBe('#exam=exam-1&tab=participants&examinee=s-007');
  });

  it('is the exam list with no exam, and falls back for an unknown tab or filter', () => {
    expect(parsePlace('')).toBeUndefined();
    expect(parsePlace('#tab=messages')).toBeUndefined();
    expect(parsePlace('#exam=')).toBeUndefined();
    expect(formatPlace(undefined)).toBe('');
    expect(parsePlace('#exam=e&tab=nope&status=asleep')).toEqual({ examId: 'e', tab: 'participants', status: 'all' });
    expect(parsePlace('exam=e')).toEqual({ examId: 'e', tab: 'participants', status: 'all' });
    expect(parsePlace('#exam=e&examinee=')).toEqual({ examId: 'e', tab: 'participants', status: 'all' });
  });

  it('compares places by what the address shows', () => {
    expect(samePlace(undefined, undefined)).toBe(true);
    expect(samePlace({ examId: 'e', tab: 'info', status: 'all' }, { examId: 'e', tab: 'info', status: 'all' })).toBe(
      true,
    );
    expect(
      samePlace({ examId: 'e', tab: 'info', status: 'all' }, { examId: 'e', tab: 'messages', status: 'all' }),
    ).toBe(false);
    expect(
      samePlace(
        { examId: 'e', tab: 'info', status: 'all' },
        { examId: 'e', tab: 'info', status: 'all', examinee: 's' },
      ),
    ).toBe(false);
  });
});
