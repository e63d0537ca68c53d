/**
 * The exam day that `npm run bench:monitor` (./bench-monitor.ts) writes through the store: a
 * seeded plan of the roster, every event with its time (and its answer file or upload), and the
 * drafts, with the counts a start must then find. Pure apart from the seeded random source.
 */
import { createHash } from 'node:crypto';
import { examQuestions, serialiseAnswerFile, type AnswerFile, type AnswerValue } from '../domain/answers.js';
import { MINUTE } from '../domain/clock.js';
import { generateAccessCode, rosterEntrySchema, type ExamDoc } from '../domain/exam-format.js';
import { INTEGRITY_EVENT_TYPES, type NewEvent } from '../domain/events.js';
import { submissionDocId } from '../appliance/src/store/hall-store.js';
import { seededRandom } from '../domain/seeded-random.js';

export const SECOND = 1_000;

/** What the plan depends on (bench-monitor's options). */
export interface PlanOptions {
  examinees: number;
  events: number;
  seed: number;
  /** The appliance that records the day (it is in the submissions' ids). */
  applianceId: string;
}

// ---------------------------------------------------------------------------------------------
// A seeded random source, so every run builds the same exam day.

class Rng {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Math.floor(this.next() * 256));
  }
  hex(n: number): string {
    return Array.from(this.bytes(n), (b) => b.toString(16).padStart(2, '0')).join('');
  }
}

// ---------------------------------------------------------------------------------------------
// The exam day plan

export interface PlannedEvent {
  at: number;
  /** Insertion order, to keep events of equal time in a sensible order. */
  order: number;
  event: NewEvent;
  /** A submission-accepted event: its answer file (the blob) and number. */
  submission?: { n: number; bytes: Buffer; answers: AnswerFile['answers']; type: 'manual' | 'automatic' };
  /** A file-uploaded event's file content. */
  fileBytes?: Buffer;
}

export interface Plan {
  exam: ExamDoc;
  roster: ReturnType<typeof rosterEntrySchema.parse>[];
  events: PlannedEvent[];
  drafts: { studentId: string; saves: { at: number; answers: AnswerFile['answers'] }[] }[];
  /** What a start must find. */
  expected: {
    examinees: number;
    events: number;
    downloads: number;
    uploads: number;
    receipts: number;
    drafts: number;
    integrityEvents: number;
  };
  now: number;
}

const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Katherine', 'Niklaus'];
const LAST_NAMES = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Backus',
  'Johnson',
  'Wirth',
];
const QUESTIONS = [
  'Is a calculator allowed?',
  'Question 6: may the answer be rounded?',
  'My screen froze for a moment, is my answer saved?',
  'Can I go to the bathroom?',
];

/** An answer for each question, as a student would give (some left empty). */
function answersFor(
  exam: ExamDoc,
  rng: Rng,
  share: number,
  file: { sha256: string; name: string; size: number } | undefined,
) {
  const answers: Record<string, AnswerValue> = {};
  for (const q of examQuestions(exam)) {
    if (!rng.chance(share)) continue;
    switch (q.type) {
      case 'single-choice':
        answers[q.id] = rng.pick(q.options).id;
        break;
      case 'multiple-choice':
        answers[q.id] = q.options.filter(() => rng.chance(0.5)).map((o) => o.id);
        break;
      case 'true-false':
        answers[q.id] = rng.chance(0.5);
        break;
      case 'numeric':
        answers[q.id] = Math.round(rng.next() * 1000) / 10;
        break;
      case 'short-text':
        answers[q.id] = rng.pick(["Newton's third law", 'joule', 'inertia', 'watt']);
        break;
      case 'essay':
        answers[q.id] = 'Momentum is conserved because '.repeat(rng.int(5, 60));
        break;
      case 'file':
        if (file) answers[q.id] = [file];
        break;
    }
  }
  return answers;
}

/**
 * The events, drafts and roster of one exam day of `o.examinees` examinees and about `o.events`
 * events, the same for the same seed.
 */
