/**
 * The Messages tab's conversations, as a pure function of the exam's messages: one thread per
 * examinee (their questions and the private answers to them, oldest first), the announcements, and
 * the staff messages between invigilators and the chief. A thread is unanswered while its latest
 * question has no private answer after it (the rule domain/attention.ts openQuestions applies).
 */
import type { MonitorMessage } from './monitor.js';

/** One examinee's conversation with the proctors. */
export interface MessageThread {
  studentId: string;
  /** Their questions and the private answers, oldest first. */
  messages: MonitorMessage[];
  /** Their latest question came after the latest answer (or has none). */
  unanswered: boolean;
  /** ISO time of the latest message. */
  lastAt: string;
}

export interface MessageConversations {
  /** Newest activity first. */
  threads: MessageThread[];
  /** Announcements to the hall (with or without a question), oldest first. */
  announcements: MonitorMessage[];
  /** Between invigilators and the chief, oldest first. */
  staff: MonitorMessage[];
}

export function messageConversations(messages: readonly MonitorMessage[]): MessageConversations {
  const sorted = [...messages].sort((a, b) => a.at.localeCompare(b.at));
  const byStudent = new Map<string, MonitorMessage[]>();
  const announcements: MonitorMessage[] = [];
  const staff: MonitorMessage[] = [];
  for (const m of sorted) {
    if (m.audience === 'all') announcements.push(m);
    else if (m.audience === 'staff') staff.push(m);
    else if (m.studentId !== null) {
      const list = byStudent.get(m.studentId) ?? [];
      list.push(m);
      byStudent.set(m.studentId, list);
    }
  }
  const threads = [...byStudent].map(([studentId, list]): MessageThread => {
    const last = list[list.length - 1]!;
    return { studentId, messages: list, unanswered: last.audience === 'proctors', lastAt: last.at };
  });
  threads.sort((a, b) => b.lastAt.localeCompare(a.lastAt) || a.studentId.localeCompare(b.studentId));
  return { threads, announcements, staff };
}
