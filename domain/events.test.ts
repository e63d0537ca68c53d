import { describe, expect, it } from 'vitest';
import { FakeClock, MINUTE } from './clock.js';
import { chainEvent, eventDocId, eventHash, eventText, GENESIS_HASH, verifyChain, type ExamEvent } from './events.js';
import { SCHEMA_VERSION } from './exam-format.js';
import { APPLIANCE_ID, EV, EXAM_ID, START, TestChain } from '../tests/support/fixtures.js';

/** A chain of six events, one a minute. */
function sixEvents(): ExamEvent[] {
  const chain = new TestChain();
  const clock = new FakeClock(START - 20 * MINUTE);
  for (const e of [
    EV.signedIn(),
    EV.downloaded(),
    EV.started(),
    EV.presence(false),
    EV.presence(true),
    EV.submitted(1),
  ]) {
    chain.append(clock.now(), e);
    clock.advance(MINUTE);
  }
  return chain.events;
}

/** What an attacker who can compute SHA-256 would do after editing an event. */
const rehash = (e: ExamEvent): ExamEvent => ({ ...e, hash: eventHash(e) });

/** Replaces the event at `seq` (1-based). */
const replaceAt = (events: ExamEvent[], seq: number, f: (e: ExamEvent) => ExamEvent) =>
  events.map((e) => (e.seq === seq ? f(e) : e));

