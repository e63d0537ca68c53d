import { describe, expect, it } from 'vitest';
import { openQuestions } from './attention.js';
import type { MonitorMessage } from './monitor.js';
import { messageConversations } from './threads.js';

let n = 0;
const msg = (
  at: string,
  audience: MonitorMessage['audience'],
  studentId: string | null,
  text = 'x',
): MonitorMessage => ({
  messageId: `m${++n}`,
  at: `2026-01-01T09:${at}:00.000Z`,
  audience,
  studentId,
  questionId: null,
  text,
  from:
    audience === 'proctors' && studentId !== null
      ? { role: 'examinee', studentId }
      : { role: 'proctor', username: 'chief' },
});

describe('messageConversations', () => {
  const messages = [
    msg('05', 'proctors', 's1', 'May I have paper?'),
    msg('06', 'all', null, 'Ten minutes left'),
    msg('07', 'examinee', 's1', 'Yes'),
    msg('08', 'proctors', 's2', 'Question 3 unclear'),
    msg('09', 'staff', null, 'Seat 12 needs a look'),
    msg('10', 'proctors', 's1', 'Thanks'),
  ];

  it('puts each examinee in one thread, oldest first, newest activity first, unanswered marked', () => {
    const c = messageConversations(messages);
    expect(c.threads.map((t) => [t.studentId, t.unanswered, t.messages.map((m) => m.text)])).toEqual([
      ['s1', true, ['May I have paper?', 'Yes', 'Thanks']],
      ['s2', true, ['Question 3 unclear']],
    ]);
    expect(c.announcements.map((m) => m.text)).toEqual(['Ten minutes left']);
    expect(c.staff.map((m) => m.text)).toEqual(['Seat 12 needs a look']);
  });

  it('agrees with openQuestions: a private reply answers the thread, a staff message does not', () => {
    const answered = [...messages, msg('11', 'examinee', 's1', 'You are welcome'), msg('12', 'staff', null, 'ok')];
    const c = messageConversations(answered);
    expect(c.threads.find((t) => t.studentId === 's1')?.unanswered).toBe(false);
    expect(openQuestions(answered).map((q) => q.studentId)).toEqual(['s2']);
  });
});
