/**
 * The part of verify-log (./verify-log.ts has the spec of the checks) that judges one chain: the
 * events of one exam written by one appliance, as the database and the journal each hold them,
 * run through verifyChain copy by copy and compared with each other, into findings ordered so
 * that the first is the first bad event. Pure: the reading of the copies is in ./verify-log.ts.
 */
import { canonicalJson, type Json } from '../../domain/canonical.js';
import { eventDocId, verifyChain, type ChainBreak, type ExamEvent } from '../../domain/events.js';

export type EventCopy = 'database' | 'journal';

export type FindingReason =
  | ChainBreak['reason']
  | 'malformed'
  | 'revision-mismatch'
  | 'duplicate-in-journal'
  | 'differs-from-journal'
  | 'missing-in-database'
  | 'missing-in-journal';

/** One thing wrong with one event. */
export interface EventFinding {
  /** The event's place in its chain (from its id; for a gap, the missing seq). */
  seq: number;
  id: string;
  /** The event's kind, when some copy holds it. */
  kind?: string;
  reason: FindingReason;
  /** The copy that is wrong (for differs-from-journal: the database's, which differs from the journal's). */
  copy: EventCopy | 'both';
  detail: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface CopySummary {
  events: number;
  /** The event with the highest seq, if any. */
  head?: ChainHead;
}

export interface ChainReport {
  examId: string;
  applianceId: string;
  ok: boolean;
  database: CopySummary;
  journal: CopySummary;
  /** Both copies end at the same seq with the same hash. */
  headsAgree: boolean;
  firstBad?: EventFinding;
  /** Every finding in chain order, at most MAX_FINDINGS. */
  findings: EventFinding[];
  findingsOmitted: number;
}

export const MAX_FINDINGS = 50;

const EVENT_ID = /^event:([^:]+):([^:]+):(\d{10})$/;

/** Order of reasons at equal seq: the most telling first. */
const REASON_RANK: Record<FindingReason, number> = {
  'missing-in-database': 0,
  'missing-in-journal': 0,
  'wrong-chain': 1,
  'sequence-gap': 1,
  'hash-mismatch': 1,
  'prev-hash-mismatch': 1,
  malformed: 1,
  'revision-mismatch': 2,
  'duplicate-in-journal': 2,
  'differs-from-journal': 3,
};
const COPY_RANK: Record<EventFinding['copy'], number> = { both: 0, database: 1, journal: 2 };

/** A stored document as a copy holds it (the journal's record, the database's winning revision). */
export type Content = Record<string, unknown> & { _id: string };

/** One event as one copy holds it. */
export interface CopyEvent {
  id: string;
  /** Its place: the seq in its id, else its seq member. */
  position: number;
  content: Content;
  /** Set when the content has the members of an event. */
  event?: ExamEvent;
  /** Journal line it came from. */
  line?: number;
}

/** One chain as both copies hold it, with the findings made while reading them. */
export interface ChainCopies {
  examId: string;
  applianceId: string;
  database: Map<string, CopyEvent>;
  journal: Map<string, CopyEvent>;
  findings: EventFinding[];
}

const isWellFormed = (c: Content): boolean =>
  c.type === 'event' &&
  typeof c.examId === 'string' &&
  typeof c.applianceId === 'string' &&
  typeof c.kind === 'string' &&
  typeof c.hash === 'string' &&
  typeof c.prevHash === 'string' &&
  typeof c.seq === 'number' &&
  Number.isSafeInteger(c.seq) &&
  c.seq >= 1;

/** An `event:` document of a copy, with the chain its id (else its members) names. */
export function toCopyEvent(content: Content, line?: number): { chain: [string, string]; copy: CopyEvent } {
  const m = EVENT_ID.exec(content._id);
  const seqMember = typeof content.seq === 'number' && Number.isSafeInteger(content.seq) ? content.seq : 0;
  const chain: [string, string] = m
    ? [m[1]!, m[2]!]
    : [
        typeof content.examId === 'string' ? content.examId : '?',
        typeof content.applianceId === 'string' ? content.applianceId : '?',
      ];
  const copy: CopyEvent = {
    id: content._id,
    position: m ? Number(m[3]) : seqMember,
    content,
    ...(isWellFormed(content) ? { event: content as unknown as ExamEvent } : {}),
    ...(line === undefined ? {} : { line }),
  };
  return { chain, copy };
}

const kindOf = (e: CopyEvent | undefined): string | undefined =>
  typeof e?.content.kind === 'string' ? e.content.kind : undefined;

/** Canonical JSON of a document, to compare two copies' versions of it. */
export const canonical = (c: Content) => canonicalJson(c as unknown as Json);

/** The top-level members whose values differ between two versions of a document. */
function differingMembers(a: Content, b: Content): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson((a[k] ?? null) as Json) !== canonicalJson((b[k] ?? null) as Json));
}

/** A finding, with the event's kind from whichever copy holds it. */
export function finding(f: Omit<EventFinding, 'kind'>, ...holders: Array<CopyEvent | undefined>): EventFinding {
  const kind = holders.map(kindOf).find((k) => k !== undefined);
  return {
    seq: f.seq,
    id: f.id,
    ...(kind === undefined ? {} : { kind }),
    reason: f.reason,
    copy: f.copy,
    detail: f.detail,
  };
}