export function planExamDay(exam: ExamDoc, o: PlanOptions): Plan {
  const rng = new Rng(seededRandom(o.seed));
  const t0 = Date.parse(exam.scheduledStart);
  const windowCloses = Date.parse(exam.downloadWindow.closes);
  const examExtra = 5;
  const events: PlannedEvent[] = [];
  let order = 0;
  const add = (at: number, event: NewEvent, extra: Partial<PlannedEvent> = {}) =>
    events.push({ at: Math.round(at), order: order++, event, ...extra });
  const examinee = (studentId: string) => ({ role: 'examinee' as const, studentId });
  const proctor = () => ({ role: 'proctor' as const, username: rng.pick(['chief', 'invi']) });
  const system = { role: 'system' as const };

  const roster = Array.from({ length: o.examinees }, (_, i) =>
    rosterEntrySchema.parse({
      studentId: `S${String(i + 1).padStart(5, '0')}`,
      name: `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)} ${i + 1}`,
      ...(rng.chance(0.8) ? { email: `student${i + 1}@example.org` } : {}),
      ...(rng.chance(0.5) ? { phone: `+44 20 7946 ${String(i).padStart(4, '0')}` } : {}),
      accommodationPercent: rng.chance(0.05) ? rng.pick([25, 50]) : 0,
      accessCode: generateAccessCode((n) => rng.bytes(n)),
      seat: `R${Math.floor(i / 40) + 1}-${(i % 40) + 1}`,
    }),
  );

  // Exam-wide proctor actions and announcements.
  add(t0 - 20 * MINUTE, { kind: 'late-login-limit-set', actor: proctor(), data: { minutes: 20 } });
  add(t0 - 15 * MINUTE, { kind: 'hardware-checks-set', actor: proctor(), data: { disabled: ['multiple-screens'] } });
  add(t0 + 30 * MINUTE, { kind: 'exam-extension-set', actor: proctor(), data: { minutes: examExtra } });
  for (let i = 0; i < 30; i++) {
    const text = `Announcement ${i + 1}: ${rng.pick(['30 minutes left', 'Question 7 uses g = 9.81', 'Stay seated'])}`;
    add(t0 + rng.int(-10, 60) * MINUTE, {
      kind: 'message-sent',
      actor: proctor(),
      data: { messageId: rng.hex(16), audience: 'all', text },
    });
  }

  // Each examinee's own day; the activity (presence, integrity, messages ...) is filled in below.
  interface Active {
    studentId: string;
    from: number;
    until: number;
    weight: number;
  }
  const active: Active[] = [];
  const drafts: Plan['drafts'] = [];
  let downloads = 0;
  let uploads = 0;
  let receipts = 0;
  for (const entry of roster) {
    const studentId = entry.studentId;
    const actor = examinee(studentId);
    const late = rng.chance(0.03);
    const signIn = late ? t0 + rng.int(1, 12 * 60) * SECOND : t0 - rng.int(60, 50 * 60) * SECOND;
    add(signIn, {
      kind: 'examinee-signed-in',
      actor,
      studentId,
      data: { deviceId: `device-${rng.hex(8)}`, sessionNo: 1 },
    });
    const download1 = signIn + rng.int(5, 60) * SECOND;
    add(download1, {
      kind: 'package-downloaded',
      actor,
      studentId,
      data: { downloadNo: 1, packageVersion: exam.version },
    });
    downloads++;
    if (rng.chance(0.25)) {
      const download2 = Math.min(download1 + rng.int(60, 20 * 60) * SECOND, windowCloses - SECOND);
      add(Math.max(download2, download1 + SECOND), {
        kind: 'package-downloaded',
        actor,
        studentId,
        data: { downloadNo: 2, packageVersion: exam.version },
      });
      downloads++;
    }
    add(signIn + rng.int(60, 10 * 60) * SECOND, {
      kind: 'verification-decided',
      actor: proctor(),
      studentId,
      data: { decision: 'verified' },
    });
    const started = Math.max(t0, download1) + rng.int(1, 20) * SECOND;
    add(started, { kind: 'exam-started', actor, studentId, data: { via: 'key-released' } });
    const deadline = t0 + (exam.durationMinutes * (1 + entry.accommodationPercent / 100) + examExtra) * MINUTE;

    let until = deadline;
    let answers: AnswerFile['answers'] = {};
    const file = rng.chance(0.3)
      ? {
          bytes: Buffer.from(`%PDF-1.4 lab report of ${studentId} ${rng.hex(64)}`),
          at: started + rng.int(10, 30) * MINUTE,
        }
      : undefined;
    const fileRef = file ? { sha256: sha256(file.bytes), name: 'report.pdf', size: file.bytes.length } : undefined;
    if (file && fileRef) {
      add(
        file.at,
        {
          kind: 'file-uploaded',
          actor,
          studentId,
          data: { questionId: 'q11-worked-problem', sha256: fileRef.sha256, size: fileRef.size, name: fileRef.name },
        },
        { fileBytes: file.bytes },
      );
    }
    if (rng.chance(0.005)) {
      // Rejected at a later look at the photo/id: no submission.
      until = started + rng.int(10, 40) * MINUTE;
      add(until, { kind: 'verification-decided', actor: proctor(), studentId, data: { decision: 'rejected' } });
      answers = answersFor(exam, rng, 0.3, undefined);
    } else if (rng.chance(0.985)) {
      const automatic = rng.chance(0.05);
      const submitted = automatic ? deadline : Math.min(deadline, t0 + rng.int(35 * 60, 60 * 60) * SECOND);
      until = submitted;
      answers = answersFor(exam, rng, 0.9, file && fileRef && file.at < submitted ? fileRef : undefined);
      const submissions = rng.chance(0.02) ? 2 : 1;
      for (let n = 1; n <= submissions; n++) {
        const bytes = Buffer.from(
          serialiseAnswerFile({ format: 'answers/v1', examId: exam.examId, studentId, answers, flagged: [] }),
        );
        const at = n === 1 ? submitted - (submissions - 1) * 2 * MINUTE : submitted;
        add(
          at,
          {
            kind: 'submission-accepted',
            actor,
            studentId,
            data: {
              submissionId: submissionDocId(exam.examId, studentId, o.applianceId, n),
              n,
              sha256: sha256(bytes),
              size: bytes.length,
              submissionType: automatic ? 'automatic' : 'manual',
              late: false,
            },
          },
          { submission: { n, bytes, answers, type: automatic ? 'automatic' : 'manual' } },
        );
        receipts++;
      }
      uploads++;
    } else {
      // Still writing, or gone quiet, when the proctor looks at the monitor.
      answers = answersFor(exam, rng, 0.6, undefined);
    }
    // Three autosaves, the last one at most 15 s before the end.
    const saves = [0.3, 0.7, 1].map((share) => ({
      at: started + Math.round((until - started - 15 * SECOND) * share),
      answers: Object.fromEntries(Object.entries(answers).filter((_, i, all) => i < Math.ceil(all.length * share))),
    }));
    drafts.push({ studentId, saves });
    active.push({
      studentId,
      from: started + SECOND,
      until: until - SECOND,
      weight: -Math.log(1 - rng.next()),
    });
  }

  // Fill the rest of the 50,000 with activity, spread unevenly: most examinees have a few dozen
  // events, some many more (a flaky laptop, a restless examinee).
  const budget = o.events - events.length;
  if (budget < 0) throw new Error(`${o.events} events are fewer than the ${events.length} every exam day needs`);
  const totalWeight = active.reduce((a, x) => a + x.weight, 0);
  const shares = active.map((x) => Math.floor((budget * x.weight) / totalWeight));
  for (let left = budget - shares.reduce((a, b) => a + b, 0), i = 0; left > 0; left--, i++) {
    shares[i % shares.length]! += 1;
  }
  let integrityEvents = 0;
  active.forEach((x, i) => {
    let left = shares[i] ?? 0;
    const studentId = x.studentId;
    const actor = examinee(studentId);
    const at = () => rng.int(x.from, x.until);
    while (left > 0) {
      const r = rng.next();
      if (r < 0.4 && left >= 2) {
        const off = at();
        add(off, { kind: 'presence-changed', actor: system, studentId, data: { connected: false } });
        add(Math.min(off + rng.int(5, 90) * SECOND, x.until), {
          kind: 'presence-changed',
          actor: system,
          studentId,
          data: { connected: true },
        });
        left -= 2;
      } else if (r < 0.48 && left >= 2) {
        const asked = at();
        add(asked, {
          kind: 'message-sent',
          actor,
          studentId,
          data: { messageId: rng.hex(16), audience: 'proctors', text: rng.pick(QUESTIONS) },
        });
        add(asked + rng.int(20, 120) * SECOND, {
          kind: 'message-sent',
          actor: proctor(),
          studentId,
          data: { messageId: rng.hex(16), audience: 'examinee', text: 'Yes, carry on.' },
        });
        left -= 2;
      } else if (r < 0.52 && left >= 3) {
        const asked = at();
        add(asked, { kind: 'bathroom-break-requested', actor, studentId, data: {} });
        add(asked + rng.int(10, 60) * SECOND, {
          kind: 'bathroom-break-decided',
          actor: proctor(),
          studentId,
          data: { decision: 'approved' },
        });
        add(asked + rng.int(3, 8) * MINUTE, { kind: 'bathroom-break-returned', actor: proctor(), studentId, data: {} });
        left -= 3;
      } else if (r < 0.54 && left >= 2) {
        const challenge = rng.hex(4);
        const issued = at();
        add(issued, { kind: 'resume-code-issued', actor: proctor(), studentId, data: { challenge } });
        add(issued + rng.int(10, 60) * SECOND, { kind: 'resume-code-used', actor, studentId, data: { challenge } });
        left -= 2;
      } else if (r < 0.55) {
        add(at(), {
          kind: 'personal-extension-set',
          actor: proctor(),
          studentId,
          data: { minutes: rng.pick([5, 10]) },
        });
        left -= 1;
      } else if (r < 0.56) {
        add(at(), { kind: 'contact-revealed', actor: proctor(), studentId, data: {} });
        left -= 1;
      } else if (r < 0.57) {
        add(at(), {
          kind: 'integrity-review-set',
          actor: proctor(),
          studentId,
          data: { status: rng.pick(['in-review', 'cleared', 'suspicious'] as const) },
        });
        left -= 1;
      } else {
        add(at(), {
          kind: 'integrity-event',
          actor,
          studentId,
          data: { type: rng.pick(INTEGRITY_EVENT_TYPES) },
        });
        integrityEvents++;
        left -= 1;
      }
    }
  });

  events.sort((a, b) => a.at - b.at || a.order - b.order);
  if (events.length !== o.events) throw new Error(`planned ${events.length} events, not ${o.events}`);
  return {
    exam,
    roster,
    events,
    drafts,
    expected: {
      examinees: o.examinees,
      events: o.events,
      downloads,
      uploads,
      receipts,
      drafts: drafts.length,
      integrityEvents,
    },
    now: t0 + 75 * MINUTE,
  };
}

/** Lower-case hex SHA-256 of bytes. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