describe('chainEvent', () => {
  it('numbers events from 1, links each to the previous hash, and derives the id', () => {
    const events = sixEvents();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i++) expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
    expect(events[2]?._id).toBe(`event:${EXAM_ID}:${APPLIANCE_ID}:0000000003`);
    expect(eventDocId('E1', 'box', 12)).toBe('event:E1:box:0000000012');
    for (const e of events) {
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e).toMatchObject({
        type: 'event',
        schemaVersion: SCHEMA_VERSION,
        examId: EXAM_ID,
        applianceId: APPLIANCE_ID,
      });
    }
  });

  it('hashes everything but hash and _rev (a stored _rev does not break the chain)', () => {
    const [first] = sixEvents();
    if (!first) throw new Error('no event');
    expect(eventHash(first)).toBe(first.hash);
    expect(eventHash({ ...first, _rev: '3-abc' })).toBe(first.hash);
    expect(eventHash({ ...first, at: first.at + 1 })).not.toBe(first.hash);
  });

  it('is deterministic: the same input gives the same event', () => {
    const head = { seq: 0, hash: GENESIS_HASH };
    const a = chainEvent(head, EXAM_ID, APPLIANCE_ID, START, EV.started(), SCHEMA_VERSION);
    const b = chainEvent(head, EXAM_ID, APPLIANCE_ID, START, EV.started(), SCHEMA_VERSION);
    expect(a).toEqual(b);
    expect(eventText(a)).toBe(eventText(b));
    expect(JSON.parse(eventText(a))).toEqual(a);
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain, in any order, and an empty one', () => {
    const events = sixEvents();
    expect(verifyChain(events)).toBeUndefined();
    expect(verifyChain([...events].reverse())).toBeUndefined();
    expect(verifyChain([])).toBeUndefined();
  });

  it('survives a JSON round trip (as through PouchDB) with a _rev added', () => {
    const stored = sixEvents().map((e, i) => ({ ...(JSON.parse(JSON.stringify(e)) as ExamEvent), _rev: `1-${i}` }));
    expect(verifyChain(stored)).toBeUndefined();
  });

  it('reports a changed data field at that event as hash-mismatch', () => {
    const events = replaceAt(sixEvents(), 2, (e) =>
      e.kind === 'package-downloaded' ? { ...e, data: { ...e.data, downloadNo: 7 } } : e,
    );
    expect(verifyChain(events)).toEqual({ seq: 2, id: events[1]?._id, reason: 'hash-mismatch' });
  });

  it('reports a changed submission hash at that event', () => {
    const events = replaceAt(sixEvents(), 6, (e) =>
      e.kind === 'submission-accepted' ? { ...e, data: { ...e.data, sha256: 'f'.repeat(64) } } : e,
    );
    expect(verifyChain(events)).toMatchObject({ seq: 6, reason: 'hash-mismatch' });
  });

  it('reports a changed `at` as hash-mismatch at that event', () => {
    const events = replaceAt(sixEvents(), 3, (e) => ({ ...e, at: e.at - 10 * MINUTE }));
    expect(verifyChain(events)).toMatchObject({ seq: 3, reason: 'hash-mismatch' });
  });

  it('reports a changed event that was re-hashed as prev-hash-mismatch at the next event', () => {
    const events = replaceAt(sixEvents(), 3, (e) => rehash({ ...e, at: e.at - 10 * MINUTE }));
    expect(verifyChain(events)).toEqual({ seq: 4, id: events[3]?._id, reason: 'prev-hash-mismatch' });
  });

  it('reports a removed event as a sequence gap at the missing seq', () => {
    const events = sixEvents().filter((e) => e.seq !== 4);
    expect(verifyChain(events)).toEqual({ seq: 4, id: events[3]?._id, reason: 'sequence-gap' });
    expect(verifyChain(sixEvents().filter((e) => e.seq !== 1))).toMatchObject({ seq: 1, reason: 'sequence-gap' });
  });

  it('reports removing an event and renumbering the rest as prev-hash-mismatch', () => {
    const renumbered = sixEvents()
      .filter((e) => e.seq !== 4)
      .map((e) =>
        e.seq > 4 ? rehash({ ...e, seq: e.seq - 1, _id: eventDocId(e.examId, e.applianceId, e.seq - 1) }) : e,
      );
    expect(verifyChain(renumbered)).toMatchObject({ seq: 4, reason: 'prev-hash-mismatch' });
  });

  it('reports two events swapped (seq and id renumbered) as hash-mismatch at the first', () => {
    const events = sixEvents();
    const [e2, e3] = [events[1], events[2]];
    if (!e2 || !e3) throw new Error('fixture');
    const swapped = [
      events[0],
      { ...e3, seq: 2, _id: e2._id },
      { ...e2, seq: 3, _id: e3._id },
      ...events.slice(3),
    ] as ExamEvent[];
    expect(verifyChain(swapped)).toEqual({ seq: 2, id: e2._id, reason: 'hash-mismatch' });
  });

  it('reports two events swapped and re-hashed as prev-hash-mismatch at the first', () => {
    const events = sixEvents();
    const [e2, e3] = [events[1], events[2]];
    if (!e2 || !e3) throw new Error('fixture');
    const swapped = [
      events[0],
      rehash({ ...e3, seq: 2, _id: e2._id }),
      rehash({ ...e2, seq: 3, _id: e3._id }),
      ...events.slice(3),
    ] as ExamEvent[];
    expect(verifyChain(swapped)).toEqual({ seq: 2, id: e2._id, reason: 'prev-hash-mismatch' });
  });

  it('reports a seq moved away as a gap, and an id that does not match its seq as wrong-chain', () => {
    const events = sixEvents();
    const e5 = events[4];
    if (!e5) throw new Error('fixture');
    const moved = [...events.slice(0, 4), { ...e5, seq: 7 }, ...events.slice(5)];
    // Sorted by seq, event 6 now follows 4: a gap at 5.
    expect(verifyChain(moved)).toMatchObject({ seq: 5, reason: 'sequence-gap' });
    const relabelled = replaceAt(events, 5, (e) => rehash({ ...e, _id: eventDocId(e.examId, e.applianceId, 9) }));
    expect(verifyChain(relabelled)).toMatchObject({ seq: 5, reason: 'wrong-chain' });
  });

  it('reports a swapped prevHash: as hash-mismatch, or as prev-hash-mismatch when re-hashed', () => {
    const events = sixEvents();
    const prev3 = events[2]?.prevHash ?? '';
    const prev4 = events[3]?.prevHash ?? '';
    const swapped = replaceAt(
      replaceAt(events, 3, (e) => ({ ...e, prevHash: prev4 })),
      4,
      (e) => ({
        ...e,
        prevHash: prev3,
      }),
    );
    expect(verifyChain(swapped)).toEqual({ seq: 3, id: events[2]?._id, reason: 'hash-mismatch' });
    const swappedRehashed = replaceAt(
      replaceAt(events, 3, (e) => rehash({ ...e, prevHash: prev4 })),
      4,
      (e) => rehash({ ...e, prevHash: prev3 }),
    );
    expect(verifyChain(swappedRehashed)).toEqual({ seq: 3, id: events[2]?._id, reason: 'prev-hash-mismatch' });
    const genesis = replaceAt(events, 1, (e) => rehash({ ...e, prevHash: 'f'.repeat(64) }));
    expect(verifyChain(genesis)).toMatchObject({ seq: 1, reason: 'prev-hash-mismatch' });
  });

  it('reports an event of another exam or appliance as wrong-chain', () => {
    const events = sixEvents();
    const other = new TestChain(EXAM_ID, 'hall-b-box-9');
    other.append(START, EV.started());
    other.append(START, EV.started());
    const mixed = [...events.slice(0, 1), other.events[1], ...events.slice(2)] as ExamEvent[];
    expect(verifyChain(mixed)).toMatchObject({ seq: 2, reason: 'wrong-chain' });
  });

  it('cannot see the last event removed (the head must be known from elsewhere)', () => {
    // Documented limit: a chain verifies its own prefix; a truncated tail is still a valid chain.
    expect(verifyChain(sixEvents().slice(0, 5))).toBeUndefined();
  });
});