/** Runs verifyChain over one copy and turns its break into a finding. */
function chainFindings(chain: ChainCopies, copy: EventCopy): EventFinding[] {
  const mine = chain[copy];
  const other = chain[copy === 'database' ? 'journal' : 'database'];
  const out: EventFinding[] = [];
  const events: ExamEvent[] = [];
  for (const e of mine.values()) {
    if (e.event) events.push(e.event);
    else
      out.push(
        finding(
          {
            seq: e.position,
            id: e.id,
            reason: 'malformed',
            copy,
            detail:
              'not a well-formed event (type, exam, appliance, seq, kind, hash or prevHash missing or of the wrong type)',
          },
          e,
        ),
      );
  }
  const brk = verifyChain(events);
  if (!brk) return out;
  if (brk.reason === 'sequence-gap') {
    // verifyChain names the event after the gap; the bad event is the missing one.
    const id = eventDocId(chain.examId, chain.applianceId, brk.seq);
    const detail =
      `seq ${brk.seq} is missing from the ${copy}` + (brk.id === id ? '' : ` (the next event there is ${brk.id})`);
    out.push(finding({ seq: brk.seq, id, reason: brk.reason, copy, detail }, mine.get(id), other.get(id)));
    return out;
  }
  const at = mine.get(brk.id);
  const e = at?.event;
  let detail: string;
  switch (brk.reason) {
    case 'hash-mismatch':
      detail = 'its hash is not the SHA-256 of its content (the event was changed after it was written)';
      break;
    case 'prev-hash-mismatch':
      detail = `its prevHash is not the hash of event seq ${brk.seq - 1} (an earlier event was replaced)`;
      break;
    case 'wrong-chain':
      detail =
        e && e._id !== eventDocId(e.examId, e.applianceId, e.seq)
          ? `its id does not match its members (exam ${e.examId}, appliance ${e.applianceId}, seq ${e.seq})`
          : `it names exam ${e?.examId ?? '?'} and appliance ${e?.applianceId ?? '?'}, not this chain's`;
      break;
  }
  out.push(finding({ seq: brk.seq, id: brk.id, reason: brk.reason, copy, detail }, at, other.get(brk.id)));
  return out;
}

/** Events present in one copy only, and events whose content differs. */
function comparisonFindings(chain: ChainCopies): EventFinding[] {
  const out: EventFinding[] = [];
  for (const [id, db] of chain.database) {
    const j = chain.journal.get(id);
    if (!j) {
      out.push(
        finding(
          {
            seq: db.position,
            id,
            reason: 'missing-in-journal',
            copy: 'journal',
            detail: 'in the database but not in the journal',
          },
          db,
        ),
      );
    } else if (canonical(db.content) !== canonical(j.content)) {
      const members = differingMembers(db.content, j.content);
      out.push(
        finding(
          {
            seq: db.position,
            id,
            reason: 'differs-from-journal',
            copy: 'database',
            detail: `the database copy differs from the journal's (line ${j.line ?? '?'}) in ${members.join(', ')}`,
          },
          db,
          j,
        ),
      );
    }
  }
  for (const [id, j] of chain.journal) {
    if (!chain.database.has(id)) {
      out.push(
        finding(
          {
            seq: j.position,
            id,
            reason: 'missing-in-database',
            copy: 'database',
            detail: `in the journal (line ${j.line ?? '?'}) but not in the database`,
          },
          j,
        ),
      );
    }
  }
  return out;
}

/** The same break found in both copies is one finding, in `both`. */
function mergeBothCopies(findings: EventFinding[]): EventFinding[] {
  const out: EventFinding[] = [];
  for (const f of findings) {
    const twin = out.find(
      (o) => o.seq === f.seq && o.id === f.id && o.reason === f.reason && o.copy !== f.copy && o.copy !== 'both',
    );
    if (twin && REASON_RANK[f.reason] === 1) twin.copy = 'both';
    else out.push(f);
  }
  return out;
}

function summary(events: Map<string, CopyEvent>): CopySummary {
  let head: ChainHead | undefined;
  for (const { event } of events.values()) {
    if (event && (!head || event.seq > head.seq)) head = { seq: event.seq, hash: event.hash };
  }
  return { events: events.size, ...(head ? { head } : {}) };
}

/** Every finding of one chain, in order, the first bad event and both copies' heads. */
export function chainReport(chain: ChainCopies): ChainReport {
  const findings = mergeBothCopies([
    ...chainFindings(chain, 'database'),
    ...chainFindings(chain, 'journal'),
    ...chain.findings,
    ...comparisonFindings(chain),
  ]).sort(
    (a, b) =>
      a.seq - b.seq ||
      REASON_RANK[a.reason] - REASON_RANK[b.reason] ||
      COPY_RANK[a.copy] - COPY_RANK[b.copy] ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const database = summary(chain.database);
  const journal = summary(chain.journal);
  const headsAgree = database.head?.seq === journal.head?.seq && database.head?.hash === journal.head?.hash;
  const firstBad = findings[0];
  return {
    examId: chain.examId,
    applianceId: chain.applianceId,
    ok: firstBad === undefined,
    database,
    journal,
    headsAgree,
    ...(firstBad ? { firstBad } : {}),
    findings: findings.slice(0, MAX_FINDINGS),
    findingsOmitted: Math.max(0, findings.length - MAX_FINDINGS),
  };
}
